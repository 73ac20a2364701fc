'use strict';
// Device registration with the official device SDK (X.509 attestation), over HTTP or MQTT.
const { ProvisioningDeviceClient } = require('azure-iot-provisioning-device');
const { Http } = require('azure-iot-provisioning-device-http');
const { Mqtt, MqttWs } = require('azure-iot-provisioning-device-mqtt');
const { X509Security } = require('azure-iot-security-x509');
const { endpoints } = require('./env');
const pki = require('./pki');

/**
 * Registers `registrationId` presenting `leaf` (plus the PEM of `chain`, the certificates the device sends after its
 * leaf), via 'http' (host = deviceProvisioningHost, port 443), 'mqtt' (host = mqttHost, "host:port") or 'mqttws'
 * (MQTT over WebSockets: wss://deviceProvisioningHost:443/$iothub/websocket).
 * Resolves with the registrationState the SDK returns.
 */
async function register({ transport, idScope, registrationId, leaf, chain = [pki.hierarchy.intA()] }) {
  const e = endpoints();
  const host = transport === 'mqtt' ? e.mqttHost : e.deviceProvisioningHost;
  const cert = [leaf.certPem, ...chain.map((c) => c.certPem)].join('');
  const security = new X509Security(registrationId, { cert, key: leaf.keyPem });
  const transports = { mqtt: () => new Mqtt(), mqttws: () => new MqttWs(), http: () => new Http() };
  const client = ProvisioningDeviceClient.create(host, idScope, transports[transport](), security);
  return client.register();
}

/** HTTP status carried by a device SDK error (HTTP: err.response.statusCode; MQTT: none, only the error class). */
function deviceStatus(err) {
  return err?.response?.statusCode ?? err?.statusCode;
}

module.exports = { register, deviceStatus };

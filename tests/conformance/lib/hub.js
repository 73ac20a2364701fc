'use strict';
// The emulated IoT hub reached with the official SDKs, offline: the device SDK (azure-iot-device + -mqtt) connects to
// the hub host name DPS assigned through an X509AuthenticationProvider whose gatewayHostName is the emulator's MQTT
// host ("host:port"; the user name keeps the hub host name); the service SDK (azure-iothub) gets the emulator's
// HTTPS host as `host` and a SAS whose sr is the hub host name (docs/iothub-data-plane.md §5).
const { Client: DeviceClient, X509AuthenticationProvider } = require('azure-iot-device');
const { Mqtt, MqttWs } = require('azure-iot-device-mqtt');
const { Registry, Client: ServiceClient, Amqp, SharedAccessSignature } = require('azure-iothub');
// The service Client takes its REST client as a constructor argument; azure-iothub ships it here.
const { RestApiClient } = require('azure-iothub/dist/common-http/rest_api_client');
const { endpoints, rawRequest } = require('./env');
const fx = require('./fixture');

/**
 * A device client for `deviceId` on `hubHost`, presenting `leaf` plus `chain` in TLS; not opened yet. MQTT goes to
 * mqttHost ("host:port"); MQTT over WebSockets ('mqttws') to wss://serviceHost:443/$iothub/websocket.
 */
function deviceClient({ hubHost, deviceId, leaf, chain = [] }, transport = 'mqtt') {
  const cert = [leaf.certPem, ...chain.map((c) => c.certPem)].join('');
  const gatewayHostName = transport === 'mqttws' ? endpoints().serviceHost : endpoints().mqttHost;
  const provider = new X509AuthenticationProvider({ host: hubHost, deviceId, gatewayHostName, x509: { cert, key: leaf.keyPem } });
  return DeviceClient.fromAuthenticationProvider(provider, transport === 'mqttws' ? MqttWs : Mqtt);
}

/** The hub owner policy's SAS for `hubHost` (sr = the hub host name, as Azure's). */
async function ownerSas(hubHost) {
  const key = /SharedAccessKey=([^;]+)/.exec(await fx.hubOwnerConnectionString())[1];
  return SharedAccessSignature.create(hubHost, 'iothubowner', key, Math.floor(Date.now() / 1000) + 3600).toString();
}

/** azure-iothub's config for the emulator: HTTPS to serviceHost (port 443), signed for the hub host name. */
async function serviceConfig(hubHost) {
  return { host: endpoints().serviceHost, sharedAccessSignature: await ownerSas(hubHost), keyName: 'iothubowner' };
}

async function registry(hubHost) {
  return new Registry(await serviceConfig(hubHost));
}

/**
 * A service Client: direct methods over HTTPS to serviceHost; cloud-to-device (open/send) over AMQP to amqpHost
 * ("host:port": the AMQP transport connects to amqps://<host>, and a port in it is honoured), the same SAS.
 */
async function serviceClient(hubHost) {
  const config = await serviceConfig(hubHost);
  const amqpHost = endpoints().amqpHost;
  if (!amqpHost) throw new Error('endpoints.json has no amqpHost: start the emulator with --amqp-port');
  return new ServiceClient(new Amqp({ ...config, host: amqpHost }), new RestApiClient(config, 'azure-iothub/1.16.6'));
}

/** Our HTTP API (not Azure's): a cloud-to-device message, or the telemetry a device sent. */
async function hubRequest(hubHost, method, path, options = {}) {
  const sas = await ownerSas(hubHost);
  return rawRequest(method, `https://${endpoints().serviceHost}${path}`, { ...options, headers: { authorization: sas, ...(options.headers || {}) } });
}

module.exports = { deviceClient, registry, serviceClient, hubRequest };

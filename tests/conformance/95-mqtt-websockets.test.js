'use strict';
// MQTT over WebSockets (wss://<host>:443/$iothub/websocket, subprotocol mqtt), the transport for networks that only
// let 443 out: a device registers with DPS through azure-iot-provisioning-device-mqtt's MqttWs and connects to its
// hub through azure-iot-device-mqtt's MqttWs, both with its X.509 certificate.
const test = require('node:test');
const assert = require('node:assert/strict');
const { Message } = require('azure-iot-device');
const { endpoints, rawRequest } = require('./lib/env');
const fx = require('./lib/fixture');
const pki = require('./lib/pki');
const { register } = require('./lib/device');
const hub = require('./lib/hub');

const tag = () => pki.tag(pki.hierarchy.rootA());

test('MQTT over WebSockets: the path refuses a request without the mqtt subprotocol (400)', async () => {
  const res = await rawRequest('GET', `https://${endpoints().serviceHost}/$iothub/websocket`);
  assert.equal(res.status, 400, res.body);
});

test('MQTT over WebSockets: a device registers with DPS and then sends telemetry to its hub over wss on 443', async (t) => {
  const [dps, hubResource] = [await fx.ensureDps(), await fx.ensureHub(), await fx.ensureMainGroup()];
  const id = `conf-ws-${tag()}`;
  const leaf = pki.deviceLeaf(id);
  const result = await register({ transport: 'mqttws', idScope: dps.properties.idScope, registrationId: id, leaf });
  assert.equal(result.status, 'assigned');
  assert.equal(result.assignedHub, hubResource.properties.hostName);

  const device = { hubHost: result.assignedHub, deviceId: result.deviceId, leaf, chain: [pki.hierarchy.intA()] };
  const client = hub.deviceClient(device, 'mqttws');
  t.after(() => client.close());
  await client.open();
  await client.sendEvent(new Message(JSON.stringify({ temperature: 12.5 })));
  const twin = await client.getTwin();
  assert.equal(twin.properties.desired.humidity, 92);

  const events = await hub.hubRequest(device.hubHost, 'GET', `/devices/${device.deviceId}/messages/events?api-version=2021-04-12`);
  assert.equal(events.status, 200, events.body);
  assert.equal(events.json.at(-1)?.body?.temperature, 12.5, events.body);
});

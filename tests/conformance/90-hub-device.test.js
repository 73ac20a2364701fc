'use strict';
// A device provisioned by DPS connects to its IoT hub with the official device SDK (azure-iot-device 1.18.4 +
// azure-iot-device-mqtt 1.16.4, X.509) and uses the data plane, while the official service SDK (azure-iothub
// 1.16.6) reads and updates its twin and invokes a direct method over HTTPS and sends cloud-to-device messages over
// AMQP (CBS put-token); the emulator's own HTTP endpoints send a message and read the telemetry too.
const test = require('node:test');
const assert = require('node:assert/strict');
const { Message } = require('azure-iot-device');
const fx = require('./lib/fixture');
const pki = require('./lib/pki');
const { register } = require('./lib/device');
const hub = require('./lib/hub');

const tag = () => pki.tag(pki.hierarchy.rootA());

/** Provisions `id` over MQTT through the main group (root A → intermediate A) and returns what the device needs. */
async function provision(id) {
  const [dps] = [await fx.ensureDps(), await fx.ensureHub(), await fx.ensureMainGroup()];
  const leaf = pki.deviceLeaf(id);
  const result = await register({ transport: 'mqtt', idScope: dps.properties.idScope, registrationId: id, leaf });
  assert.equal(result.status, 'assigned');
  return { hubHost: result.assignedHub, deviceId: result.deviceId, leaf, chain: [pki.hierarchy.intA()] };
}

/** Resolves with the first value `poll` returns that `done` accepts; polls the emulator's state, at most 15 s. */
async function until(poll, done, what) {
  const deadline = Date.now() + 15000;
  for (;;) {
    const value = await poll();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(value)?.slice(0, 400)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const state = {};

test('hub device: provisioned over DPS, the device connects to its hub and sends telemetry the service reads', async (t) => {
  const device = await provision(`conf-hub-${tag()}`);
  const client = hub.deviceClient(device);
  t.after(() => client.close());
  await client.open();
  const message = new Message(JSON.stringify({ temperature: 11.5, humidity: 94 }));
  message.contentType = 'application/json';
  message.contentEncoding = 'utf-8';
  message.properties.add('room', 'aging cellar');
  await client.sendEvent(message);

  const events = await until(() => hub.hubRequest(device.hubHost, 'GET', `/devices/${device.deviceId}/messages/events?api-version=2021-04-12`),
    (res) => res.status !== 200 || res.json.length > 0, 'telemetry read');
  assert.equal(events.status, 200, events.body);
  assert.equal(events.json[0].body.temperature, 11.5);
  assert.equal(events.json[0].properties.room, 'aging cellar');
  assert.equal(events.json[0].systemProperties['$.ct'], 'application/json');
  const { responseBody: identity } = await (await hub.registry(device.hubHost)).get(device.deviceId);
  assert.equal(identity.connectionState, 'Connected');
  state.device = device;
});

test('hub device: twin read and reported patch by the device, desired update by azure-iothub arrives at the device', async (t) => {
  assert.ok(state.device, 'needs the connected device of the previous test');
  const device = state.device;
  const client = hub.deviceClient(device);
  t.after(() => client.close());
  await client.open();
  const twin = await client.getTwin();
  assert.equal(twin.properties.desired.humidity, 92, 'the enrollment group\'s initial twin');
  // Listening makes the SDK subscribe to desired updates; the reported patch after it is answered on the same
  // connection, so once it is done the hub has the subscription (as on Azure, an update before it is not pushed).
  const desiredSeen = new Promise((resolve) => twin.on('properties.desired', (delta) => { if (delta.humidity === 90) resolve(delta); }));
  await new Promise((resolve, reject) => twin.properties.reported.update({ firmware: '1.2.0' }, (err) => (err ? reject(err) : resolve())));

  const registry = await hub.registry(device.hubHost);
  t.diagnostic('reading the twin with azure-iothub');
  const { responseBody: serviceTwin } = await registry.getTwin(device.deviceId);
  t.diagnostic(`twin etag ${serviceTwin.etag}, desired $version ${serviceTwin.properties.desired.$version}`);
  assert.equal(serviceTwin.properties.reported.firmware, '1.2.0');
  await registry.updateTwin(device.deviceId, { properties: { desired: { humidity: 90 } } }, serviceTwin.etag);
  t.diagnostic('desired humidity 90 sent; waiting for the device to see it');
  const delta = await desiredSeen;
  assert.equal(delta.$version, serviceTwin.properties.desired.$version + 1);

  const stale = await fx.rejection(registry.updateTwin(device.deviceId, { properties: { desired: { humidity: 80 } } }, serviceTwin.etag), 'update with a stale etag');
  assert.equal(fx.statusOf(stale), 412, fx.describe(stale));
});

test('hub device: azure-iothub invokes a direct method the device answers; C2D over the emulator\'s HTTP endpoint arrives', async (t) => {
  assert.ok(state.device, 'needs the connected device of the first test');
  const device = state.device;
  const client = hub.deviceClient(device);
  t.after(() => client.close());
  await client.open();
  client.onDeviceMethod('setFan', (request, response) => response.send(200, { fan: 'on', speed: request.payload.speed }, () => {}));
  const received = new Promise((resolve) => client.on('message', (msg) => resolve(msg)));

  const service = await hub.serviceClient(device.hubHost);
  const invoke = () => service.invokeDeviceMethod(device.deviceId, { methodName: 'setFan', payload: { speed: 3 }, responseTimeoutInSeconds: 15 })
    .then((r) => r, (err) => err);
  // The SDK subscribes to methods after onDeviceMethod returns; until then the hub answers 404103 (device not online).
  const outcome = await until(invoke, (r) => !(r instanceof Error && fx.statusOf(r) === 404), 'direct method');
  assert.ok(!(outcome instanceof Error), fx.describe(outcome));
  assert.equal(outcome.result.status, 200);
  assert.deepEqual(outcome.result.payload, { fan: 'on', speed: 3 });

  const sent = await hub.hubRequest(device.hubHost, 'POST', `/devices/${device.deviceId}/messages/deviceBound?api-version=2021-04-12`,
    { body: 'turn the wheels', headers: { 'content-type': 'text/plain', 'iothub-messageid': 'c2d-1', 'iothub-app-shelf': 'A/3' } });
  assert.equal(sent.status, 202, sent.body);
  const msg = await received;
  assert.equal(msg.data.toString(), 'turn the wheels');
  assert.equal(msg.messageId, 'c2d-1');
  assert.equal(msg.properties.getValue('shelf'), 'A/3');
});

test('hub device: azure-iothub Client.send (AMQP, CBS put-token) delivers a cloud-to-device message to the device', async (t) => {
  assert.ok(state.device, 'needs the connected device of the first test');
  const device = state.device;
  const client = hub.deviceClient(device);
  t.after(() => client.close());
  await client.open();
  const received = new Promise((resolve) => client.on('message', (msg) => resolve(msg)));
  const service = await hub.serviceClient(device.hubHost);
  t.after(() => service.close());
  await service.open();
  const message = new Message('dry the rind');
  message.messageId = 'c2d-amqp-1';
  message.properties.add('shelf', 'B/1');
  await service.send(device.deviceId, message);
  const msg = await received;
  assert.equal(msg.data.toString(), 'dry the rind');
  assert.equal(msg.messageId, 'c2d-amqp-1');
  assert.equal(msg.properties.getValue('shelf'), 'B/1');
});

test('hub device: a method for a device that is not connected is 404 (404103)', async () => {
  const device = await provision(`conf-hub-offline-${tag()}`);
  const service = await hub.serviceClient(device.hubHost);
  const err = await fx.rejection(service.invokeDeviceMethod(device.deviceId, { methodName: 'setFan', payload: {}, responseTimeoutInSeconds: 5 }), 'method to an offline device');
  assert.equal(fx.statusOf(err), 404, fx.describe(err));
  assert.match(fx.describe(err), /404103/);
});

test('hub device refusals: another certificate with the same CN, and a disabled device, are not authorized', async (t) => {
  const device = await provision(`conf-hub-refused-${tag()}`);
  const impostor = pki.make(`impostor-${device.deviceId}`, { cn: device.deviceId, kind: 'device', issuer: pki.hierarchy.intA() });
  const wrong = hub.deviceClient({ ...device, leaf: impostor });
  t.after(() => wrong.close());
  const wrongErr = await fx.rejection(wrong.open(), 'connect with another certificate');
  assert.match(`${wrongErr.name} ${wrongErr.message}`, /Unauthorized|Not authorized/i, fx.describe(wrongErr));

  const registry = await hub.registry(device.hubHost);
  const { responseBody: identity } = await registry.get(device.deviceId);
  identity.status = 'disabled';
  await registry.update(identity);
  const disabled = hub.deviceClient(device);
  t.after(() => disabled.close());
  const disabledErr = await fx.rejection(disabled.open(), 'connect while disabled');
  assert.match(`${disabledErr.name} ${disabledErr.message}`, /Unauthorized|Not authorized/i, fx.describe(disabledErr));

  identity.status = 'enabled';
  await registry.update(identity);
  const enabled = hub.deviceClient(device);
  t.after(() => enabled.close());
  await enabled.open();
});

'use strict';
// Device registration over MQTT (azure-iot-provisioning-device-mqtt 1.8.1; host = mqttHost "host:port",
// which the transport turns into mqtts://host:port).
const test = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const { endpoints } = require('./lib/env');
const fx = require('./lib/fixture');
const pki = require('./lib/pki');
const { register } = require('./lib/device');

const tag = () => pki.tag(pki.hierarchy.rootA());
const regId = (what) => `conf-mqtt-${what}-${tag()}`;

async function seed() {
  const [dps, hub, group] = [await fx.ensureDps(), await fx.ensureHub(), await fx.ensureMainGroup()];
  return { idScope: dps.properties.idScope, hubHost: hub.properties.hostName, group };
}

test('device MQTT: the MQTT endpoint accepts TCP connections at mqttHost', async () => {
  const [host, port] = [endpoints().mqttHost.replace(/:\d+$/, ''), Number(/:(\d+)$/.exec(endpoints().mqttHost)[1])];
  assert.ok(port > 0, `mqttHost ${endpoints().mqttHost} has a real port`);
  await new Promise((resolve, reject) => {
    const s = net.connect({ host, port }, () => { s.destroy(); resolve(); });
    s.on('error', reject);
  });
});

const state = {};

test('device MQTT: X.509 device (leaf + intermediate, group on root A) registers; assignedHub = linked hub, deviceId = registration id', async () => {
  const { idScope, hubHost, group } = await seed();
  const id = regId('ok');
  const result = await register({ transport: 'mqtt', idScope, registrationId: id, leaf: pki.deviceLeaf(id) });
  assert.equal(result.registrationId, id);
  assert.equal(result.assignedHub, hubHost);
  assert.equal(result.deviceId, id);
  assert.equal(result.status, 'assigned');
  assert.equal(result.x509?.enrollmentGroupId, group.enrollmentGroupId);
  const { responseBody: s } = await (await fx.serviceClient()).getDeviceRegistrationState(id);
  assert.equal(s.status, 'assigned');
  assert.equal(s.assignedHub, hubHost);
  state.registered = id;
});

test('device MQTT: CN mismatch is refused', async (t) => {
  assert.ok(state.registered, 'needs the successful MQTT registration of the previous test (the endpoint must work before its refusals count)');
  const { idScope } = await seed();
  const leaf = pki.deviceLeaf(regId('cn-a'));
  const err = await fx.rejection(register({ transport: 'mqtt', idScope, registrationId: regId('cn-b'), leaf }), 'CN mismatch over MQTT');
  t.diagnostic(`CN mismatch over MQTT: ${err.name}: ${err.message}`);
  assert.ok(err instanceof Error);
  assert.doesNotMatch(String(err.message), /ECONNREFUSED|ENOTFOUND|timed? ?out/i, `refused by DPS, not a transport failure: ${fx.describe(err)}`);
});

test('device MQTT: a device from a CA never uploaded (root B → intermediate B) is refused', async (t) => {
  assert.ok(state.registered, 'needs the successful MQTT registration (the endpoint must work before its refusals count)');
  const { idScope } = await seed();
  const id = regId('unknown-ca');
  const leaf = pki.deviceLeaf(id, pki.hierarchy.intB());
  const err = await fx.rejection(register({ transport: 'mqtt', idScope, registrationId: id, leaf, chain: [pki.hierarchy.intB()] }), 'unknown CA over MQTT');
  t.diagnostic(`unknown CA over MQTT: ${err.name}: ${err.message}`);
  assert.doesNotMatch(String(err.message), /ECONNREFUSED|ENOTFOUND|timed? ?out/i, `refused by DPS, not a transport failure: ${fx.describe(err)}`);
});

'use strict';
// Device registration over HTTPS (azure-iot-provisioning-device 1.9.1 + -http 1.9.1 + azure-iot-security-x509 1.7.12):
// the device presents leaf + intermediate A; the enrollment group is on root A (verified by proof of possession).
const test = require('node:test');
const assert = require('node:assert/strict');
const { endpoints } = require('./lib/env');
const fx = require('./lib/fixture');
const pki = require('./lib/pki');
const { register, deviceStatus } = require('./lib/device');

const tag = () => pki.tag(pki.hierarchy.rootA());
const regId = (what) => `conf-http-${what}-${tag()}`;
const disabledCaName = () => `conf-disabled-ca-d-${pki.tag(pki.hierarchy.rootD())}`;
const disabledGroupId = () => `conf-disabled-group-${pki.tag(pki.hierarchy.rootD())}`;

async function seed() {
  const [dps, hub, group] = [await fx.ensureDps(), await fx.ensureHub(), await fx.ensureMainGroup()];
  return { idScope: dps.properties.idScope, hubHost: hub.properties.hostName, group };
}

const state = {};

/**
 * The registration must be refused by DPS with an HTTP 4xx answer carrying a DPS error body
 * ({errorCode, trackingId, message, ...}) — not a TLS failure, not a success.
 */
function assertRefused(err, what, t) {
  const status = deviceStatus(err);
  t?.diagnostic(`${what}: refused with HTTP ${status}: ${err.responseBody ?? err.message}`);
  assert.ok(status >= 400 && status < 500, `${what}: expected DPS to refuse with a 4xx status, got ${fx.describe(err)}`);
  let body;
  try { body = JSON.parse(err.responseBody); } catch { body = undefined; }
  assert.equal(typeof body?.errorCode, 'number', `${what}: DPS error body {errorCode:int, trackingId, message}, got ${err.responseBody}`);
}

/** The failure cases only mean something once a good device registers through the same endpoint. */
function needWorkingRegistration() {
  assert.ok(state.registered, 'needs the successful registration of the first test (the device endpoint must work before its refusals count)');
}

test('device HTTP: X.509 device (leaf + intermediate, group on root A) registers; assignedHub = linked hub, deviceId = registration id', async (t) => {
  const { idScope, hubHost, group } = await seed();
  const id = regId('ok');
  const result = await register({ transport: 'http', idScope, registrationId: id, leaf: pki.deviceLeaf(id) });
  assert.equal(result.registrationId, id);
  assert.equal(result.assignedHub, hubHost);
  assert.equal(result.deviceId, id);
  assert.equal(result.status, 'assigned');
  assert.equal(result.x509?.enrollmentGroupId, group.enrollmentGroupId, `x509.enrollmentGroupId in ${JSON.stringify(result)}`);
  state.registered = id;
});

test('device HTTP: after registration, the service SDK getDeviceRegistrationState shows the assignment', async (t) => {
  needWorkingRegistration();
  const { hubHost } = await seed();
  const svc = await fx.serviceClient();
  const { responseBody: s } = await svc.getDeviceRegistrationState(state.registered);
  assert.equal(s.registrationId, state.registered);
  assert.equal(s.status, 'assigned');
  assert.equal(s.assignedHub, hubHost);
  assert.equal(s.deviceId, state.registered);
  assert.ok(s.etag, 'etag is set');
  assert.ok(!isNaN(Date.parse(s.createdDateTimeUtc)), `createdDateTimeUtc "${s.createdDateTimeUtc}"`);
});

test('device HTTP: the group registration-state query lists the registered device', async (t) => {
  needWorkingRegistration();
  const { group } = await seed();
  const svc = await fx.serviceClient();
  const { responseBody: page } = await svc.createEnrollmentGroupDeviceRegistrationStateQuery({ query: '*' }, group.enrollmentGroupId).next();
  assert.ok(Array.isArray(page), JSON.stringify(page));
  assert.ok(page.some((r) => r.registrationId === state.registered), `registrations of the group: ${JSON.stringify(page.map((r) => r.registrationId))}`);
});

test('device HTTP: registering again (same device) succeeds and keeps the assignment', async (t) => {
  needWorkingRegistration();
  const { idScope, hubHost } = await seed();
  const result = await register({ transport: 'http', idScope, registrationId: state.registered, leaf: pki.deviceLeaf(state.registered) });
  assert.equal(result.assignedHub, hubHost);
  assert.equal(result.deviceId, state.registered);
});

test('device HTTP: deleteDeviceRegistrationState removes the record (404 afterwards); the device can register again', async (t) => {
  needWorkingRegistration();
  const { idScope, hubHost } = await seed();
  const svc = await fx.serviceClient();
  await svc.deleteDeviceRegistrationState(state.registered);
  const err = await fx.rejection(svc.getDeviceRegistrationState(state.registered), 'get deleted registration state');
  assert.equal(fx.statusOf(err), 404, fx.describe(err));
  const result = await register({ transport: 'http', idScope, registrationId: state.registered, leaf: pki.deviceLeaf(state.registered) });
  assert.equal(result.assignedHub, hubHost);
  const { responseBody: s } = await svc.getDeviceRegistrationState(state.registered);
  assert.equal(s.status, 'assigned');
});

test('device HTTP: an individual enrollment (x509 client certificate) is matched before the group; deviceId comes from it', async (t) => {
  needWorkingRegistration();
  const { idScope, hubHost } = await seed();
  const svc = await fx.serviceClient();
  const id = regId('individual');
  const leaf = pki.deviceLeaf(id);
  try { await svc.deleteIndividualEnrollment(id); } catch (err) { if (!fx.hasStatus(err, 404)) throw err; }
  await svc.createOrUpdateIndividualEnrollment({
    registrationId: id,
    deviceId: id + '-device',
    attestation: { type: 'x509', x509: { clientCertificates: { primary: { certificate: leaf.certPem } } } },
    iotHubs: [hubHost],
    allocationPolicy: 'hashed',
    capabilities: { iotEdge: false },
    provisioningStatus: 'enabled',
  });
  // The chain (leaf + intermediate A) also matches the enabled group on root A: the individual enrollment must win.
  const result = await register({ transport: 'http', idScope, registrationId: id, leaf });
  assert.equal(result.registrationId, id);
  assert.equal(result.deviceId, id + '-device', `deviceId from the individual enrollment: ${JSON.stringify(result)}`);
  assert.equal(result.assignedHub, hubHost);
  assert.equal(result.x509?.enrollmentGroupId, undefined, 'not assigned through a group');
  await svc.deleteIndividualEnrollment(id);
});

test('device HTTP: CN mismatch (registration id differs from the leaf CN) is refused', async (t) => {
  needWorkingRegistration();
  const { idScope } = await seed();
  const leaf = pki.deviceLeaf(regId('cn-a'));
  const err = await fx.rejection(register({ transport: 'http', idScope, registrationId: regId('cn-b'), leaf }), 'CN mismatch');
  assertRefused(err, 'CN mismatch', t);
});

test('device HTTP: a device from a CA never uploaded (root B → intermediate B) is refused', async (t) => {
  needWorkingRegistration();
  const { idScope } = await seed();
  const id = regId('unknown-ca');
  const leaf = pki.deviceLeaf(id, pki.hierarchy.intB());
  const err = await fx.rejection(register({ transport: 'http', idScope, registrationId: id, leaf, chain: [pki.hierarchy.intB()] }), 'unknown CA');
  assertRefused(err, 'unknown CA', t);
});

test('device HTTP: a device sending only its leaf (intermediate A missing, group on root A) is refused', async (t) => {
  needWorkingRegistration();
  const { idScope } = await seed();
  const id = regId('leaf-only');
  const err = await fx.rejection(register({ transport: 'http', idScope, registrationId: id, leaf: pki.deviceLeaf(id), chain: [] }), 'leaf only');
  assertRefused(err, 'leaf only', t);
});

test('device HTTP: a device of a group set to provisioningStatus disabled is refused (it registered while enabled)', async (t) => {
  const { idScope } = await seed();
  await fx.ensurePreverifiedCa(disabledCaName(), pki.hierarchy.rootD());
  await fx.putX509Group(disabledGroupId(), disabledCaName(), { provisioningStatus: 'enabled' });
  const id = `conf-http-disabled-${pki.tag(pki.hierarchy.rootD())}`;
  const leaf = pki.deviceLeaf(id, pki.hierarchy.rootD());
  const ok = await register({ transport: 'http', idScope, registrationId: id, leaf, chain: [] });
  assert.equal(ok.deviceId, id, 'registers while the group is enabled');

  const disabled = await fx.putX509Group(disabledGroupId(), disabledCaName(), { provisioningStatus: 'disabled' });
  assert.equal(disabled.provisioningStatus, 'disabled');
  const err = await fx.rejection(register({ transport: 'http', idScope, registrationId: id, leaf, chain: [] }), 'disabled group');
  const status = deviceStatus(err);
  t.diagnostic(`disabled group: refused with ${err.name}, HTTP ${status}: ${err.responseBody ?? err.message}`);
  const refusedByStatus = /status is disabled|disabled/i.test(err.message) || err.name === 'DeviceRegistrationFailedError';
  assert.ok((status >= 400 && status < 500) || refusedByStatus, `disabled group: expected a 4xx or a "disabled"/failed registration status, got ${fx.describe(err)}`);
});

test('device HTTP: a device under a CA that was uploaded but never verified is refused', async (t) => {
  needWorkingRegistration();
  const { idScope } = await seed();
  const ca = pki.hierarchy.rootE();
  const caName = `conf-unverified-ca-e-${pki.tag(ca)}`;
  const client = fx.dpsClient();
  const existing = await fx.getOrUndefined(client.dpsCertificate.get(caName, endpoints().resourceGroup, fx.names.dps()));
  if (!existing) await client.dpsCertificate.createOrUpdate(endpoints().resourceGroup, fx.names.dps(), caName, { properties: { certificate: Buffer.from(ca.certPem) } });
  let groupRefused;
  try {
    await fx.putX509Group(`conf-unverified-group-${pki.tag(ca)}`, caName);
  } catch (err) {
    groupRefused = err; // refusing the group itself is also Azure-like: the CA must be verified to be used
  }
  if (groupRefused) {
    t.diagnostic(`group on an unverified CA refused at creation: ${fx.describe(groupRefused)}`);
    const status = fx.statusOf(groupRefused);
    assert.ok(status >= 400 && status < 500, `a 4xx for the group on an unverified CA, got ${fx.describe(groupRefused)}`);
    return;
  }
  const id = `conf-http-unverified-${pki.tag(ca)}`;
  const err = await fx.rejection(register({ transport: 'http', idScope, registrationId: id, leaf: pki.deviceLeaf(id, ca), chain: [] }), 'unverified CA');
  assertRefused(err, 'unverified CA', t);
});

test('device HTTP: an unknown ID scope is refused', async (t) => {
  needWorkingRegistration();
  await seed();
  const id = regId('ok');
  const err = await fx.rejection(register({ transport: 'http', idScope: '0ne00000000', registrationId: id, leaf: pki.deviceLeaf(id) }), 'unknown ID scope');
  assertRefused(err, 'unknown ID scope', t);
});

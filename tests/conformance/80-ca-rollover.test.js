'use strict';
// CA rollover as the portal performs it, driven with the official SDKs (ARM certificates, the DPS service SDK for the
// enrollment group, the device SDK over HTTP and MQTT for registrations): the old generation (root R1 → intermediate)
// registers; the new root R2 is uploaded and verified; the group names R2 as its secondary CA (both generations
// register); then R2 becomes its only CA and R1 is deleted from the DPS (old devices are refused, new ones register).
// Then a rollover to R3 is cancelled the way the portal undoes one: R3 leaves the group and the DPS, R2 keeps working.
const test = require('node:test');
const assert = require('node:assert/strict');
const { endpoints } = require('./lib/env');
const fx = require('./lib/fixture');
const pki = require('./lib/pki');
const { register, deviceStatus } = require('./lib/device');

const oldRoot = () => pki.make('rolloverRootOld', { cn: 'CheeseCave Conformance Rollover Root 1', kind: 'root' });
const oldInt = () => pki.make('rolloverIntOld', { cn: 'CheeseCave Conformance Rollover Intermediate 1', kind: 'intermediate', issuer: oldRoot() });
const newRoot = () => pki.make('rolloverRootNew', { cn: 'CheeseCave Conformance Rollover Root 2', kind: 'root' });
const newInt = () => pki.make('rolloverIntNew', { cn: 'CheeseCave Conformance Rollover Intermediate 2', kind: 'intermediate', issuer: newRoot() });
const thirdRoot = () => pki.make('rolloverRootThird', { cn: 'CheeseCave Conformance Rollover Root 3', kind: 'root' });
const thirdInt = () => pki.make('rolloverIntThird', { cn: 'CheeseCave Conformance Rollover Intermediate 3', kind: 'intermediate', issuer: thirdRoot() });
const tag = () => pki.tag(oldRoot());
const oldName = () => `conf-rollover-r1-${tag()}`;
const newName = () => `conf-rollover-r2-${pki.tag(newRoot())}`;
const groupId = () => `conf-rollover-group-${tag()}`;
const oldDevice = () => `conf-rollover-old-${tag()}`;
const newDevice = () => `conf-rollover-new-${tag()}`;
const thirdName = () => `conf-rollover-r3-${pki.tag(thirdRoot())}`;
const thirdDevice = () => `conf-rollover-third-${tag()}`;

const state = {};

async function idScope() {
  return (await fx.ensureDps()).properties.idScope;
}

/** Uploads `ca` as `name` and proves possession of it (the portal's upload and one-click proof steps). */
async function uploadVerified(name, ca) {
  await fx.ensureDps();
  const client = fx.dpsClient();
  const rg = endpoints().resourceGroup;
  let cert = await fx.getOrUndefined(client.dpsCertificate.get(name, rg, fx.names.dps()));
  if (!cert) cert = await client.dpsCertificate.createOrUpdate(rg, fx.names.dps(), name, { properties: { certificate: Buffer.from(ca.certPem) } });
  if (!cert.properties?.isVerified) cert = await fx.provePossession(client, name, ca, cert.etag);
  assert.equal(cert.properties?.isVerified, true, `${name} verified`);
  return cert;
}

async function setGroupCas(primary, secondary) {
  const svc = await fx.serviceClient();
  const { responseBody: group } = await svc.getEnrollmentGroup(groupId());
  group.attestation = { type: 'x509', x509: { caReferences: secondary ? { primary, secondary } : { primary } } };
  return (await svc.createOrUpdateEnrollmentGroup(group)).responseBody;
}

async function registers(transport, id, leaf, chain) {
  const result = await register({ transport, idScope: await idScope(), registrationId: id, leaf, chain });
  assert.equal(result.status, 'assigned', `${transport} ${id}: ${JSON.stringify(result)}`);
  assert.equal(result.x509?.enrollmentGroupId, groupId());
  return result;
}

async function refused(transport, id, leaf, chain, what) {
  const err = await fx.rejection(register({ transport, idScope: await idScope(), registrationId: id, leaf, chain }), what);
  if (transport === 'http') {
    const status = deviceStatus(err);
    assert.ok(status >= 400 && status < 500, `${what}: expected a 4xx refusal, got ${fx.describe(err)}`);
  }
}

const oldLeaf = () => pki.deviceLeaf(oldDevice(), oldInt());
const newLeaf = () => pki.deviceLeaf(newDevice(), newInt());

test('CA rollover: before it, a device of the old generation registers through a group on root 1', async () => {
  await fx.ensureHub();
  await uploadVerified(oldName(), oldRoot());
  await fx.putX509Group(groupId(), oldName());
  await registers('http', oldDevice(), oldLeaf(), [oldInt()]);
  await refused('http', newDevice(), newLeaf(), [newInt()], 'a new-generation device before its CA is in the DPS');
  state.before = true;
});

test('CA rollover: with root 2 verified and named secondary, devices of both generations register (HTTP and MQTT)', async () => {
  assert.ok(state.before, 'needs the first test');
  await uploadVerified(newName(), newRoot());
  const group = await setGroupCas(oldName(), newName());
  assert.deepEqual(group.attestation.x509.caReferences, { primary: oldName(), secondary: newName() });
  await registers('http', oldDevice(), oldLeaf(), [oldInt()]);
  await registers('http', newDevice(), newLeaf(), [newInt()]);
  await registers('mqtt', oldDevice(), oldLeaf(), [oldInt()]);
  await registers('mqtt', newDevice(), newLeaf(), [newInt()]);
  state.overlap = true;
});

test('CA rollover: after root 1 leaves the group and the DPS, its devices are refused and the new ones register', async () => {
  assert.ok(state.overlap, 'needs the overlap test');
  const group = await setGroupCas(newName());
  assert.deepEqual(group.attestation.x509.caReferences, { primary: newName() });
  const client = fx.dpsClient();
  const rg = endpoints().resourceGroup;
  const old = await client.dpsCertificate.get(oldName(), rg, fx.names.dps());
  await client.dpsCertificate.delete(rg, fx.names.dps(), oldName(), old.etag);
  await refused('http', oldDevice(), oldLeaf(), [oldInt()], 'an old-generation device after retirement (HTTP)');
  await refused('mqtt', oldDevice(), oldLeaf(), [oldInt()], 'an old-generation device after retirement (MQTT)');
  await registers('http', newDevice(), newLeaf(), [newInt()]);
  await registers('mqtt', newDevice(), newLeaf(), [newInt()]);
  state.retired = true;
});

test('CA rollover cancelled: root 3 taken out of the group and the DPS again; its devices are refused, root 2 devices register', async () => {
  assert.ok(state.retired, 'needs the retirement test');
  const thirdLeaf = pki.deviceLeaf(thirdDevice(), thirdInt());
  await uploadVerified(thirdName(), thirdRoot());
  await setGroupCas(newName(), thirdName());
  await registers('http', thirdDevice(), thirdLeaf, [thirdInt()]);

  // Cancel: the group trusts root 2 alone again, then root 3's DPS certificate is deleted.
  const group = await setGroupCas(newName());
  assert.deepEqual(group.attestation.x509.caReferences, { primary: newName() });
  const client = fx.dpsClient();
  const rg = endpoints().resourceGroup;
  const third = await client.dpsCertificate.get(thirdName(), rg, fx.names.dps());
  await client.dpsCertificate.delete(rg, fx.names.dps(), thirdName(), third.etag);
  await refused('http', thirdDevice(), thirdLeaf, [thirdInt()], 'a device of the cancelled generation (HTTP)');
  await refused('mqtt', thirdDevice(), thirdLeaf, [thirdInt()], 'a device of the cancelled generation (MQTT)');
  await registers('http', newDevice(), newLeaf(), [newInt()]);
  await registers('mqtt', newDevice(), newLeaf(), [newInt()]);
});

'use strict';
// Revocation and renewal as the portal does them, judged by the official device SDK over HTTPS and MQTT:
// a disabled individual enrollment (x509 clientCertificates = the device's certificate) shuts one device of a group
// out while its sibling still registers; deleting it lets the device back in; a renewed certificate (new key, same
// registration id, same CA) registers through the group and lands on the same hub.
const test = require('node:test');
const assert = require('node:assert/strict');
const fx = require('./lib/fixture');
const pki = require('./lib/pki');
const { register } = require('./lib/device');

const tag = () => pki.tag(pki.hierarchy.rootA());

async function seed() {
  const [dps, hub] = [await fx.ensureDps(), await fx.ensureHub(), await fx.ensureMainGroup()];
  return { idScope: dps.properties.idScope, hubHost: hub.properties.hostName };
}

async function revoke(svc, id, leaf) {
  try { await svc.deleteIndividualEnrollment(id); } catch (err) { if (!fx.hasStatus(err, 404)) throw err; }
  await svc.createOrUpdateIndividualEnrollment({
    registrationId: id,
    attestation: { type: 'x509', x509: { clientCertificates: { primary: { certificate: leaf.certPem } } } },
    capabilities: { iotEdge: false },
    provisioningStatus: 'disabled',
  });
}

for (const transport of ['http', 'mqtt']) {
  test(`revocation over ${transport}: the revoked device is refused, its sibling registers, restored it registers again`, async () => {
    const { idScope, hubHost } = await seed();
    const svc = await fx.serviceClient();
    const revokedId = `conf-revoked-${transport}-${tag()}`;
    const siblingId = `conf-sibling-${transport}-${tag()}`;
    const revokedLeaf = pki.deviceLeaf(revokedId);
    const first = await register({ transport, idScope, registrationId: revokedId, leaf: revokedLeaf });
    assert.equal(first.assignedHub, hubHost, 'registers before it is revoked');

    await revoke(svc, revokedId, revokedLeaf);
    const err = await fx.rejection(register({ transport, idScope, registrationId: revokedId, leaf: revokedLeaf }), `revoked device over ${transport}`);
    assert.doesNotMatch(String(err.message), /ECONNREFUSED|ENOTFOUND|timed? ?out/i, `refused by DPS, not a transport failure: ${fx.describe(err)}`);
    const { responseBody: state } = await svc.getDeviceRegistrationState(revokedId);
    assert.equal(state.status, 'disabled', `the registration state records the refusal: ${JSON.stringify(state)}`);

    const sibling = await register({ transport, idScope, registrationId: siblingId, leaf: pki.deviceLeaf(siblingId) });
    assert.equal(sibling.assignedHub, hubHost, 'the group still admits the other devices');

    await svc.deleteIndividualEnrollment(revokedId);
    const back = await register({ transport, idScope, registrationId: revokedId, leaf: revokedLeaf });
    assert.equal(back.status, 'assigned');
    assert.equal(back.assignedHub, hubHost);
  });
}

test('renewal: a new certificate and key for the same registration id registers through the group and lands on the same hub', async () => {
  const { idScope, hubHost } = await seed();
  const id = `conf-renewed-${tag()}`;
  const original = pki.deviceLeaf(id);
  const first = await register({ transport: 'http', idScope, registrationId: id, leaf: original });
  assert.equal(first.assignedHub, hubHost);

  const renewed = pki.make(`device-${id}-renewed`, { cn: id, kind: 'device', issuer: pki.hierarchy.intA() });
  assert.notEqual(renewed.certPem, original.certPem);
  for (const transport of ['http', 'mqtt']) {
    const again = await register({ transport, idScope, registrationId: id, leaf: renewed });
    assert.equal(again.status, 'assigned', `${transport}: ${JSON.stringify(again)}`);
    assert.equal(again.assignedHub, hubHost, `${transport}: the same hub`);
    assert.equal(again.deviceId, id);
  }
});

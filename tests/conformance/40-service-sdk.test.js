'use strict';
// DPS service API with azure-iot-provisioning-service 1.11.2 (api-version 2021-10-01), authenticated with the
// provisioningserviceowner key from ARM listKeys: enrollment groups on the verified root CA, etags, query paging,
// SAS failures, an individual enrollment, registration-state lookups.
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { ProvisioningServiceClient } = require('azure-iot-provisioning-service');
const { endpoints } = require('./lib/env');
const fx = require('./lib/fixture');
const pki = require('./lib/pki');

const tag = () => pki.tag(pki.hierarchy.rootA());
const groupId = () => `conf-svc-group-${tag()}`;
const pageIds = () => [1, 2, 3].map((i) => `conf-svc-page-${tag()}-${i}`);
const individualId = () => `conf-svc-individual-${tag()}`;

const state = {};
function need(key, step) {
  assert.ok(state[key], `needs ${key} from "${step}" (that test failed or did not run)`);
  return state[key];
}

async function groupBody() {
  const { name } = await fx.ensureVerifiedRootA();
  const hub = await fx.ensureHub();
  return {
    enrollmentGroupId: groupId(),
    attestation: { type: 'x509', x509: { caReferences: { primary: name } } },
    iotHubs: [hub.properties.hostName],
    allocationPolicy: 'hashed',
    initialTwin: { tags: { site: 'cave-1', cheese: 'comte' }, properties: { desired: { humidity: 92, temperature: 12 } } },
    reprovisionPolicy: { updateHubAssignment: true, migrateDeviceData: false },
    capabilities: { iotEdge: false },
    provisioningStatus: 'enabled',
  };
}

async function deleteIfPresent(svc, id, group = true) {
  try {
    await (group ? svc.deleteEnrollmentGroup(id) : svc.deleteIndividualEnrollment(id));
  } catch (err) {
    if (!fx.hasStatus(err, 404)) throw err;
  }
}

test('DPS service: createOrUpdateEnrollmentGroup (x509 caReferences = verified root A, iotHubs, initialTwin, reprovisionPolicy)', async () => {
  const svc = await fx.serviceClient();
  await deleteIfPresent(svc, groupId());
  const body = await groupBody();
  const { responseBody: g, httpResponse } = await svc.createOrUpdateEnrollmentGroup({ ...body });
  assert.equal(httpResponse.statusCode, 200);
  assert.equal(g.enrollmentGroupId, groupId());
  assert.equal(g.attestation?.type, 'x509');
  assert.equal(g.attestation.x509?.caReferences?.primary, body.attestation.x509.caReferences.primary);
  assert.deepEqual(g.iotHubs, body.iotHubs);
  assert.equal(g.allocationPolicy, 'hashed');
  assert.deepEqual(g.reprovisionPolicy, body.reprovisionPolicy);
  assert.equal(g.provisioningStatus, 'enabled');
  assert.equal(g.initialTwin?.tags?.site, 'cave-1');
  assert.equal(g.initialTwin?.properties?.desired?.humidity, 92);
  assert.equal(typeof g.etag, 'string');
  assert.ok(g.etag.length > 0, 'etag is set');
  assert.ok(!isNaN(Date.parse(g.createdDateTimeUtc)), `createdDateTimeUtc "${g.createdDateTimeUtc}"`);
  assert.ok(!isNaN(Date.parse(g.lastUpdatedDateTimeUtc)), `lastUpdatedDateTimeUtc "${g.lastUpdatedDateTimeUtc}"`);
  state.etag1 = g.etag;
});

test('DPS service: getEnrollmentGroup returns the group with the same etag', async () => {
  const etag1 = need('etag1', 'createOrUpdateEnrollmentGroup');
  const svc = await fx.serviceClient();
  const { responseBody: g } = await svc.getEnrollmentGroup(groupId());
  assert.equal(g.enrollmentGroupId, groupId());
  assert.equal(g.etag, etag1);
  assert.equal(g.attestation.x509.caReferences.primary, (await fx.ensureVerifiedRootA()).name);
  assert.equal(g.initialTwin.properties.desired.temperature, 12);
});

test('DPS service: getEnrollmentGroupAttestationMechanism returns the x509 attestation', async () => {
  need('etag1', 'createOrUpdateEnrollmentGroup');
  const svc = await fx.serviceClient();
  const { responseBody: a } = await svc.getEnrollmentGroupAttestationMechanism(groupId());
  assert.equal(a.type, 'x509', JSON.stringify(a));
  assert.equal(a.x509?.caReferences?.primary, (await fx.ensureVerifiedRootA()).name);
});

test('DPS service: PUT over an existing group without If-Match is 409 Conflict', async () => {
  need('etag1', 'createOrUpdateEnrollmentGroup');
  const svc = await fx.serviceClient();
  const err = await fx.rejection(svc.createOrUpdateEnrollmentGroup(await groupBody()), 'update without etag');
  assert.equal(fx.statusOf(err), 409, fx.describe(err));
});

test('DPS service: update with the current etag succeeds and yields a new etag', async () => {
  const etag1 = need('etag1', 'createOrUpdateEnrollmentGroup');
  const svc = await fx.serviceClient();
  const body = await groupBody();
  body.initialTwin.tags.site = 'cave-2';
  body.etag = etag1;
  const { responseBody: g } = await svc.createOrUpdateEnrollmentGroup(body);
  assert.equal(g.initialTwin.tags.site, 'cave-2');
  assert.ok(g.etag && g.etag !== etag1, `new etag (was ${etag1}, now ${g.etag})`);
  const { responseBody: again } = await svc.getEnrollmentGroup(groupId());
  assert.equal(again.initialTwin.tags.site, 'cave-2');
  assert.equal(again.etag, g.etag);
  state.etag2 = g.etag;
});

test('DPS service: update with a stale etag is 412 (InvalidEtagError)', async () => {
  const etag1 = need('etag1', 'createOrUpdateEnrollmentGroup');
  need('etag2', 'update with the current etag');
  const svc = await fx.serviceClient();
  const body = await groupBody();
  body.etag = etag1;
  const err = await fx.rejection(svc.createOrUpdateEnrollmentGroup(body), 'update with stale etag');
  assert.equal(fx.statusOf(err), 412, fx.describe(err));
  assert.equal(err.name, 'InvalidEtagError');
});

test('DPS service: update with If-Match "*" succeeds', async () => {
  need('etag2', 'update with the current etag');
  const svc = await fx.serviceClient();
  const body = await groupBody();
  body.initialTwin.tags.site = 'cave-3';
  body.etag = '*';
  const { responseBody: g } = await svc.createOrUpdateEnrollmentGroup(body);
  assert.equal(g.initialTwin.tags.site, 'cave-3');
  assert.ok(g.etag && g.etag !== '*' && g.etag !== state.etag2, `a new concrete etag, got ${g.etag}`);
});

test('DPS service: a group whose iotHubs are not linked to the DPS is rejected with 400', async () => {
  need('etag1', 'createOrUpdateEnrollmentGroup');
  const svc = await fx.serviceClient();
  const body = await groupBody();
  body.enrollmentGroupId = `conf-svc-badhub-${tag()}`;
  body.iotHubs = ['not-linked-hub.azure-devices.net'];
  const err = await fx.rejection(svc.createOrUpdateEnrollmentGroup(body), 'group with an unlinked hub');
  assert.equal(fx.statusOf(err), 400, fx.describe(err));
});

test('DPS service: createEnrollmentGroupQuery pages with x-ms-continuation (page size 2)', async () => {
  const svc = await fx.serviceClient();
  const body = await groupBody();
  for (const id of pageIds()) {
    await deleteIfPresent(svc, id);
    await svc.createOrUpdateEnrollmentGroup({ ...body, enrollmentGroupId: id });
  }
  const query = svc.createEnrollmentGroupQuery({ query: '*' }, 2);
  const seen = [];
  let pages = 0;
  while (query.hasMoreResults) {
    // Pass the token explicitly: Query.next() without arguments (the promise form) sends no continuation token in
    // azure-iot-provisioning-service 1.11.2 (it ignores query.continuationToken), so it would fetch page 1 forever.
    const { responseBody: page, httpResponse } = await query.next(query.continuationToken);
    pages++;
    assert.ok(Array.isArray(page), `a page is a JSON array: ${JSON.stringify(page)}`);
    assert.ok(page.length <= 2, `page ${pages} has ${page.length} items (page size 2)`);
    if (query.hasMoreResults) assert.ok(httpResponse.headers['x-ms-continuation'], 'x-ms-continuation when more pages exist');
    seen.push(...page.map((g) => g.enrollmentGroupId));
    assert.ok(pages < 50, 'paging terminates');
  }
  assert.ok(pages >= 2, `at least 2 pages for ${seen.length} groups, got ${pages}`);
  assert.equal(new Set(seen).size, seen.length, `no duplicates across pages: ${seen}`);
  for (const id of [groupId(), ...pageIds()]) assert.ok(seen.includes(id), `${id} in ${seen}`);
  for (const id of pageIds()) await svc.deleteEnrollmentGroup(id);
});

test('DPS service: a wrong SAS key is rejected with 401 (UnauthorizedError)', async () => {
  need('etag1', 'createOrUpdateEnrollmentGroup'); // the right key works
  const wrong = ProvisioningServiceClient.fromConnectionString(
    `HostName=${endpoints().serviceHost};SharedAccessKeyName=provisioningserviceowner;SharedAccessKey=${crypto.randomBytes(32).toString('base64')}`);
  const err = await fx.rejection(wrong.getEnrollmentGroup(groupId()), 'get with wrong key');
  assert.equal(fx.statusOf(err), 401, fx.describe(err));
  assert.equal(err.name, 'UnauthorizedError');
});

test('DPS service: an unknown SharedAccessKeyName is rejected with 401', async () => {
  need('etag1', 'createOrUpdateEnrollmentGroup'); // the right key works
  const owner = await fx.dpsOwnerKey();
  const wrong = ProvisioningServiceClient.fromConnectionString(
    `HostName=${endpoints().serviceHost};SharedAccessKeyName=nosuchpolicy;SharedAccessKey=${owner.primaryKey}`);
  const err = await fx.rejection(wrong.createEnrollmentGroupQuery({ query: '*' }).next(), 'query with unknown key name');
  assert.equal(fx.statusOf(err), 401, fx.describe(err));
});

test('DPS service: the secondary key of provisioningserviceowner also authenticates', async () => {
  const owner = await fx.dpsOwnerKey();
  const svc = ProvisioningServiceClient.fromConnectionString(
    `HostName=${endpoints().serviceHost};SharedAccessKeyName=provisioningserviceowner;SharedAccessKey=${owner.secondaryKey}`);
  const { responseBody } = await svc.createEnrollmentGroupQuery({ query: '*' }).next();
  assert.ok(Array.isArray(responseBody));
});

test('DPS service: registration ids of individual enrollments are case-insensitive', async () => {
  need('etag1', 'createOrUpdateEnrollmentGroup');
  const svc = await fx.serviceClient();
  const hub = await fx.ensureHub();
  const id = `conf-svc-case-${tag()}`;
  const leaf = pki.deviceLeaf(id);
  await deleteIfPresent(svc, id, false);
  await svc.createOrUpdateIndividualEnrollment({
    registrationId: id,
    attestation: { type: 'x509', x509: { clientCertificates: { primary: { certificate: leaf.certPem } } } },
    iotHubs: [hub.properties.hostName],
    capabilities: { iotEdge: false },
  });
  const { responseBody: got } = await svc.getIndividualEnrollment(id.toUpperCase());
  assert.equal(got.registrationId.toLowerCase(), id);
  await svc.deleteIndividualEnrollment(id.toUpperCase());
  const err = await fx.rejection(svc.getIndividualEnrollment(id), 'get after delete by the upper-case id');
  assert.equal(fx.statusOf(err), 404, fx.describe(err));
});

test('DPS service: individual enrollment (x509 client certificate) — create, get, delete', async () => {
  const svc = await fx.serviceClient();
  const hub = await fx.ensureHub();
  const leaf = pki.deviceLeaf(individualId());
  await deleteIfPresent(svc, individualId(), false);
  const { responseBody: e } = await svc.createOrUpdateIndividualEnrollment({
    registrationId: individualId(),
    deviceId: individualId(),
    attestation: { type: 'x509', x509: { clientCertificates: { primary: { certificate: leaf.certPem } } } },
    iotHubs: [hub.properties.hostName],
    allocationPolicy: 'hashed',
    capabilities: { iotEdge: false },
    provisioningStatus: 'enabled',
  });
  assert.equal(e.registrationId, individualId());
  assert.equal(e.attestation?.type, 'x509');
  assert.ok(e.etag, 'etag is set');
  const { responseBody: got } = await svc.getIndividualEnrollment(individualId());
  assert.equal(got.registrationId, individualId());
  assert.equal(got.deviceId, individualId());
  assert.equal(got.etag, e.etag);
  const { responseBody: list } = await svc.createIndividualEnrollmentQuery({ query: '*' }).next();
  assert.ok(list.some((x) => x.registrationId === individualId()), 'listed by the individual enrollment query');
  await svc.deleteIndividualEnrollment(individualId());
  const err = await fx.rejection(svc.getIndividualEnrollment(individualId()), 'get deleted individual enrollment');
  assert.equal(fx.statusOf(err), 404, fx.describe(err));
});

test('DPS service: deleteEnrollmentGroup with a stale etag is 412, with the current etag it deletes; get is 404 afterwards', async () => {
  const etag1 = need('etag1', 'createOrUpdateEnrollmentGroup');
  const svc = await fx.serviceClient();
  const current = (await svc.getEnrollmentGroup(groupId())).responseBody.etag;
  if (current !== etag1) {
    const err = await fx.rejection(svc.deleteEnrollmentGroup(groupId(), etag1), 'delete with stale etag');
    assert.equal(fx.statusOf(err), 412, fx.describe(err));
  }
  await svc.deleteEnrollmentGroup(groupId(), current);
  const err = await fx.rejection(svc.getEnrollmentGroup(groupId()), 'get deleted group');
  assert.equal(fx.statusOf(err), 404, fx.describe(err));
});

test('DPS service: getDeviceRegistrationState of an unknown registration is 404', async () => {
  need('etag1', 'createOrUpdateEnrollmentGroup'); // the service API works at all
  const svc = await fx.serviceClient();
  const err = await fx.rejection(svc.getDeviceRegistrationState('conf-never-registered-' + tag()), 'get unknown registration');
  assert.equal(fx.statusOf(err), 404, fx.describe(err));
});

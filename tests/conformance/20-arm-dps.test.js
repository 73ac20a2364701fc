'use strict';
// ARM DPS with @azure/arm-deviceprovisioningservices 6.0.0: with its default api-version (2026-08-31) for the seed DPS,
// and with apiVersion "2022-02-05" for a second DPS that is created, listed and deleted.
const test = require('node:test');
const assert = require('node:assert/strict');
const { endpoints, runId } = require('./lib/env');
const fx = require('./lib/fixture');

function assertDps(dps, name, hub) {
  assert.equal(dps.name, name);
  assert.match(dps.type, /^Microsoft\.Devices\/ProvisioningServices$/i);
  assert.match(dps.id, new RegExp(`/resourceGroups/${endpoints().resourceGroup}/providers/Microsoft.Devices/ProvisioningServices/${name}$`, 'i'));
  assert.equal(dps.sku?.name, 'S1');
  assert.equal(dps.properties?.provisioningState, 'Succeeded');
  assert.equal(dps.properties?.state, 'Active');
  assert.equal(dps.properties?.allocationPolicy, 'Hashed');
  assert.match(dps.properties?.idScope ?? '', /^0ne[0-9A-Fa-f]{8}$/, `idScope "${dps.properties?.idScope}"`);
  assert.ok(dps.properties.serviceOperationsHostName, 'serviceOperationsHostName is set');
  assert.ok(dps.properties.deviceProvisioningHostName, 'deviceProvisioningHostName is set');
  assert.equal(dps.properties.iotHubs?.length, 1, 'one linked hub');
  assert.equal(dps.properties.iotHubs[0].name, hub.properties.hostName, 'iotHubs[0].name is the hub host name');
}

test('ARM DPS (default api-version): createOrUpdate linking the hub (iothubowner connection string, Hashed) completes', async () => {
  const hub = await fx.ensureHub();
  const dps = await fx.ensureDps();
  assertDps(dps, fx.names.dps(), hub);
});

test('ARM DPS (default api-version): get returns the DPS with its idScope', async () => {
  const hub = await fx.ensureHub();
  const created = await fx.ensureDps();
  const dps = await fx.dpsClient().iotDpsResource.get(endpoints().resourceGroup, fx.names.dps());
  assertDps(dps, fx.names.dps(), hub);
  assert.equal(dps.properties.idScope, created.properties.idScope, 'idScope is stable');
});

test('ARM DPS: get of a missing DPS is 404', async () => {
  await fx.ensureDps(); // the DPS surface works at all
  const err = await fx.rejection(fx.dpsClient().iotDpsResource.get(endpoints().resourceGroup, 'cc-no-such-dps-' + runId()), 'get missing DPS');
  assert.equal(fx.statusOf(err), 404, fx.describe(err));
});

test('ARM DPS: listBySubscription and listByResourceGroup include the DPS', async () => {
  await fx.ensureDps();
  const client = fx.dpsClient();
  const inSub = await fx.collect(client.iotDpsResource.listBySubscription());
  assert.ok(inSub.some((d) => d.name === fx.names.dps()), `listBySubscription: ${inSub.map((d) => d.name)}`);
  const inGroup = await fx.collect(client.iotDpsResource.listByResourceGroup(endpoints().resourceGroup));
  assert.ok(inGroup.some((d) => d.name === fx.names.dps()), `listByResourceGroup: ${inGroup.map((d) => d.name)}`);
  for (const d of inGroup) assert.ok(d.properties && d.sku, 'every list item has properties and sku');
});

test('ARM DPS: checkProvisioningServiceNameAvailability — a taken name is AlreadyExists', async () => {
  await fx.ensureDps();
  const info = await fx.dpsClient().iotDpsResource.checkProvisioningServiceNameAvailability({ name: fx.names.dps() });
  assert.equal(info.nameAvailable, false, JSON.stringify(info));
  assert.equal(info.reason, 'AlreadyExists', JSON.stringify(info));
});

test('ARM DPS: checkProvisioningServiceNameAvailability — an invalid name is Invalid', async () => {
  for (const name of ['-starts-with-hyphen', 'has_underscore!', 'ab', '12345']) {
    const info = await fx.dpsClient().iotDpsResource.checkProvisioningServiceNameAvailability({ name });
    assert.equal(info.nameAvailable, false, `${name}: ${JSON.stringify(info)}`);
    assert.equal(info.reason, 'Invalid', `${name}: ${JSON.stringify(info)}`);
  }
});

test('ARM DPS: checkProvisioningServiceNameAvailability — a free valid name is available', async () => {
  const info = await fx.dpsClient().iotDpsResource.checkProvisioningServiceNameAvailability({ name: `cc-free-${runId()}-x1` });
  assert.equal(info.nameAvailable, true, JSON.stringify(info));
  assert.equal(info.reason, 'Invalid', `Azure's answer for a free name: ${JSON.stringify(info)}`);
  assert.ok(info.message == null, JSON.stringify(info));
});

test('ARM DPS: listKeys returns provisioningserviceowner, and listKeysForKeyName the same rule', async () => {
  await fx.ensureDps();
  const owner = await fx.dpsOwnerKey();
  assert.ok(Buffer.from(owner.primaryKey, 'base64').length >= 16, 'primaryKey is base64');
  assert.ok(Buffer.from(owner.secondaryKey, 'base64').length >= 16, 'secondaryKey is base64');
  for (const right of ['ServiceConfig', 'EnrollmentRead', 'EnrollmentWrite', 'RegistrationStatusRead', 'RegistrationStatusWrite']) {
    assert.ok(String(owner.rights).split(/,\s*/).includes(right), `provisioningserviceowner has all permissions: "${owner.rights}" lacks ${right}`);
  }
  const one = await fx.dpsClient().iotDpsResource.listKeysForKeyName(fx.names.dps(), 'provisioningserviceowner', endpoints().resourceGroup);
  assert.equal(one.keyName, 'provisioningserviceowner');
  assert.equal(one.primaryKey, owner.primaryKey);
});

test('ARM DPS: update (PATCH tags, poller) changes the tags and keeps the rest', async () => {
  const before = await fx.ensureDps();
  const client = fx.dpsClient();
  const updated = await client.iotDpsResource.update(endpoints().resourceGroup, fx.names.dps(), { tags: { env: 'conformance', run: runId() } }, fx.POLL);
  assert.deepEqual(updated.tags, { env: 'conformance', run: runId() });
  assert.equal(updated.properties.idScope, before.properties.idScope);
  const got = await client.iotDpsResource.get(endpoints().resourceGroup, fx.names.dps());
  assert.deepEqual(got.tags, { env: 'conformance', run: runId() });
  assert.equal(got.properties.iotHubs?.length, 1, 'the linked hub stays');
});

// A second DPS, driven with apiVersion "2022-02-05" from creation to deletion.
const second = () => `cc-dps22-${runId()}`;
const v2022 = () => fx.dpsClient('2022-02-05');

test('ARM DPS (api-version 2022-02-05): createOrUpdate of a second DPS completes', async () => {
  const hub = await fx.ensureHub();
  const body = fx.dpsBody(await fx.hubOwnerConnectionString());
  body.tags = { purpose: 'conformance' };
  const dps = await v2022().iotDpsResource.createOrUpdate(endpoints().resourceGroup, second(), body, fx.POLL);
  assertDps(dps, second(), hub);
  assert.deepEqual(dps.tags, { purpose: 'conformance' });
  const again = await v2022().iotDpsResource.get(endpoints().resourceGroup, second());
  assert.equal(again.properties.idScope, dps.properties.idScope);
});

test('ARM DPS (api-version 2022-02-05): both DPS are listed, with distinct idScopes', async () => {
  const first = await fx.ensureDps();
  const items = await fx.collect(v2022().iotDpsResource.listByResourceGroup(endpoints().resourceGroup));
  const found = items.find((d) => d.name === second());
  assert.ok(found, `listByResourceGroup: ${items.map((d) => d.name)}`);
  assert.notEqual(found.properties.idScope, first.properties.idScope);
});

test('ARM DPS (api-version 2022-02-05): update (PUT on the existing DPS) runs as an operation and ends Succeeded', async () => {
  const before = await v2022().iotDpsResource.get(endpoints().resourceGroup, second());
  const body = fx.dpsBody(await fx.hubOwnerConnectionString());
  body.properties.allocationPolicy = 'GeoLatency';
  const updated = await v2022().iotDpsResource.createOrUpdate(endpoints().resourceGroup, second(), body, fx.POLL);
  assert.equal(updated.properties.provisioningState, 'Succeeded');
  assert.equal(updated.properties.allocationPolicy, 'GeoLatency');
  assert.equal(updated.properties.idScope, before.properties.idScope, 'an update keeps the ID scope');
});

test('ARM DPS (api-version 2022-02-05): delete (poller) removes the DPS; get is 404 afterwards', async () => {
  await v2022().iotDpsResource.get(endpoints().resourceGroup, second()); // exists (created by the test above)
  await v2022().iotDpsResource.delete(endpoints().resourceGroup, second(), fx.POLL);
  const err = await fx.rejection(v2022().iotDpsResource.get(endpoints().resourceGroup, second()), 'get deleted DPS');
  assert.equal(fx.statusOf(err), 404, fx.describe(err));
  const items = await fx.collect(v2022().iotDpsResource.listByResourceGroup(endpoints().resourceGroup));
  assert.ok(!items.some((d) => d.name === second()), 'no longer listed');
  const info = await v2022().iotDpsResource.checkProvisioningServiceNameAvailability({ name: second() });
  assert.equal(info.nameAvailable, true, `the name is free again: ${JSON.stringify(info)}`);
});

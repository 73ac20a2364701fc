'use strict';
// ARM IoT Hub with @azure/arm-iothub 6.3.0 (api-version 2023-06-30): create (poller), get, lists, listKeys.
const test = require('node:test');
const assert = require('node:assert/strict');
const { endpoints } = require('./lib/env');
const fx = require('./lib/fixture');

test('ARM IoT hub: beginCreateOrUpdateAndWait creates the hub (poller completes, provisioningState Succeeded)', async () => {
  const hub = await fx.ensureHub();
  assert.equal(hub.name, fx.names.hub());
  assert.equal(hub.type, 'Microsoft.Devices/IotHubs');
  assert.match(hub.id, new RegExp(`/resourceGroups/${endpoints().resourceGroup}/providers/Microsoft.Devices/IotHubs/${fx.names.hub()}$`, 'i'));
  assert.equal(hub.sku?.name, 'S1');
  assert.equal(hub.properties?.provisioningState, 'Succeeded');
  assert.equal(typeof hub.properties?.hostName, 'string');
  assert.ok(hub.properties.hostName.length > 0, 'properties.hostName is set');
});

test('ARM IoT hub: get returns the hub with its hostName and state Active', async () => {
  const created = await fx.ensureHub();
  const hub = await fx.hubClient().iotHubResource.get(endpoints().resourceGroup, fx.names.hub());
  assert.equal(hub.name, fx.names.hub());
  assert.equal(hub.properties.hostName, created.properties.hostName);
  assert.equal(hub.properties.state, 'Active');
  assert.equal(hub.location.replace(/\s/g, '').toLowerCase(), fx.LOCATION);
});

test('ARM IoT hub: get of a missing hub is 404', async () => {
  await fx.ensureHub(); // the IoT hub surface works at all
  const err = await fx.rejection(fx.hubClient().iotHubResource.get(endpoints().resourceGroup, 'cc-no-such-hub-' + Date.now()), 'get missing hub');
  assert.equal(fx.statusOf(err), 404, fx.describe(err));
});

test('ARM IoT hub: listByResourceGroup and listBySubscription include the hub', async () => {
  await fx.ensureHub();
  const client = fx.hubClient();
  const inGroup = await fx.collect(client.iotHubResource.listByResourceGroup(endpoints().resourceGroup));
  assert.ok(inGroup.some((h) => h.name === fx.names.hub()), `listByResourceGroup: ${inGroup.map((h) => h.name)}`);
  const inSub = await fx.collect(client.iotHubResource.listBySubscription());
  assert.ok(inSub.some((h) => h.name === fx.names.hub()), `listBySubscription: ${inSub.map((h) => h.name)}`);
});

test('ARM IoT hub: listKeys returns iothubowner (RegistryWrite, ServiceConnect, DeviceConnect) and the other default policies', async () => {
  await fx.ensureHub();
  const keys = await fx.collect(fx.hubClient().iotHubResource.listKeys(endpoints().resourceGroup, fx.names.hub()));
  const owner = keys.find((k) => k.keyName === 'iothubowner');
  assert.ok(owner, `iothubowner in ${JSON.stringify(keys.map((k) => k.keyName))}`);
  assert.ok(Buffer.from(owner.primaryKey, 'base64').length >= 16, 'primaryKey is base64');
  assert.ok(Buffer.from(owner.secondaryKey, 'base64').length >= 16, 'secondaryKey is base64');
  for (const name of ['service', 'device', 'registryRead', 'registryReadWrite']) {
    assert.ok(keys.some((k) => k.keyName === name), `default policy ${name} in ${JSON.stringify(keys.map((k) => k.keyName))}`);
  }
  for (const right of ['RegistryWrite', 'ServiceConnect', 'DeviceConnect']) {
    assert.ok(String(owner.rights).split(/,\s*/).includes(right), `rights "${owner.rights}" include ${right}`);
  }
});

'use strict';
// The harness itself: endpoints.json, TLS trust through NODE_EXTRA_CA_CERTS, ARM bearer auth, the seeded subscription.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { endpoints, arm, rawRequest } = require('./lib/env');

test('harness: endpoints.json names every endpoint, and on port 443 the hosts carry no port', () => {
  const e = endpoints();
  assert.match(e.armEndpoint, /^https:\/\/[^/]+$/);
  assert.ok(fs.existsSync(e.trustBundle), `trustBundle ${e.trustBundle} exists`);
  assert.match(e.subscriptionId, /^[0-9a-f-]{36}$/i);
  assert.equal(e.armEndpoint, `https://${e.serviceHost}`, 'ARM, service and device API share the HTTPS port');
  assert.doesNotMatch(e.serviceHost, /:\d+$/, 'serviceHost has no port (the Node service SDK can only reach 443)');
  assert.doesNotMatch(e.deviceProvisioningHost, /:\d+$/, 'deviceProvisioningHost has no port (the Node device HTTP transport can only reach 443)');
  assert.match(e.mqttHost ?? '', /^[^:]+:\d+$/, 'mqttHost is host:port');
});

test('harness: NODE_EXTRA_CA_CERTS is the emulator trust bundle, so TLS to the emulator verifies', async () => {
  assert.equal(process.env.NODE_EXTRA_CA_CERTS, endpoints().trustBundle);
  const res = await rawRequest('GET', `${endpoints().armEndpoint}/subscriptions/${endpoints().subscriptionId}?api-version=2022-12-01`);
  assert.ok(res.status > 0); // the handshake (with certificate verification) succeeded
});

test('harness: ARM rejects a request without a bearer token (401)', async () => {
  const res = await rawRequest('GET', `${endpoints().armEndpoint}/subscriptions/${endpoints().subscriptionId}?api-version=2022-12-01`);
  assert.equal(res.status, 401, res.body);
  assert.equal(typeof res.json?.error?.code, 'string', `ARM error shape {"error":{code,message}}: ${res.body}`);
});

test('harness: GET subscription with the bearer token (raw HTTPS)', async () => {
  const e = endpoints();
  const res = await arm('GET', `/subscriptions/${e.subscriptionId}?api-version=2022-12-01`);
  assert.equal(res.status, 200, res.body);
  assert.equal(res.json.subscriptionId, e.subscriptionId);
  assert.equal(res.json.state, 'Enabled');
  assert.match(res.json.tenantId, /^[0-9a-f-]{36}$/i);
});

test('harness: GET the seeded resource group (raw HTTPS)', async () => {
  const e = endpoints();
  const res = await arm('GET', `/subscriptions/${e.subscriptionId}/resourcegroups/${e.resourceGroup}?api-version=2022-09-01`);
  assert.equal(res.status, 200, res.body);
  assert.equal(res.json.name, e.resourceGroup);
  assert.equal(typeof res.json.location, 'string');
});

'use strict';
// Shared set-up for the test files: the ARM, service and device clients, and the resources the seed flow builds
// (IoT hub → DPS linked to it → root CA verified by proof of possession → enrollment group). Every ensure* call
// reuses what exists and creates what is missing, so each test file can run alone or after the others.
const { IotDpsClient } = require('@azure/arm-deviceprovisioningservices');
const { IotHubClient } = require('@azure/arm-iothub');
const { ProvisioningServiceClient } = require('azure-iot-provisioning-service');
const { endpoints, runId, credential } = require('./env');
const pki = require('./pki');

const LOCATION = 'eastus';
/** LRO pollers: poll quickly (a Retry-After from the emulator still wins). */
const POLL = { updateIntervalInMs: 250 };
/** No client retries: a failing request should fail the test at once, with the emulator's answer. */
const NO_RETRY = { retryOptions: { maxRetries: 0 } };

const names = {
  hub: () => `cc-hub-${runId()}`,
  dps: () => `cc-dps-${runId()}`,
  rootCertificate: () => `conf-root-a-${pki.tag(pki.hierarchy.rootA())}`,
  mainGroup: () => `conf-group-a-${pki.tag(pki.hierarchy.rootA())}`,
};

function dpsClient(apiVersion) {
  const e = endpoints();
  return new IotDpsClient(credential(), e.subscriptionId, { endpoint: e.armEndpoint, ...(apiVersion ? { apiVersion } : {}), ...NO_RETRY });
}

function hubClient() {
  const e = endpoints();
  return new IotHubClient(credential(), e.subscriptionId, {
    endpoint: e.armEndpoint,
    credentialScopes: ['https://management.azure.com/.default'],
    ...NO_RETRY,
  });
}

/** True when an SDK error (ARM RestError or azure-iot-common error) carries HTTP status `status`. */
function hasStatus(err, status) {
  return statusOf(err) === status;
}

function statusOf(err) {
  if (!err) return undefined;
  return err.statusCode ?? err.response?.status ?? err.response?.statusCode ?? err.responseBody?.status;
}

/** A short description of an SDK error for assertion messages: name, HTTP status, code, message, body. */
function describe(err) {
  if (!err) return String(err);
  const body = err.responseBody ?? err.response?.bodyAsText ?? err.details;
  return `${err.name || 'Error'} (status ${statusOf(err)}${err.code ? ', code ' + err.code : ''}): ${err.message}` +
    (body && typeof body !== 'string' ? ' ' + JSON.stringify(body) : body ? ' ' + body : '');
}

/** Awaits `promise` and returns its rejection; fails if it resolves. */
async function rejection(promise, what) {
  let value;
  try {
    value = await promise;
  } catch (err) {
    return err;
  }
  throw new Error(`${what}: expected a rejection, but the call succeeded with ${JSON.stringify(value)?.slice(0, 800)}`);
}

async function collect(iterable) {
  const items = [];
  for await (const item of iterable) items.push(item);
  return items;
}

const memo = new Map();
const LABELS = {
  hub: 'create/get the IoT hub',
  hubcs: 'IoT hub listKeys (iothubowner connection string)',
  dps: 'create/get the DPS linked to the hub',
  svc: 'DPS listKeys (provisioningserviceowner) for the service connection string',
  rootA: 'upload root A to DPS and verify it by proof of possession',
  mainGroup: 'create the enrollment group on root A',
};
function once(key, fn, label = LABELS[key] ?? key) {
  if (!memo.has(key)) {
    const p = fn().catch((err) => {
      if (!String(err.message).startsWith('prerequisite')) err.message = `prerequisite "${label}" failed: ${err.message}`;
      throw err;
    });
    memo.set(key, p);
    p.catch(() => memo.delete(key)); // a later test may retry (and report its own failure)
  }
  return memo.get(key);
}

async function getOrUndefined(promise) {
  try {
    return await promise;
  } catch (err) {
    if (hasStatus(err, 404)) return undefined;
    throw err;
  }
}

/** The IoT hub of the seed flow (created with the SDK's poller if missing). */
function ensureHub() {
  return once('hub', async () => {
    const e = endpoints();
    const client = hubClient();
    const existing = await getOrUndefined(client.iotHubResource.get(e.resourceGroup, names.hub()));
    if (existing) return existing;
    return client.iotHubResource.beginCreateOrUpdateAndWait(e.resourceGroup, names.hub(),
      { location: LOCATION, sku: { name: 'S1', capacity: 1 }, properties: {} }, POLL);
  });
}

/** "HostName=..;SharedAccessKeyName=iothubowner;SharedAccessKey=.." from the hub's listkeys. */
function hubOwnerConnectionString() {
  return once('hubcs', async () => {
    const hub = await ensureHub();
    const keys = await collect(hubClient().iotHubResource.listKeys(endpoints().resourceGroup, hub.name));
    const owner = keys.find((k) => k.keyName === 'iothubowner');
    if (!owner) throw new Error(`IoT hub listkeys has no iothubowner rule: ${JSON.stringify(keys)}`);
    return `HostName=${hub.properties.hostName};SharedAccessKeyName=iothubowner;SharedAccessKey=${owner.primaryKey}`;
  });
}

/** The DPS of the seed flow: Hashed allocation, linked to the hub with the iothubowner connection string. */
function ensureDps() {
  return once('dps', async () => {
    const e = endpoints();
    const client = dpsClient();
    const existing = await getOrUndefined(client.iotDpsResource.get(e.resourceGroup, names.dps()));
    if (existing) return existing;
    const connectionString = await hubOwnerConnectionString();
    return client.iotDpsResource.createOrUpdate(e.resourceGroup, names.dps(), dpsBody(connectionString), POLL);
  });
}

function dpsBody(hubConnectionString) {
  return {
    location: LOCATION,
    sku: { name: 'S1', capacity: 1 },
    properties: {
      iotHubs: [{ connectionString: hubConnectionString, location: LOCATION }],
      allocationPolicy: 'Hashed',
    },
  };
}

/** The provisioningserviceowner rule of a DPS, from listKeys. */
async function dpsOwnerKey(dpsName = names.dps()) {
  const keys = await collect(dpsClient().iotDpsResource.listKeys(dpsName, endpoints().resourceGroup));
  const owner = keys.find((k) => k.keyName === 'provisioningserviceowner');
  if (!owner) throw new Error(`DPS listKeys has no provisioningserviceowner rule: ${JSON.stringify(keys)}`);
  return owner;
}

/** ProvisioningServiceClient from "HostName=<serviceHost>;SharedAccessKeyName=provisioningserviceowner;SharedAccessKey=<key>". */
function serviceClient() {
  return once('svc', async () => {
    await ensureDps();
    const owner = await dpsOwnerKey();
    return ProvisioningServiceClient.fromConnectionString(
      `HostName=${endpoints().serviceHost};SharedAccessKeyName=provisioningserviceowner;SharedAccessKey=${owner.primaryKey}`);
  });
}

/** Verifies DPS certificate `certName` (already uploaded) by proof of possession with `ca`; returns the final CertificateResponse. */
async function provePossession(client, certName, ca, etag) {
  const e = endpoints();
  const code = await client.dpsCertificate.generateVerificationCode(certName, etag, e.resourceGroup, names.dps());
  const proof = pki.verificationCertificate(code.properties.verificationCode, ca);
  return client.dpsCertificate.verifyCertificate(certName, code.etag, e.resourceGroup, names.dps(), { certificate: proof.certPem });
}

/** Root A in DPS, verified through generateVerificationCode/verify (the seed flow). */
function ensureVerifiedRootA() {
  return once('rootA', async () => {
    const e = endpoints();
    await ensureDps();
    const client = dpsClient();
    const root = pki.hierarchy.rootA();
    const name = names.rootCertificate();
    let cert = await getOrUndefined(client.dpsCertificate.get(name, e.resourceGroup, names.dps()));
    if (!cert) {
      cert = await client.dpsCertificate.createOrUpdate(e.resourceGroup, names.dps(), name,
        { properties: { certificate: Buffer.from(root.certPem) } });
    }
    if (!cert.properties?.isVerified) cert = await provePossession(client, name, root, cert.etag);
    if (!cert.properties?.isVerified) throw new Error(`certificate ${name} is still not verified: ${JSON.stringify(cert)}`);
    return { name, cert };
  });
}

/** A CA uploaded with isVerified:true (no proof of possession), under `name`. */
async function ensurePreverifiedCa(name, ca) {
  return once('ca:' + name, async () => {
    const e = endpoints();
    await ensureDps();
    const client = dpsClient();
    const existing = await getOrUndefined(client.dpsCertificate.get(name, e.resourceGroup, names.dps()));
    if (existing) return existing;
    return client.dpsCertificate.createOrUpdate(e.resourceGroup, names.dps(), name,
      { properties: { certificate: Buffer.from(ca.certPem), isVerified: true } });
  });
}

/** An X.509 enrollment group on DPS certificate `caName`, assigning to the seed hub. Replaces an existing one. */
async function putX509Group(groupId, caName, extra = {}) {
  const svc = await serviceClient();
  const hub = await ensureHub();
  const current = await getOrUndefined(svc.getEnrollmentGroup(groupId));
  const group = {
    enrollmentGroupId: groupId,
    attestation: { type: 'x509', x509: { caReferences: { primary: caName } } },
    iotHubs: [hub.properties.hostName],
    allocationPolicy: 'hashed',
    reprovisionPolicy: { updateHubAssignment: true, migrateDeviceData: true },
    capabilities: { iotEdge: false },
    provisioningStatus: 'enabled',
    initialTwin: { tags: { site: 'cave-1' }, properties: { desired: { humidity: 92 } } },
    ...extra,
  };
  if (current) group.etag = current.responseBody.etag;
  return (await svc.createOrUpdateEnrollmentGroup(group)).responseBody;
}

/** The seed flow's enrollment group: x509 caReferences.primary = the verified root A. */
function ensureMainGroup() {
  return once('mainGroup', async () => {
    const { name } = await ensureVerifiedRootA();
    const svc = await serviceClient();
    const existing = await getOrUndefined(svc.getEnrollmentGroup(names.mainGroup()));
    if (existing) return existing.responseBody;
    return putX509Group(names.mainGroup(), name);
  });
}

module.exports = {
  LOCATION, POLL, names, dpsClient, hubClient, serviceClient, hasStatus, statusOf, describe, rejection, collect,
  getOrUndefined, ensureHub, hubOwnerConnectionString, ensureDps, dpsBody, dpsOwnerKey, ensureVerifiedRootA,
  ensurePreverifiedCa, putX509Group, ensureMainGroup, provePossession,
};

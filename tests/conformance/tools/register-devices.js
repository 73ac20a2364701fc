'use strict';
// Registers devices with the official Azure IoT DPS device SDK (azure-iot-provisioning-device over the -http and
// -mqtt transports) using certificate and key files someone else made: the portal's downloads, in
// tests/CheeseCave.Portal.Tests/Setups/Revocation/PortalFilesNodeSdkTests.cs. It judges nothing itself; it reports
// what DPS answered, and the caller asserts.
//
//   node tests/conformance/tools/register-devices.js <jobs.json>
//
// jobs.json: { "deviceProvisioningHost": "127.0.0.9", "mqttHost": "127.0.0.9:8883", "idScope": "0ne...",
//              "registrations": [ { "name": "renewed-http", "transport": "http" | "mqtt", "registrationId": "...",
//                                   "certFile": "x.cert.pem", "chainFile": "x-chain.pem", "keyFile": "x.key.pem" } ] }
// The HTTP transport reaches only port 443 and MQTT only 8883, so the emulator must listen there. The emulator's TLS
// CA must be trusted through NODE_EXTRA_CA_CERTS.
//
// Prints one JSON line: [{ name, assigned, status, assignedHub, deviceId, httpStatus, error }], in job order.
// Exit 0 when every registration ran (assigned or refused), 2 when the SDK packages are missing, 1 on bad input.
const fs = require('node:fs');

function load(name) {
  try {
    return require(name);
  } catch (err) {
    if (err.code === 'MODULE_NOT_FOUND') {
      process.stderr.write(`register-devices: the package ${name} is missing: run "npm ci" in tests/conformance (tests/run.sh does it before the .NET suites).\n`);
      process.exit(2);
    }
    throw err;
  }
}

const { ProvisioningDeviceClient } = load('azure-iot-provisioning-device');
const { Http } = load('azure-iot-provisioning-device-http');
const { Mqtt } = load('azure-iot-provisioning-device-mqtt');
const { X509Security } = load('azure-iot-security-x509');

const PEM = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** The certificates the device presents: its leaf first, then the rest of the chain file (without the leaf again). */
function presented(certFile, chainFile) {
  const leaf = fs.readFileSync(certFile, 'utf8').match(PEM);
  if (!leaf || leaf.length !== 1) throw new Error(`${certFile} must hold exactly one certificate`);
  const chain = chainFile ? (fs.readFileSync(chainFile, 'utf8').match(PEM) || []) : [];
  const norm = (pem) => pem.replace(/\s+/g, '');
  return [leaf[0], ...chain.filter((c) => norm(c) !== norm(leaf[0]))].join('\n') + '\n';
}

async function registerOne(jobs, job) {
  const host = job.transport === 'mqtt' ? jobs.mqttHost : jobs.deviceProvisioningHost;
  const security = new X509Security(job.registrationId, { cert: presented(job.certFile, job.chainFile), key: fs.readFileSync(job.keyFile, 'utf8') });
  const client = ProvisioningDeviceClient.create(host, jobs.idScope, job.transport === 'mqtt' ? new Mqtt() : new Http(), security);
  try {
    const result = await client.register();
    return { name: job.name, assigned: result.status === 'assigned', status: result.status, assignedHub: result.assignedHub ?? null, deviceId: result.deviceId ?? null, httpStatus: null, error: null };
  } catch (err) {
    const httpStatus = err?.response?.statusCode ?? err?.statusCode ?? null;
    const body = err?.responseBody ?? err?.result?.registrationState ?? null;
    return {
      name: job.name, assigned: false, status: body?.status ?? null, assignedHub: null, deviceId: null, httpStatus,
      error: `${err?.name || 'Error'}: ${err?.message}${body ? ' ' + JSON.stringify(body) : ''}`,
    };
  }
}

async function main() {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: node register-devices.js <jobs.json>\n');
    process.exit(1);
  }

  const jobs = JSON.parse(fs.readFileSync(file, 'utf8'));
  for (const key of ['deviceProvisioningHost', 'mqttHost', 'idScope']) {
    if (typeof jobs[key] !== 'string' || jobs[key] === '') throw new Error(`${file} has no ${key}`);
  }

  const results = [];
  for (const job of jobs.registrations ?? []) {
    if (job.transport !== 'http' && job.transport !== 'mqtt') throw new Error(`${job.name}: transport must be http or mqtt`);
    results.push(await registerOne(jobs, job));
  }

  process.stdout.write(JSON.stringify(results) + '\n');
}

main().then(() => process.exit(0), (err) => {
  process.stderr.write(`register-devices: ${err?.stack || err}\n`);
  process.exit(1);
});

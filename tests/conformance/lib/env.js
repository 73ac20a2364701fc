'use strict';
// How the suite reaches the emulator: endpoints.json (written by the emulator once it is ready) and clients built
// the way an Azure customer builds them, only pointed at the emulator's endpoints.
const fs = require('node:fs');
const https = require('node:https');
const crypto = require('node:crypto');

let cached;

/** endpoints.json as the emulator wrote it; CHEESECAVE_ENDPOINTS names the file (tests/conformance/run.sh sets it). */
function endpoints() {
  if (cached) return cached;
  const file = process.env.CHEESECAVE_ENDPOINTS;
  if (!file) {
    throw new Error('CHEESECAVE_ENDPOINTS is not set: run the suite through tests/conformance/run.sh, which starts the emulator.');
  }
  const e = JSON.parse(fs.readFileSync(file, 'utf8'));
  for (const key of ['armEndpoint', 'subscriptionId', 'resourceGroup', 'trustBundle', 'deviceProvisioningHost', 'serviceHost', 'bearerToken']) {
    if (typeof e[key] !== 'string' || e[key] === '') throw new Error(`${file} has no ${key}`);
  }
  cached = e;
  return e;
}

/** Short id of this emulator run, so resource names never collide with an earlier run against the same emulator. */
function runId() {
  if (process.env.CHEESECAVE_RUN_ID) return process.env.CHEESECAVE_RUN_ID;
  return crypto.createHash('sha256').update(endpoints().bearerToken).digest('hex').slice(0, 6);
}

/** A TokenCredential that hands out the emulator's bearer token, as the brief for the suite prescribes. */
function credential() {
  return {
    getToken: async () => ({ token: endpoints().bearerToken, expiresOnTimestamp: Date.now() + 3600e3 }),
  };
}

/** A raw HTTPS request (no SDK), for the harness checks. Resolves with {status, headers, body, json}. */
function rawRequest(method, url, { headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    const req = https.request(url, {
      method,
      headers: { accept: 'application/json', ...(payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {}), ...headers },
      timeout: 15000,
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
        resolve({ status: res.statusCode, headers: res.headers, body: text, json });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url} timed out`)));
    req.on('error', reject);
    if (payload) req.write(payload);
    req.end();
  });
}

/** ARM request with the bearer token. */
function arm(method, path, options = {}) {
  const e = endpoints();
  return rawRequest(method, e.armEndpoint + path, { ...options, headers: { authorization: 'Bearer ' + e.bearerToken, ...(options.headers || {}) } });
}

module.exports = { endpoints, runId, credential, rawRequest, arm };

'use strict';
// DPS certificates through ARM (@azure/arm-deviceprovisioningservices 6.0.0): upload a root CA (base64 of the PEM text,
// which is what the SDK sends for Buffer.from(pem)), proof of possession with etags, and the failure cases.
const test = require('node:test');
const assert = require('node:assert/strict');
const { endpoints } = require('./lib/env');
const fx = require('./lib/fixture');
const pki = require('./lib/pki');

const rg = () => endpoints().resourceGroup;
const dps = () => fx.names.dps();
// Own names, so this file does not depend on (or disturb) the certificate the device tests use.
const rootName = () => `conf-pop-root-p-${pki.tag(pki.hierarchy.rootP())}`;
const secondName = () => `conf-preverified-c-${pki.tag(pki.hierarchy.rootC())}`;

const state = {}; // etags and codes handed from one step to the next (the steps run in order)
function need(key, step) {
  assert.ok(state[key], `needs ${key} from "${step}" (that test failed or did not run)`);
  return state[key];
}

test('DPS certificate: createOrUpdate uploads root P unverified (PEM as base64), with subject, thumbprint and etag', async () => {
  await fx.ensureDps();
  const root = pki.hierarchy.rootP();
  const cert = await fx.dpsClient().dpsCertificate.createOrUpdate(rg(), dps(), rootName(), { properties: { certificate: Buffer.from(root.certPem) } });
  assert.equal(cert.name, rootName());
  assert.match(cert.type ?? '', /^Microsoft\.Devices\/ProvisioningServices\/Certificates$/i);
  assert.equal(cert.properties?.isVerified, false);
  assert.equal(cert.properties.subject, 'CN=CheeseCave Conformance Root P');
  assert.equal(cert.properties.thumbprint.toUpperCase(), root.thumbprint);
  assert.ok(cert.properties.expiry instanceof Date && !isNaN(cert.properties.expiry), 'expiry is a date');
  assert.ok(cert.etag, 'etag is set');
  state.etag1 = cert.etag;
});

test('DPS certificate: generateVerificationCode with the current etag returns a code and a new etag', async () => {
  const etag1 = need('etag1', 'createOrUpdate');
  const res = await fx.dpsClient().dpsCertificate.generateVerificationCode(rootName(), etag1, rg(), dps());
  assert.ok(res.properties?.verificationCode, `verificationCode: ${JSON.stringify(res)}`);
  assert.equal(res.name, rootName());
  assert.equal(res.properties.isVerified, false);
  assert.ok(res.etag, 'etag is set');
  assert.ok(Buffer.from(res.properties.certificate ?? []).length > 0, 'only this answer carries the certificate bytes (as on Azure)');
  assert.notEqual(res.etag, etag1, 'generating a code changes the etag (verify must use the new one)');
  state.code = res.properties.verificationCode;
  state.etag2 = res.etag;
});

test('DPS certificate: generateVerificationCode with a stale etag is 412', async () => {
  const etag1 = need('etag1', 'createOrUpdate');
  need('etag2', 'generateVerificationCode');
  const err = await fx.rejection(fx.dpsClient().dpsCertificate.generateVerificationCode(rootName(), etag1, rg(), dps()), 'generateVerificationCode with stale etag');
  assert.equal(fx.statusOf(err), 412, fx.describe(err));
  // The DPS provider's flat error body, as Azure sends it: {code: <number>, httpStatusCode, message}.
  assert.match(String(err.code), /^412\d{3}$/, fx.describe(err));
});

test('DPS certificate: verify with a stale etag is 412 (even with a correct proof)', async () => {
  const etag1 = need('etag1', 'createOrUpdate');
  const proof = pki.verificationCertificate(need('code', 'generateVerificationCode'), pki.hierarchy.rootP());
  const err = await fx.rejection(fx.dpsClient().dpsCertificate.verifyCertificate(rootName(), etag1, rg(), dps(), { certificate: proof.certPem }), 'verify with stale etag');
  assert.equal(fx.statusOf(err), 412, fx.describe(err));
});

test('DPS certificate: verify with a proof signed by the WRONG CA (root B) is rejected with 400', async () => {
  const proof = pki.verificationCertificate(need('code', 'generateVerificationCode'), pki.hierarchy.rootB());
  const err = await fx.rejection(fx.dpsClient().dpsCertificate.verifyCertificate(rootName(), need('etag2', 'generateVerificationCode'), rg(), dps(), { certificate: proof.certPem }), 'verify with wrong-CA proof');
  assert.equal(fx.statusOf(err), 400, fx.describe(err));
});

test('DPS certificate: verify with a proof whose CN is not the verification code is rejected with 400', async () => {
  need('code', 'generateVerificationCode');
  const proof = pki.verificationCertificate('NOT-THE-CODE-0123456789', pki.hierarchy.rootP());
  const err = await fx.rejection(fx.dpsClient().dpsCertificate.verifyCertificate(rootName(), need('etag2', 'generateVerificationCode'), rg(), dps(), { certificate: proof.certPem }), 'verify with wrong CN');
  assert.equal(fx.statusOf(err), 400, fx.describe(err));
});

test('DPS certificate: the rejected attempts left the certificate unverified with the same etag', async () => {
  const cert = await fx.dpsClient().dpsCertificate.get(rootName(), rg(), dps());
  assert.equal(cert.properties.isVerified, false);
  assert.equal(cert.etag, need('etag2', 'generateVerificationCode'));
});

test('DPS certificate: verify with CN = code signed by root P succeeds: isVerified true and a new etag', async () => {
  const etag2 = need('etag2', 'generateVerificationCode');
  const proof = pki.verificationCertificate(need('code', 'generateVerificationCode'), pki.hierarchy.rootP());
  const cert = await fx.dpsClient().dpsCertificate.verifyCertificate(rootName(), etag2, rg(), dps(), { certificate: proof.certPem });
  assert.equal(cert.properties?.isVerified, true, JSON.stringify(cert));
  assert.equal(cert.properties.subject, 'CN=CheeseCave Conformance Root P', 'the response describes the CA, not the proof');
  assert.ok(cert.etag && cert.etag !== etag2, 'verify changes the etag');
  state.etag3 = cert.etag;
});

test('DPS certificate: get shows isVerified true, and list includes it', async () => {
  const etag3 = need('etag3', 'verify');
  const cert = await fx.dpsClient().dpsCertificate.get(rootName(), rg(), dps());
  assert.equal(cert.properties.isVerified, true);
  assert.equal(cert.etag, etag3);
  assert.ok(cert.properties.certificate == null, 'certificate is null on get, as in Azure\'s recorded answers');
  const list = await fx.dpsClient().dpsCertificate.list(rg(), dps());
  assert.ok(Array.isArray(list.value), 'list has value[]');
  assert.ok(list.value.some((c) => c.name === rootName() && c.properties.isVerified), `list: ${JSON.stringify(list.value.map((c) => c.name))}`);
});

test('DPS certificate: createOrUpdate with isVerified:true uploads a second CA already verified (api-version 2022-02-05)', async () => {
  await fx.ensureDps();
  const root = pki.hierarchy.rootC();
  const client = fx.dpsClient('2022-02-05');
  const existing = await fx.getOrUndefined(client.dpsCertificate.get(secondName(), rg(), dps()));
  const cert = await client.dpsCertificate.createOrUpdate(rg(), dps(), secondName(),
    { properties: { certificate: Buffer.from(root.certPem), isVerified: true } }, existing ? { ifMatch: existing.etag } : {});
  assert.equal(cert.properties?.isVerified, true, JSON.stringify(cert));
  assert.equal(cert.properties.subject, 'CN=CheeseCave Conformance Root C');
  assert.equal(cert.properties.thumbprint.toUpperCase(), root.thumbprint);
  state.secondEtag = cert.etag;
});

test('DPS certificate: updating an existing certificate with a stale If-Match is 412', async () => {
  need('secondEtag', 'second CA upload');
  const root = pki.hierarchy.rootC();
  const err = await fx.rejection(fx.dpsClient().dpsCertificate.createOrUpdate(rg(), dps(), secondName(),
    { properties: { certificate: Buffer.from(root.certPem), isVerified: true } }, { ifMatch: 'AAAAAAAAAAA=' }), 'update with stale If-Match');
  assert.equal(fx.statusOf(err), 412, fx.describe(err));
});

test('DPS certificate: delete with a wrong etag fails (412) and the certificate stays', async () => {
  const etag = need('secondEtag', 'second CA upload');
  const err = await fx.rejection(fx.dpsClient().dpsCertificate.delete(rg(), dps(), secondName(), 'AAAAAAAAAAA='), 'delete with wrong etag');
  assert.equal(fx.statusOf(err), 412, fx.describe(err));
  const cert = await fx.dpsClient().dpsCertificate.get(secondName(), rg(), dps());
  assert.equal(cert.etag, etag);
});

test('DPS certificate: delete with the current etag removes it; get is 404 afterwards', async () => {
  const etag = need('secondEtag', 'second CA upload');
  await fx.dpsClient().dpsCertificate.delete(rg(), dps(), secondName(), etag);
  const err = await fx.rejection(fx.dpsClient().dpsCertificate.get(secondName(), rg(), dps()), 'get deleted certificate');
  assert.equal(fx.statusOf(err), 404, fx.describe(err));
});

test('DPS certificate: get of a missing certificate is 404', async () => {
  need('etag1', 'createOrUpdate'); // the certificate surface works at all
  const err = await fx.rejection(fx.dpsClient().dpsCertificate.get('conf-no-such-cert', rg(), dps()), 'get missing certificate');
  assert.equal(fx.statusOf(err), 404, fx.describe(err));
});

'use strict';
// Test certificates made with the system openssl (independent of CheeseCave's own PKI code).
// Everything lands in one folder: CHEESECAVE_CONFORMANCE_WORK/pki when run.sh set it (shared by all test files of a
// run, so a CA uploaded to DPS by one file matches the device certificates another file makes), else a temp folder.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const crypto = require('node:crypto');
const { execFileSync } = require('node:child_process');

let folder;
function dir() {
  if (folder) return folder;
  if (process.env.CHEESECAVE_CONFORMANCE_WORK) {
    folder = path.join(process.env.CHEESECAVE_CONFORMANCE_WORK, 'pki');
    fs.mkdirSync(folder, { recursive: true, mode: 0o700 });
  } else {
    folder = fs.mkdtempSync(path.join(os.tmpdir(), 'cheesecave-conformance-pki-'));
  }
  return folder;
}

function openssl(args, options = {}) {
  try {
    return execFileSync('openssl', args, { cwd: dir(), stdio: ['pipe', 'pipe', 'pipe'], ...options });
  } catch (err) {
    throw new Error(`openssl ${args.join(' ')} failed: ${err.stderr ? err.stderr.toString() : err.message}`);
  }
}

const EXTENSIONS = {
  root: ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature', 'subjectKeyIdentifier=hash'],
  intermediate: ['basicConstraints=critical,CA:TRUE,pathlen:0', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature', 'subjectKeyIdentifier=hash', 'authorityKeyIdentifier=keyid:always'],
  device: ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature,keyEncipherment', 'extendedKeyUsage=clientAuth', 'subjectKeyIdentifier=hash', 'authorityKeyIdentifier=keyid:always'],
  // The proof-of-possession certificate: subject CN = verification code, signed by the CA being verified.
  verification: ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature,keyEncipherment', 'subjectKeyIdentifier=hash', 'authorityKeyIdentifier=keyid:always'],
};

function load(name) {
  const certPath = path.join(dir(), name + '.cert.pem');
  const keyPath = path.join(dir(), name + '.key.pem');
  const certPem = fs.readFileSync(certPath, 'utf8');
  const x509 = new crypto.X509Certificate(certPem);
  return {
    name,
    certPath,
    keyPath,
    certPem,
    keyPem: fs.readFileSync(keyPath, 'utf8'),
    subject: x509.subject,
    /** Upper-case hex SHA-1, as DPS reports thumbprints. */
    thumbprint: x509.fingerprint.replace(/:/g, ''),
    x509,
  };
}

/**
 * Creates (or reuses, when the files already exist) the certificate `name` with subject CN=`cn`.
 * kind: root | intermediate | device | verification; issuer: the object returned for the CA (not for root).
 */
function make(name, { cn, kind, issuer }) {
  if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new Error(`bad certificate file name ${name}`);
  const certPath = path.join(dir(), name + '.cert.pem');
  if (fs.existsSync(certPath)) {
    const existing = load(name);
    if (existing.subject === `CN=${cn}`) return existing;
  }
  const keyPath = path.join(dir(), name + '.key.pem');
  const ext = path.join(dir(), name + '.ext');
  fs.writeFileSync(ext, `[req]\ndistinguished_name = dn\nprompt = no\n[dn]\n[v3]\n${EXTENSIONS[kind].join('\n')}\n`);
  openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', keyPath]);
  fs.chmodSync(keyPath, 0o600);
  const serial = '0x' + crypto.randomBytes(12).toString('hex').replace(/^0/, '1');
  if (kind === 'root') {
    openssl(['req', '-x509', '-new', '-key', keyPath, '-subj', `/CN=${cn}`, '-days', '30', '-sha256', '-set_serial', serial,
      '-config', ext, '-extensions', 'v3', '-out', certPath]);
  } else {
    if (!issuer) throw new Error(`${name}: an issuer is required`);
    const csr = path.join(dir(), name + '.csr');
    openssl(['req', '-new', '-key', keyPath, '-subj', `/CN=${cn}`, '-config', ext, '-out', csr]);
    openssl(['x509', '-req', '-in', csr, '-CA', issuer.certPath, '-CAkey', issuer.keyPath, '-set_serial', serial, '-days', '30', '-sha256',
      '-extfile', ext, '-extensions', 'v3', '-out', certPath]);
    fs.rmSync(csr);
  }
  fs.rmSync(ext);
  return load(name);
}

/** Tag that ties DPS objects (certificate names, enrollment ids) to this folder's key material. */
function tag(cert) {
  return cert.thumbprint.slice(0, 8).toLowerCase();
}

/**
 * The hierarchies the suite uses (one DPS certificate entry per root: no root is uploaded twice):
 * - A: root A → intermediate A → device leaves (the seed's main chain; root A is verified in DPS by proof of
 *   possession in the fixture, and the service and device tests enroll on it).
 * - P: root P, uploaded and verified step by step by the certificate tests.
 * - B: root B → intermediate B → device leaf; never uploaded ("unknown CA"); it also signs the wrong-CA proof.
 * - C: root C, uploaded with isVerified:true and deleted by the certificate tests.
 * - D: root D → device leaves; uploaded with isVerified:true for the disabled-group case.
 * - E: root E → device leaf; uploaded but never verified.
 */
const root = (letter) => () => make('root' + letter, { cn: `CheeseCave Conformance Root ${letter}`, kind: 'root' });
const hierarchy = {
  rootA: root('A'),
  intA: () => make('intA', { cn: 'CheeseCave Conformance Intermediate A', kind: 'intermediate', issuer: hierarchy.rootA() }),
  rootP: root('P'),
  rootB: root('B'),
  intB: () => make('intB', { cn: 'CheeseCave Conformance Intermediate B', kind: 'intermediate', issuer: hierarchy.rootB() }),
  rootC: root('C'),
  rootD: root('D'),
  rootE: root('E'),
};

/** A device leaf with CN = registrationId under intermediate A (or another CA). */
function deviceLeaf(registrationId, issuer = hierarchy.intA()) {
  return make('device-' + registrationId, { cn: registrationId, kind: 'device', issuer });
}

/** The proof-of-possession certificate for `code`, signed by `ca`. */
function verificationCertificate(code, ca) {
  const name = 'verify-' + crypto.createHash('sha256').update(code + '|' + ca.name).digest('hex').slice(0, 16);
  return make(name, { cn: code, kind: 'verification', issuer: ca });
}

module.exports = { dir, make, tag, hierarchy, deviceLeaf, verificationCertificate };

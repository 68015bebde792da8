/**
 * The agent's TLS identity: a self-signed certificate made on first start
 * with @peculiar/x509 over Node's webcrypto (pure JS: the single executable
 * needs no openssl on the box), kept as `agent-cert.pem` and
 * `agent-key.pem` (mode 0600) in the agent's state directory.
 */
import { createHash, webcrypto, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { writeAtomic } from '../agent/store.js';

export const CERT_FILE = 'agent-cert.pem';
export const KEY_FILE = 'agent-key.pem';

export interface TlsIdentity {
  cert: string;
  key: string;
  /** SHA-256 of the certificate's DER, uppercase hex with colons (as `openssl x509 -fingerprint -sha256` prints it). */
  fingerprint: string;
  /** Made just now (first start). */
  created: boolean;
}

/** `AB:CD:…` of a DER certificate. */
export function fingerprintOfDer(der: Uint8Array): string {
  return createHash('sha256')
    .update(der)
    .digest('hex')
    .toUpperCase()
    .replace(/(..)(?!$)/g, '$1:');
}

export function fingerprintOfPem(pem: string): string {
  return fingerprintOfDer(new X509Certificate(pem).raw);
}

/** The PEM of a DER certificate (what a client pins as its only CA once it has checked the fingerprint). */
export function pemOfDer(der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n');
  return `-----BEGIN CERTIFICATE-----\n${b64}${b64.endsWith('\n') ? '' : '\n'}-----END CERTIFICATE-----\n`;
}

function toPem(der: ArrayBuffer, label: string): string {
  const b64 = Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n');
  return `-----BEGIN ${label}-----\n${b64}${b64.endsWith('\n') ? '' : '\n'}-----END ${label}-----\n`;
}

/** A new self-signed ECDSA P-256 certificate, valid for ten years. */
export async function makeSelfSigned(commonName = `outpost-agent ${hostname()}`): Promise<{ cert: string; key: string }> {
  // Loaded when a certificate is made (first start only), after the Reflect calls it needs.
  await import('./reflect-shim.js');
  const mod = (await import('@peculiar/x509')) as typeof import('@peculiar/x509') & { default?: typeof import('@peculiar/x509') };
  // A CommonJS package: its exports are the namespace under vitest, `default` in the bundle.
  const x509 = mod.X509CertificateGenerator ? mod : (mod.default as typeof import('@peculiar/x509'));
  x509.cryptoProvider.set(webcrypto as unknown as Crypto);
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as unknown as CryptoKeyPair;
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: Buffer.from(webcrypto.getRandomValues(new Uint8Array(16))).toString('hex').replace(/^[89a-f]/, '1'),
    name: `CN=${commonName.replace(/[,=+<>#;"\\]/g, ' ')}`,
    notBefore: new Date(now - 60 * 60 * 1000),
    notAfter: new Date(now + 10 * 365 * 24 * 60 * 60 * 1000),
    signingAlgorithm: alg,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyCertSign, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
    ],
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey as unknown as webcrypto.CryptoKey);
  return { cert: cert.toString('pem') + '\n', key: toPem(pkcs8, 'PRIVATE KEY') };
}

/** The identity in `stateDir`, made (and written 0600) when there is none. */
export async function loadOrCreateIdentity(stateDir: string): Promise<TlsIdentity> {
  const certPath = join(stateDir, CERT_FILE);
  const keyPath = join(stateDir, KEY_FILE);
  if (existsSync(certPath) && existsSync(keyPath)) {
    const cert = readFileSync(certPath, 'utf8');
    const key = readFileSync(keyPath, 'utf8');
    return { cert, key, fingerprint: fingerprintOfPem(cert), created: false };
  }
  const made = await makeSelfSigned();
  writeAtomic(keyPath, made.key);
  writeAtomic(certPath, made.cert);
  return { ...made, fingerprint: fingerprintOfPem(made.cert), created: true };
}

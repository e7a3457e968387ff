/**
 * The certificate and key of `--tls-cert`/`--tls-key`, read from disk and checked before Bun ever sees them: a
 * file that cannot be read, is not PEM, or a key that does not belong to the certificate is a one-line error
 * (at start: exit 2; on SIGHUP: the old pair stays). Never logs or returns the key's text in an error.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';

export interface TlsFiles {
  certFile: string;
  keyFile: string;
}

export interface TlsPair {
  cert: string;
  key: string;
  /** For log lines: who the certificate is for and until when (never the key). */
  subject: string;
  validTo: string;
}

export type TlsLoad = { ok: true; pair: TlsPair } | { ok: false; error: string };

function readText(path: string, what: string): string | { error: string } {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return { error: `cannot read the ${what} ${JSON.stringify(path)}${code ? ` (${code})` : ''}` };
  }
}

export function loadTlsPair(files: TlsFiles): TlsLoad {
  const cert = readText(files.certFile, 'certificate');
  if (typeof cert !== 'string') return { ok: false, error: cert.error };
  const key = readText(files.keyFile, 'private key');
  if (typeof key !== 'string') return { ok: false, error: key.error };
  let x509: X509Certificate;
  try {
    if (!cert.includes('-----BEGIN CERTIFICATE-----')) throw new Error('no PEM certificate');
    x509 = new X509Certificate(cert);
  } catch {
    return { ok: false, error: `${JSON.stringify(files.certFile)} is not a PEM certificate` };
  }
  let privateKey;
  try {
    if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(key)) throw new Error('no PEM key');
    privateKey = createPrivateKey(key);
  } catch {
    return { ok: false, error: `${JSON.stringify(files.keyFile)} is not a PEM private key (an encrypted key is not supported)` };
  }
  if (!x509.checkPrivateKey(privateKey)) {
    return { ok: false, error: `the private key ${JSON.stringify(files.keyFile)} does not belong to the certificate ${JSON.stringify(files.certFile)}` };
  }
  return { ok: true, pair: { cert, key, subject: x509.subject.replace(/\n/g, ', '), validTo: x509.validTo } };
}

/**
 * Throw-away TLS material for a local redis-server: a self-signed CA and a server certificate
 * it signs for 127.0.0.1 and localhost, made with the `openssl` command line tool.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { findOnPath, run } from './process';

export interface TestCertificates {
  /** The CA certificate (PEM): what a client trusts, e.g. ioredis `tls: { ca }`. */
  readonly ca: string;
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
}

const OPENSSL_HINT =
  'openssl was not found on PATH: install it with `apt-get install -y openssl` (Debian/Ubuntu).';

/** Our own config, so the result does not depend on the system's openssl.cnf. */
const OPENSSL_CONFIG = `
[req]
distinguished_name = dn
prompt = no
[dn]
CN = localhost
[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
authorityKeyIdentifier = keyid
`;

/** P-256 keys: generated in milliseconds, unlike RSA. */
const NEW_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
const DAYS = ['-days', '2'];

function openssl(args: string[], cwd: string): Promise<string> {
  const bin = findOnPath('openssl');
  if (!bin) throw new Error(OPENSSL_HINT);
  return run(bin, args, cwd);
}

/** Writes `ca.crt`, `server.crt`, `server.key` (and their inputs) into `dir`. */
export async function createTestCertificates(dir: string): Promise<TestCertificates> {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'openssl.cnf'), OPENSSL_CONFIG);
  const config = ['-config', 'openssl.cnf'];
  // prettier-ignore
  await openssl(['req', '-x509', '-new', ...NEW_KEY, '-keyout', 'ca.key', '-out', 'ca.crt',
    ...DAYS, '-subj', '/CN=atomic-queues test CA', ...config, '-extensions', 'ca_ext'], dir);
  // prettier-ignore
  await openssl(['req', '-new', ...NEW_KEY, '-keyout', 'server.key', '-out', 'server.csr',
    ...config], dir);
  // prettier-ignore
  await openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key',
    '-set_serial', `0x${crypto.randomBytes(8).toString('hex')}`, ...DAYS, '-out', 'server.crt',
    '-extfile', 'openssl.cnf', '-extensions', 'server_ext'], dir);
  const caFile = path.join(dir, 'ca.crt');
  return {
    ca: fs.readFileSync(caFile, 'utf8'),
    caFile,
    certFile: path.join(dir, 'server.crt'),
    keyFile: path.join(dir, 'server.key'),
  };
}

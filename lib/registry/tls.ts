// TLS trust for registries, as containers-certs.d(5) and Docker define it:
// the system's CA bundle plus, per registry host[:port], the *.crt files
// (extra CAs) and *.cert/*.key pairs (client certificates) of
//   $XDG_CONFIG_HOME/containers/certs.d/HOST/   (~/.config/…)
//   /etc/containers/certs.d/HOST/
//   /etc/docker/certs.d/HOST/
// $SKIFF_CERTS_DIR, when set, replaces those three (tests).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { createRequire } from 'node:module';
import { errnoCode, SkiffError } from '../errors.js';

// node:tls (~8 ms with its TLS wrap) loads when a certificate list is needed: a plain-HTTP registry never needs it.
const requireBuiltin = createRequire('/'); // for built-in modules only: the base path plays no part

/** Where Go (and so Podman and Docker) look for the system bundle, first found wins. */
const SYSTEM_BUNDLES = [
  '/etc/ssl/certs/ca-certificates.crt',
  '/etc/pki/tls/certs/ca-bundle.crt',
  '/etc/ssl/ca-bundle.pem',
  '/etc/pki/tls/cacert.pem',
  '/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem',
  '/etc/ssl/cert.pem',
];

export interface HostTls {
  /** Extra CA certificates (PEM) for this host. */
  ca: string[];
  /** A client certificate and its key, when the host's directory has one. */
  cert?: string;
  key?: string;
  /** The files used, for messages. */
  files: string[];
}

/** The certs.d base directories, most specific first. */
export function certsDirs(env: NodeJS.ProcessEnv = process.env): string[] {
  const override = env['SKIFF_CERTS_DIR'];
  if (override) return [override];
  const xdg = env['XDG_CONFIG_HOME'];
  const configHome = xdg && isAbsolute(xdg) ? xdg : join(env['HOME'] || homedir(), '.config');
  return [join(configHome, 'containers', 'certs.d'), '/etc/containers/certs.d', '/etc/docker/certs.d'];
}

/** The certs.d directory a user should put a registry's CA in (for error messages). */
export function suggestedCertsDir(host: string, env: NodeJS.ProcessEnv = process.env): string {
  if (env['SKIFF_CERTS_DIR']) return join(env['SKIFF_CERTS_DIR'], host);
  if (process.getuid?.() === 0) return `/etc/containers/certs.d/${host}`;
  return `~/.config/containers/certs.d/${host}`;
}

/** Reads HOST's certs.d directories. A missing directory is normal; an unreadable file is an error. */
export function loadHostTls(host: string, dirs: string[] = certsDirs()): HostTls {
  const out: HostTls = { ca: [], files: [] };
  for (const base of dirs) {
    const dir = join(base, host);
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'ENOENT' || code === 'ENOTDIR') continue;
      throw new SkiffError(`cannot read TLS directory ${dir}: ${(err as Error).message}`);
    }
    for (const name of names) {
      const file = join(dir, name);
      if (name.endsWith('.crt')) {
        out.ca.push(readPem(file));
        out.files.push(file);
      } else if (name.endsWith('.cert')) {
        const keyFile = join(dir, `${name.slice(0, -'.cert'.length)}.key`);
        if (!existsSync(keyFile)) throw new SkiffError(`client certificate ${file} has no key: expected ${keyFile}`);
        if (out.cert === undefined) {
          out.cert = readPem(file);
          out.key = readPem(keyFile);
          out.files.push(file, keyFile);
        }
      } else if (name.endsWith('.key')) {
        const certFile = join(dir, `${name.slice(0, -'.key'.length)}.cert`);
        if (!existsSync(certFile)) throw new SkiffError(`client key ${file} has no certificate: expected ${certFile}`);
      }
    }
  }
  return out;
}

function readPem(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new SkiffError(`cannot read ${file}: ${(err as Error).message}`);
  }
}

let systemCAs: string[] | undefined;

/**
 * The system's trusted CAs: $SSL_CERT_FILE or the distribution's bundle (what
 * the admin installed, unlike Node's built-in Mozilla list), plus
 * $NODE_EXTRA_CA_CERTS, which Node would otherwise add for us. Node's own list
 * when the system has no bundle.
 */
export function systemCertificates(env: NodeJS.ProcessEnv = process.env): string[] {
  if (systemCAs !== undefined) return systemCAs;
  const out: string[] = [];
  const candidates = env['SSL_CERT_FILE'] ? [env['SSL_CERT_FILE']] : SYSTEM_BUNDLES;
  for (const file of candidates) {
    try {
      out.push(readFileSync(file, 'utf8'));
      break;
    } catch {
      // Try the next location.
    }
  }
  if (out.length === 0) out.push(...(requireBuiltin('node:tls') as typeof import('node:tls')).rootCertificates);
  const extra = env['NODE_EXTRA_CA_CERTS'];
  if (extra) {
    try {
      out.push(readFileSync(extra, 'utf8'));
    } catch {
      // Node itself only warns about an unreadable NODE_EXTRA_CA_CERTS.
    }
  }
  systemCAs = out;
  return out;
}

// What went wrong talking to a registry, as one line a user can act on:
// network and TLS failures by their Node error codes, and the distribution
// API's JSON error bodies ({"errors":[{"code","message","detail"}]}).
import { errnoCode, SkiffError } from '../errors.js';
import { suggestedCertsDir } from './tls.js';

export type NetworkFailure =
  | 'tls-protocol'
  | 'refused'
  | 'dns'
  | 'reset'
  | 'timeout'
  | 'unknown-ca'
  | 'cert-expired'
  | 'cert-name'
  | 'cert-other'
  | 'other';

const UNKNOWN_CA = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_UNTRUSTED',
]);
const TLS_PROTOCOL = new Set([
  'EPROTO',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'ERR_SSL_PACKET_LENGTH_TOO_LONG',
  'ERR_SSL_UNKNOWN_PROTOCOL',
  'ERR_SSL_HTTP_REQUEST',
  'ERR_SSL_RECORD_LAYER_FAILURE',
]);

export function classifyNetworkError(err: unknown): NetworkFailure {
  const code = errnoCode(err) ?? errnoCode((err as { cause?: unknown } | undefined)?.cause);
  const name = (err as { name?: string } | undefined)?.name;
  // node:http's abort (its signal) carries ABORT_ERR: skiff aborts a request only when its time is up.
  if (code === undefined || code === 'ABORT_ERR') {
    if (name === 'AbortError' || name === 'TimeoutError') return 'timeout';
    if (/premature close/i.test(String((err as Error | undefined)?.message))) return 'reset';
    return 'other';
  }
  if (TLS_PROTOCOL.has(code) || code.startsWith('ERR_SSL_')) return 'tls-protocol';
  if (UNKNOWN_CA.has(code)) return 'unknown-ca';
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') return 'cert-expired';
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return 'cert-name';
  if (code.startsWith('CERT_') || code.startsWith('ERR_TLS_')) return 'cert-other';
  if (code === 'ECONNREFUSED') return 'refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME') return code === 'EAI_AGAIN' ? 'timeout' : 'dns';
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'ECONNABORTED' || code === 'ERR_STREAM_PREMATURE_CLOSE') return 'reset';
  if (code === 'ETIMEDOUT' || code === 'ESOCKETTIMEDOUT' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return 'timeout';
  return 'other';
}

/** Failures worth another try of an idempotent request. */
export function isTransient(err: unknown): boolean {
  const kind = classifyNetworkError(err);
  return kind === 'reset' || kind === 'timeout';
}

/** A failed connection, with its kind (push tries a cut or a timeout again). */
export class RegistryNetworkError extends SkiffError {
  constructor(
    message: string,
    readonly kind: NetworkFailure,
  ) {
    super(message);
  }
}

/** One line for a failed connection to `host` (host[:port] as the user knows it). */
export function networkError(host: string, err: unknown): SkiffError {
  if (err instanceof SkiffError) return err;
  const kind = classifyNetworkError(err);
  return new RegistryNetworkError(describeNetworkFailure(host, err, kind).message, kind);
}

function describeNetworkFailure(host: string, err: unknown, kind: NetworkFailure): SkiffError {
  const detail = (err as Error | undefined)?.message?.replace(/^request to \S+ failed, reason: /, '') ?? String(err);
  switch (kind) {
    case 'refused':
      return new SkiffError(`cannot connect to registry ${host}: connection refused`);
    case 'dns':
      return new SkiffError(`cannot connect to registry ${host}: the host name does not resolve`);
    case 'timeout':
      return new SkiffError(`registry ${host} did not answer in time (${detail})`);
    case 'reset':
      return new SkiffError(`the connection to registry ${host} was cut (${detail})`);
    case 'unknown-ca':
      return new SkiffError(
        `registry ${host}: x509: certificate signed by unknown authority: ` +
          `add the CA to ${suggestedCertsDir(host)}/ca.crt or use --tls-verify=false`,
      );
    case 'cert-expired':
      return new SkiffError(`registry ${host}: x509: the TLS certificate has expired or is not yet valid (${detail})`);
    case 'cert-name':
      return new SkiffError(`registry ${host}: x509: the TLS certificate is not valid for this host name (${detail})`);
    case 'cert-other':
      return new SkiffError(`registry ${host}: TLS certificate problem: ${detail}`);
    case 'tls-protocol':
      return new SkiffError(
        `registry ${host} does not answer TLS (${detail.split('\n')[0]}): if it serves plain HTTP, ` +
          'mark it insecure = true in registries.conf or use --tls-verify=false',
      );
    default:
      return new SkiffError(`cannot talk to registry ${host}: ${detail.split('\n')[0]}`);
  }
}

export interface RegistryErrorEntry {
  code: string;
  message: string;
}

/** The errors of a distribution API error body; [] when the body is not one. */
export function parseErrorBody(body: Buffer | string): RegistryErrorEntry[] {
  try {
    const doc = JSON.parse(body.toString()) as { errors?: unknown; details?: unknown };
    if (!Array.isArray(doc.errors)) return [];
    return doc.errors.flatMap((e: unknown) => {
      if (!e || typeof e !== 'object') return [];
      const { code, message } = e as { code?: unknown; message?: unknown };
      return [{ code: typeof code === 'string' ? code : 'UNKNOWN', message: typeof message === 'string' ? message : '' }];
    });
  } catch {
    return [];
  }
}

/** "manifest unknown (MANIFEST_UNKNOWN)" or the status line, for messages. */
export function describeErrorBody(status: number, statusText: string, body: Buffer | string): string {
  const errors = parseErrorBody(body);
  if (errors.length > 0) return errors.map((e) => (e.message ? `${e.message} (${e.code})` : e.code)).join('; ');
  return `HTTP ${status}${statusText ? ` ${statusText}` : ''}`;
}

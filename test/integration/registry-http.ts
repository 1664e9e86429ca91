// The test harness's own small HTTP client for talking to test registries
// (pushing images, checking state). Deliberately independent of lib/registry:
// the tooling that builds the fixtures must not share the code under test.
import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';

export interface HarnessResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface HarnessRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** PEM of a CA to trust (TLS registries). */
  caFile?: string;
  timeoutMs?: number;
}

/** One request; the whole body is read. Rejects on network errors and on a timeout. */
export function request(url: string, opts: HarnessRequest = {}): Promise<HarnessResponse> {
  const u = new URL(url);
  const mod = u.protocol === 'https:' ? https : http;
  const body = opts.body === undefined ? undefined : Buffer.from(opts.body);
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (body !== undefined) headers['content-length'] = String(body.length);
  return new Promise((resolve, reject) => {
    const req = mod.request(
      u,
      {
        method: opts.method ?? 'GET',
        headers,
        agent: false,
        ...(u.protocol === 'https:' && opts.caFile ? { ca: readFileSync(opts.caFile) } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      },
    );
    req.setTimeout(opts.timeoutMs ?? 30_000, () => req.destroy(new Error(`request to ${url} timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** Throws unless the status is one of `ok`, naming the request and the registry's answer. */
export function expectStatus(what: string, res: HarnessResponse, ok: number[]): void {
  if (!ok.includes(res.status)) {
    throw new Error(`${what}: HTTP ${res.status}: ${res.body.toString('utf8').slice(0, 500)}`);
  }
}

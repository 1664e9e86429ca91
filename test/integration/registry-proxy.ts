// A plain-HTTP proxy on 127.0.0.1 in front of a real test registry, for the
// failures a healthy registry never produces: a blob served with flipped bytes,
// a connection cut mid-blob, a server that ignores Range, a canned answer.
import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { TestRegistry } from './registry-harness.js';

export interface ProxiedRequest {
  method: string;
  path: string;
  status: number;
  range?: string;
  /** Whether the request carried an Authorization header. */
  authorized: boolean;
}

export interface CannedResponse {
  status: number;
  headers?: Record<string, string>;
  body?: Buffer | string;
}

export interface RegistryProxyOptions {
  /** Flip a byte of every matching blob response (GET …/blobs/…, 200 or 206). */
  corrupt?: (path: string) => boolean;
  /** Cut the connection after this many body bytes of a matching response (`attempt` counts from 1 per path). */
  cutAfter?: (path: string, attempt: number) => number | undefined;
  /** Send this many body bytes of a matching blob response, then hold the connection open without sending more until the proxy stops: a pull that is surely still downloading. */
  stallAfter?: (path: string) => number | undefined;
  /** Drop the Range header, so the registry answers 200 with the whole blob. */
  ignoreRange?: boolean;
  /** Cut the connection after this many bytes of a matching request's body (uploads; `attempt` counts from 1 per method and path without query). */
  cutUploadAfter?: (method: string, path: string, attempt: number) => number | undefined;
  /** Answer some requests without asking the registry. */
  intercept?: (req: { method: string; path: string; headers: http.IncomingHttpHeaders }) => CannedResponse | undefined;
}

export interface TestProxy {
  /** 127.0.0.1:PORT (plain HTTP; a loopback registry, so clients fall back to HTTP). */
  host: string;
  url: string;
  requests: ProxiedRequest[];
  stop(): Promise<void>;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'upgrade', 'te', 'trailer']);
const isBlobGet = (method: string, path: string) => method === 'GET' && /^\/v2\/.+\/blobs\/[a-z0-9]+:[a-f0-9]+/.test(path);

export async function startRegistryProxy(reg: TestRegistry, opts: RegistryProxyOptions = {}): Promise<TestProxy> {
  const upstream = new URL(reg.url);
  const ca = reg.caFile ? readFileSync(reg.caFile) : undefined;
  const attempts = new Map<string, number>();
  const requests: ProxiedRequest[] = [];

  const server = http.createServer((req, res) => {
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const record: ProxiedRequest = { method, path, status: 0, authorized: req.headers.authorization !== undefined };
    if (req.headers.range) record.range = req.headers.range;
    requests.push(record);

    const canned = opts.intercept?.({ method, path, headers: req.headers });
    if (canned) {
      record.status = canned.status;
      const body = canned.body === undefined ? Buffer.alloc(0) : Buffer.from(canned.body);
      res.writeHead(canned.status, { 'content-length': String(body.length), ...(canned.headers ?? {}) });
      res.end(method === 'HEAD' ? undefined : body);
      return;
    }

    const headers: http.OutgoingHttpHeaders = {};
    for (const [k, v] of Object.entries(req.headers)) if (!HOP_BY_HOP.has(k) && v !== undefined) headers[k] = v;
    headers.host = upstream.host;
    // The registry writes upload locations with this host, so that clients come back through the proxy.
    headers['x-forwarded-host'] = req.headers.host ?? '';
    headers['x-forwarded-proto'] = 'http';
    if (opts.ignoreRange) delete headers.range;
    const mod = upstream.protocol === 'https:' ? https : http;
    let stalled = false;
    const up = mod.request(
      { protocol: upstream.protocol, hostname: upstream.hostname, port: upstream.port, method, path, headers, agent: false, ...(ca ? { ca } : {}) },
      (upRes) => {
        const status = upRes.statusCode ?? 502;
        record.status = status;
        const outHeaders: http.OutgoingHttpHeaders = {};
        for (const [k, v] of Object.entries(upRes.headers)) if (!HOP_BY_HOP.has(k) && v !== undefined) outHeaders[k] = v;
        res.writeHead(status, outHeaders);
        const blob = isBlobGet(method, path) && (status === 200 || status === 206);
        const attempt = (attempts.get(path) ?? 0) + 1;
        attempts.set(path, attempt);
        const cut = blob ? opts.cutAfter?.(path, attempt) : undefined;
        const stall = blob ? opts.stallAfter?.(path) : undefined;
        let corrupt = blob && opts.corrupt?.(path) === true;
        let sent = 0;
        upRes.on('data', (chunk: Buffer) => {
          if (stalled) return;
          if (corrupt && chunk.length > 0) {
            chunk = Buffer.from(chunk);
            const at = Math.min(100, chunk.length - 1);
            chunk[at] = chunk[at]! ^ 0xff;
            corrupt = false;
          }
          if (stall !== undefined && sent + chunk.length >= stall) {
            res.write(chunk.subarray(0, Math.max(0, stall - sent)));
            sent = stall;
            stalled = true; // the client's connection stays open until stop()
            upRes.destroy();
            return;
          }
          if (cut !== undefined && sent + chunk.length >= cut) {
            res.write(chunk.subarray(0, Math.max(0, cut - sent)), () => res.destroy());
            upRes.destroy();
            return;
          }
          sent += chunk.length;
          if (!res.write(chunk)) {
            upRes.pause();
            res.once('drain', () => upRes.resume());
          }
        });
        upRes.on('end', () => res.end());
        upRes.on('error', () => {
          if (!stalled) res.destroy();
        });
      },
    );
    up.on('error', (err) => {
      if (record.status === -1 || stalled) return; // cut or stalled on purpose
      record.status = 502;
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`proxy: ${err.message}`);
    });
    const uploadKey = `${method} ${path.split('?')[0]}`;
    const uploadAttempt = (attempts.get(uploadKey) ?? 0) + 1;
    attempts.set(uploadKey, uploadAttempt);
    const cutUpload = opts.cutUploadAfter?.(method, path, uploadAttempt);
    if (cutUpload === undefined) {
      req.pipe(up);
      return;
    }
    let received = 0;
    req.on('data', (chunk: Buffer) => {
      if (received + chunk.length >= cutUpload) {
        up.write(chunk.subarray(0, Math.max(0, cutUpload - received)));
        received = cutUpload;
        record.status = -1;
        up.destroy();
        req.socket.destroy();
        return;
      }
      received += chunk.length;
      up.write(chunk);
    });
    req.on('end', () => up.end());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    url: `http://127.0.0.1:${port}`,
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Passes everything through but flips a byte in every blob response `corrupt` selects. */
export function startBlobTamperingProxy(reg: TestRegistry, opts: { corrupt: (path: string) => boolean }): Promise<TestProxy> {
  return startRegistryProxy(reg, { corrupt: opts.corrupt });
}

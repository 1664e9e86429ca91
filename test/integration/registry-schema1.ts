// A Docker schema 1 image, signed the way libtrust's "pretty" JWS does it, so
// that a real distribution registry (started with { schema1: true }) accepts
// and serves it: the registry verifies the signature and that the layers exist.
//
// libtrust: the payload is the manifest JSON (3-space indent); formatLength is
// where the signatures get spliced in (just before the final "\n}"), formatTail
// the rest; the signature covers base64url(protected) + "." + base64url(payload).
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { MEDIA_TYPE } from '../../lib/oci/image-spec.js';
import type { TestRegistry } from './registry-harness.js';
import { compress, pushRawBlob, pushRawManifest, sha256, type TarEntry } from './registry-push.js';
import { makeTar } from '../unit/helpers/make-tar.js';

const b64url = (data: Buffer | string): string => Buffer.from(data).toString('base64url');

export function signedSchema1Manifest(repo: string, tag: string, layerDigest: string): Buffer {
  const id = randomBytes(32).toString('hex');
  const manifest = {
    schemaVersion: 1,
    name: repo,
    tag,
    architecture: 'amd64',
    fsLayers: [{ blobSum: layerDigest }],
    history: [{ v1Compatibility: JSON.stringify({ id, created: '2016-01-01T00:00:00Z', os: 'linux', architecture: 'amd64' }) }],
  };
  const payload = Buffer.from(JSON.stringify(manifest, null, 3));
  const text = payload.toString('utf8');
  const close = text.lastIndexOf('}');
  let formatLength = close;
  while (formatLength > 0 && /\s/.test(text[formatLength - 1]!)) formatLength--;
  const formatTail = text.slice(formatLength);

  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' });
  const protectedHeader = b64url(JSON.stringify({ formatLength, formatTail: b64url(formatTail), time: new Date().toISOString() }));
  const signature = sign('sha256', Buffer.from(`${protectedHeader}.${b64url(payload)}`), { key: privateKey, dsaEncoding: 'ieee-p1363' });
  const signatures = [
    { header: { jwk: { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }, alg: 'ES256' }, signature: b64url(signature), protected: protectedHeader },
  ];
  const sigText = JSON.stringify(signatures, null, 3).replace(/\n/g, '\n   ');
  return Buffer.from(`${text.slice(0, formatLength)},\n   "signatures": ${sigText}${formatTail}`);
}

/** Pushes a one-layer schema 1 image; the registry must run with { schema1: true }. Returns the manifest's digest. */
export async function pushSchema1Image(reg: TestRegistry, repo: string, tag: string, entries: TarEntry[]): Promise<string> {
  const blob = compress(makeTar(entries), 'gzip');
  await pushRawBlob(reg, repo, blob);
  const bytes = signedSchema1Manifest(repo, tag, sha256(blob));
  return pushRawManifest(reg, repo, tag, bytes, MEDIA_TYPE.dockerSchema1Signed);
}

import { describe, expect, it } from 'vitest';
import { MEDIA_TYPE } from '../../lib/oci/image-spec.js';
import { checkDescribedAs, digestOf, parseImageConfig, parseManifestDocument } from '../../lib/registry/manifest.js';

const D = (c: string) => `sha256:${c.repeat(64)}`;
const desc = (mediaType: string, c: string) => ({ mediaType, digest: D(c), size: 10 });
const manifest = (extra: Record<string, unknown> = {}) => ({
  schemaVersion: 2,
  config: desc(MEDIA_TYPE.ociConfig, 'a'),
  layers: [desc(MEDIA_TYPE.ociLayerGzip, 'b')],
  ...extra,
});
const bytes = (doc: unknown) => Buffer.from(JSON.stringify(doc));
const WHAT = 'the manifest of r/app:1';

describe('parseManifestDocument: what the bytes are', () => {
  it("trusts the body's own mediaType first", () => {
    const doc = parseManifestDocument(bytes(manifest({ mediaType: MEDIA_TYPE.dockerManifest })), 'application/json', WHAT);
    expect(doc).toMatchObject({ kind: 'manifest', mediaType: MEDIA_TYPE.dockerManifest });
  });

  it('then the Content-Type (parameters ignored)', () => {
    const doc = parseManifestDocument(bytes(manifest()), `${MEDIA_TYPE.dockerManifest}; charset=utf-8`, WHAT);
    expect(doc.mediaType).toBe(MEDIA_TYPE.dockerManifest);
    const index = parseManifestDocument(bytes({ schemaVersion: 2, manifests: [] }), MEDIA_TYPE.dockerManifestList, WHAT);
    expect(index).toMatchObject({ kind: 'index', mediaType: MEDIA_TYPE.dockerManifestList });
  });

  it('then the shape, for OCI documents served as application/json', () => {
    expect(parseManifestDocument(bytes(manifest()), 'application/json', WHAT)).toMatchObject({ kind: 'manifest', mediaType: MEDIA_TYPE.ociManifest });
    const index = { schemaVersion: 2, manifests: [{ ...desc(MEDIA_TYPE.ociManifest, 'c'), platform: { os: 'linux', architecture: 'amd64' } }] };
    const doc = parseManifestDocument(bytes(index), null, WHAT);
    expect(doc.kind === 'index' && doc.index.manifests[0]!.platform).toEqual({ os: 'linux', architecture: 'amd64' });
    expect(() => parseManifestDocument(bytes({ schemaVersion: 2 }), 'application/json', WHAT)).toThrow(
      `${WHAT} is neither an image manifest nor an index (no mediaType, Content-Type "application/json")`,
    );
  });

  it('refuses Docker schema 1 by body or by Content-Type', () => {
    const message = `${WHAT} uses Docker schema 1, which skiff does not support: rebuild or re-push the image with a current Docker/Podman/Buildah`;
    const s1 = { schemaVersion: 1, name: 'app', tag: '1', fsLayers: [], history: [] };
    expect(() => parseManifestDocument(bytes(s1), 'application/json', WHAT)).toThrow(message);
    expect(() => parseManifestDocument(bytes(s1), MEDIA_TYPE.dockerSchema1Signed, WHAT)).toThrow(message);
    expect(() => parseManifestDocument(bytes({ name: 'x' }), MEDIA_TYPE.dockerSchema1, WHAT)).toThrow(message);
  });

  it('refuses bad JSON, bad shapes and unknown types, naming the problem', () => {
    expect(() => parseManifestDocument(Buffer.from('{"a":'), MEDIA_TYPE.ociManifest, WHAT)).toThrow(`${WHAT} is not valid JSON`);
    expect(() => parseManifestDocument(Buffer.from('[1]'), MEDIA_TYPE.ociManifest, WHAT)).toThrow(`${WHAT} is not a JSON object`);
    expect(() => parseManifestDocument(bytes(manifest({ layers: [{ mediaType: 'x', digest: 'sha256:abc', size: 1 }] })), null, WHAT)).toThrow(
      `${WHAT} is not a valid image manifest: layers.0.digest: not a sha256/sha384/sha512 digest`,
    );
    expect(() => parseManifestDocument(bytes(manifest({ layers: [{ ...desc('x', 'b'), size: -1 }] })), null, WHAT)).toThrow(/layers\.0\.size/);
    expect(() => parseManifestDocument(bytes(manifest({ schemaVersion: 3 })), MEDIA_TYPE.ociManifest, WHAT)).toThrow(/schemaVersion/);
    expect(() => parseManifestDocument(bytes(manifest({ mediaType: 'application/vnd.foo+json' })), null, WHAT)).toThrow(
      `${WHAT} has the unsupported media type application/vnd.foo+json`,
    );
    expect(() => parseManifestDocument(bytes(manifest({ config: desc('application/vnd.cncf.helm.config.v1+json', 'a') })), null, WHAT)).toThrow(
      `${WHAT} is not a container image: its config is application/vnd.cncf.helm.config.v1+json`,
    );
  });

  it('keeps fields it does not know (the store may want them)', () => {
    const doc = parseManifestDocument(bytes(manifest({ annotations: { a: 'b' }, subject: desc(MEDIA_TYPE.ociManifest, 'd') })), null, WHAT);
    expect(doc.kind === 'manifest' && (doc.manifest as unknown as { subject: unknown }).subject).toEqual(desc(MEDIA_TYPE.ociManifest, 'd'));
  });
});

describe('manifest-index-confusion (CVE-2021-41190): an ambiguous document is refused', () => {
  const index = (extra: Record<string, unknown> = {}) => ({ schemaVersion: 2, manifests: [desc(MEDIA_TYPE.ociManifest, 'c')], ...extra });
  const refused = (doc: unknown, type: string | null, msg: RegExp) => expect(() => parseManifestDocument(bytes(doc), type, WHAT)).toThrow(msg);

  it('a manifest that also carries an index\'s manifests', () => {
    refused(manifest({ mediaType: MEDIA_TYPE.ociManifest, manifests: [desc(MEDIA_TYPE.ociManifest, 'c')] }), MEDIA_TYPE.ociManifest, /is ambiguous: it has both an index's "manifests" and a manifest's "layers" \(CVE-2021-41190\)$/);
    refused(manifest({ manifests: [] }), null, /is ambiguous/);
  });

  it('an index that also carries layers or a config', () => {
    refused(index({ mediaType: MEDIA_TYPE.ociIndex, layers: [desc(MEDIA_TYPE.ociLayerGzip, 'b')] }), MEDIA_TYPE.ociIndex, /is ambiguous: it has both/);
    refused(index({ config: desc(MEDIA_TYPE.ociConfig, 'a') }), 'application/json', /is ambiguous: it has both an index's "manifests" and a manifest's "config"/);
    refused({ schemaVersion: 2, mediaType: MEDIA_TYPE.ociIndex, layers: [] }, null, /is ambiguous: it is an index \(application\/vnd\.oci\.image\.index\.v1\+json\) but has a manifest's "layers"/);
  });

  it('a manifest with no layers field served as an index, or an index served as a manifest', () => {
    refused({ schemaVersion: 2, config: desc(MEDIA_TYPE.ociConfig, 'a') }, MEDIA_TYPE.ociIndex, /is ambiguous: it is an index .* but has a manifest's "config"/);
    refused({ schemaVersion: 2, manifests: [] }, MEDIA_TYPE.ociManifest, /is ambiguous: it is an image manifest .* but has an index's "manifests"/);
  });

  it('a mediaType that disagrees with the Content-Type', () => {
    refused(manifest({ mediaType: MEDIA_TYPE.dockerManifest }), MEDIA_TYPE.ociManifest, /is ambiguous: its mediaType application\/vnd\.docker\.distribution\.manifest\.v2\+json disagrees with the registry's Content-Type application\/vnd\.oci\.image\.manifest\.v1\+json/);
    refused(index({ mediaType: MEDIA_TYPE.ociIndex }), MEDIA_TYPE.ociManifest, /disagrees with the registry's Content-Type/);
    refused(manifest({ mediaType: MEDIA_TYPE.ociManifest }), MEDIA_TYPE.ociIndex, /disagrees/);
  });

  it('an index entry whose document is another kind than the entry says', () => {
    const doc = parseManifestDocument(bytes(manifest({ mediaType: MEDIA_TYPE.dockerManifest })), null, WHAT);
    expect(() => checkDescribedAs(doc, MEDIA_TYPE.ociManifest, WHAT)).toThrow(/is ambiguous: the index names it application\/vnd\.oci\.image\.manifest\.v1\+json but it is application\/vnd\.docker/);
    expect(() => checkDescribedAs(doc, MEDIA_TYPE.dockerManifest, WHAT)).not.toThrow();
    expect(() => checkDescribedAs(doc, undefined, WHAT)).not.toThrow();
  });

  it('agreeing documents still parse, and a generic Content-Type is no disagreement', () => {
    expect(parseManifestDocument(bytes(manifest({ mediaType: MEDIA_TYPE.ociManifest })), `${MEDIA_TYPE.ociManifest}; charset=utf-8`, WHAT).kind).toBe('manifest');
    expect(parseManifestDocument(bytes(index({ mediaType: MEDIA_TYPE.ociIndex })), 'application/octet-stream', WHAT).kind).toBe('index');
    expect(parseManifestDocument(bytes(index()), null, WHAT).kind).toBe('index');
  });
});

describe('parseImageConfig', () => {
  const m = manifest() as unknown as Parameters<typeof parseImageConfig>[1];
  const config = (extra: Record<string, unknown> = {}) => ({
    architecture: 'amd64',
    os: 'linux',
    config: { Cmd: ['sh'], Entrypoint: null, Env: ['A=1'] },
    rootfs: { type: 'layers', diff_ids: [D('e')] },
    history: [{ created_by: 'x', empty_layer: false }],
    ...extra,
  });

  it('accepts a config, null Entrypoint included, and keeps unknown fields', () => {
    const c = parseImageConfig(bytes(config({ container_config: { Hostname: 'h' } })), m, 'cfg');
    expect(c.config?.Entrypoint).toBeNull();
    expect((c as unknown as { container_config: unknown }).container_config).toEqual({ Hostname: 'h' });
  });

  it('refuses a config whose diffIDs do not match the layers, or that is malformed', () => {
    expect(() => parseImageConfig(bytes(config({ rootfs: { type: 'layers', diff_ids: [] } })), m, 'cfg')).toThrow(
      'cfg lists 0 layer diffIDs but the manifest has 1 layers',
    );
    expect(() => parseImageConfig(bytes(config({ os: 5 })), m, 'cfg')).toThrow(/^cfg is not a valid image configuration: os: /);
    expect(() => parseImageConfig(Buffer.from('nope'), m, 'cfg')).toThrow('cfg is not valid JSON');
  });
});

describe('digestOf', () => {
  it('uses the algorithm of the digest it is compared with', () => {
    expect(digestOf(Buffer.from(''))).toBe('sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(digestOf(Buffer.from(''), `sha512:${'0'.repeat(128)}`)).toMatch(/^sha512:cf83e135/);
  });
});

// `manifest inspect REF`: the manifest or index a registry serves for a
// reference, as it serves it (checked against the reference's digest when it
// has one, and parsed, so schema 1 is refused as pull refuses it). Short
// names, aliases and `insecure` come from registries.conf, auth and TLS as
// for pull; the first registry (a mirror first) that has it answers.
import { SkiffError } from '../errors.js';
import { familiarName, type ImageReference } from '../oci/reference.js';
import { AuthSession, unauthorized } from './auth.js';
import { lookupCredentials } from './credentials.js';
import { describeErrorBody } from './http-errors.js';
import { digestOf, MANIFEST_ACCEPT, parseManifestDocument } from './manifest.js';
import { candidatesForShortName, loadRegistriesConf, resolveRegistry } from './registries-conf.js';
import { readBody, Transport } from './transport.js';

const MAX_MANIFEST_BYTES = 4 << 20;

export interface InspectOptions {
  tlsVerify?: boolean;
  authFile?: string;
}

/** The document's bytes as served; throws one line when no registry has it. */
export async function inspectManifest(text: string, opts: InspectOptions = {}): Promise<Buffer> {
  const conf = loadRegistriesConf();
  const transport = new Transport({ tlsVerify: opts.tlsVerify !== false });
  const failures: string[] = [];
  try {
    for (const candidate of candidatesForShortName(conf, text)) {
      const resolved = resolveRegistry(conf, candidate);
      for (const endpoint of resolved.endpoints) {
        const ref: ImageReference = endpoint.reference;
        const session = new AuthSession(transport.endpoint(ref.registry, endpoint.insecure), transport, () =>
          lookupCredentials(ref.registry, ref.repository, {
            ...(opts.authFile !== undefined ? { authFile: opts.authFile } : {}),
            ...(conf.credentialHelpers !== undefined ? { helpers: conf.credentialHelpers } : {}),
          }),
        );
        const res = await session.request(`/v2/${ref.repository}/manifests/${ref.digest ?? ref.tag ?? 'latest'}`, [`repository:${ref.repository}:pull`], {
          headers: { accept: MANIFEST_ACCEPT },
        });
        const body = await readBody(res, MAX_MANIFEST_BYTES, `the manifest of ${familiarName(candidate)}`);
        if (res.status === 200) {
          if (ref.digest !== undefined && digestOf(body, ref.digest) !== ref.digest) {
            throw new SkiffError(`the manifest of ${familiarName(candidate)} from ${ref.registry} does not match the digest ${ref.digest}: the registry served wrong data`);
          }
          parseManifestDocument(body, res.headers.get('content-type'), `the manifest of ${familiarName(candidate)}`);
          return body;
        }
        if (res.status === 401) throw unauthorized(ref.registry, `${ref.registry} requires authentication`, `inspecting ${familiarName(candidate)}`);
        failures.push(`${ref.registry}: ${describeErrorBody(res.status, res.statusText, body)}`);
      }
    }
  } finally {
    transport.close();
  }
  throw new SkiffError(`no manifest for ${text}: ${failures.join('; ')}`);
}

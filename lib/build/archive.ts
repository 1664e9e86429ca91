// The archives a build unpacks (ADD of a local tar, a context sent as a tar
// on stdin): by the layer extractor, with its rules (each member written
// beneath the target, no escape by `..`, absolute names or links), gzip and
// zstd recognised by their first bytes. Its own lazy bundle: a build that
// unpacks nothing never compiles the tar reader.
import type { Readable } from 'node:stream';
import { LayerDecoder } from '../store/decompress.js';
import { unpackLayer } from '../store/unpack.js';

/** `what` names the archive in errors; `chown`: members keep their owners (else they belong to the caller). */
export async function unpackArchive(input: Readable, into: string, opts: { what: string; chown: boolean }): Promise<void> {
  await unpackLayer(input.pipe(new LayerDecoder(opts.what)), into, opts.chown ? { chown: true } : {});
}

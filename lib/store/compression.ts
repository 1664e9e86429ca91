// A layer's compression as its media type names it, and the zstd program it
// may need: what a pull checks before it fetches anything. Apart from
// decompress.ts (zlib, child processes), which only a pull that writes a
// layer loads.
import { SkiffError } from '../errors.js';
import { findProgram } from '../host/programs.js';

export type Compression = 'gzip' | 'zstd' | 'none';

/** What a media type says the compression is; throws for a layer type skiff cannot read. */
export function compressionOfMediaType(mediaType: string): Compression {
  if (/(^|[.+])gzip$/.test(mediaType)) return 'gzip';
  if (/(^|[.+])zstd$/.test(mediaType)) return 'zstd';
  if (/\.tar$/.test(mediaType) || /\.diff\.tar$/.test(mediaType)) return 'none';
  throw new SkiffError(`layer media type ${JSON.stringify(mediaType)} is not one skiff can unpack (tar, tar+gzip or tar+zstd)`);
}

export function zstdBinary(): string {
  const zstd = findProgram('zstd');
  if (zstd) return zstd;
  throw new SkiffError("this image has zstd-compressed layers and the zstd program is not installed: install the 'zstd' package (e.g. 'apt-get install zstd')");
}

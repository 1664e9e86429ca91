// --tz (Podman's): the container's /etc/localtime, bound read-only from the
// host's zone database, so date, logs and cron in it keep that zone's time.
import { realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { SkiffError } from '../errors.js';

const ZONEINFO = '/usr/share/zoneinfo';

/** The host file a --tz value names: a zone under /usr/share/zoneinfo, or `local` (the host's /etc/localtime). */
export function timezoneFile(zone: string, zoneinfo = ZONEINFO, localtime = '/etc/localtime'): string {
  if (zone === 'local') {
    try {
      return checkZoneFile(realpathSync(localtime), zone);
    } catch (err) {
      if (err instanceof SkiffError) throw err;
      throw new SkiffError(`--tz local: this host has no ${localtime}; name a zone instead (e.g. --tz Europe/Berlin)`);
    }
  }
  // Names only: no "..", no absolute paths, nothing a file name outside the database could be.
  if (!/^[A-Za-z0-9_+-]+(\/[A-Za-z0-9_+-]+)*$/.test(zone)) throw new SkiffError(`invalid --tz "${zone}": name a zone as Area/City (e.g. Europe/Berlin, UTC) or local`);
  let file: string;
  try {
    file = realpathSync(path.join(zoneinfo, zone));
  } catch {
    throw new SkiffError(`--tz ${zone}: no such time zone in ${zoneinfo} (install tzdata, or use one of the names there, or local)`);
  }
  if (!file.startsWith(`${realpathSync(zoneinfo)}/`)) throw new SkiffError(`--tz ${zone}: no such time zone in ${zoneinfo}`);
  return checkZoneFile(file, zone);
}

/** A zone is a TZif file (RFC 8536); a directory such as "Europe" is not one. */
function checkZoneFile(file: string, zone: string): string {
  if (!statSync(file).isFile()) throw new SkiffError(`--tz ${zone}: not a time zone (${file} is not a zone file); name one as Area/City`);
  return file;
}

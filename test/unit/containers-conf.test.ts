// containers.conf: which files skiff reads, in Podman's order, and what it takes from them.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { containersConfFiles, readContainersConf } from '../../lib/host/containers-conf.js';

describe('containers.conf', () => {
  test('CONTAINERS_CONF is the only file; CONTAINERS_CONF_OVERRIDE comes last', () => {
    expect(containersConfFiles({ CONTAINERS_CONF: '/x.conf', CONTAINERS_CONF_OVERRIDE: '/o.conf' }, 1000, '/home/u')).toEqual(['/x.conf', '/o.conf']);
  });

  test("root reads the system's files; a user also their own, under XDG_CONFIG_HOME when it is absolute", () => {
    const system = ['/usr/share/containers/containers.conf', '/etc/containers/containers.conf'];
    expect(containersConfFiles({}, 0, '/root').slice(0, 2)).toEqual(system);
    expect(containersConfFiles({}, 0, '/root')).not.toContain('/root/.config/containers/containers.conf');
    expect(containersConfFiles({ HOME: '/home/u' }, 1000, '/x')).toContain('/home/u/.config/containers/containers.conf');
    expect(containersConfFiles({ HOME: '/home/u', XDG_CONFIG_HOME: '/cfg' }, 1000, '/x')).toContain('/cfg/containers/containers.conf');
    expect(containersConfFiles({ HOME: '/home/u', XDG_CONFIG_HOME: 'rel' }, 1000, '/x')).toContain('/home/u/.config/containers/containers.conf');
  });

  test('a later file wins; drop-ins in name order; missing files are skipped; a named file must exist', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'skiff-conf-'));
    mkdirSync(path.join(dir, 'containers/containers.conf.d'), { recursive: true });
    writeFileSync(path.join(dir, 'containers/containers.conf'), '[containers]\nnetns = "host"\n');
    writeFileSync(path.join(dir, 'containers/containers.conf.d/20-b.conf'), '[containers]\nnetns = "none"\n');
    writeFileSync(path.join(dir, 'containers/containers.conf.d/10-a.conf'), '[containers]\nnetns = "pasta"\n[engine]\nx = 1\n');
    const conf = readContainersConf({ XDG_CONFIG_HOME: dir }, 1000, dir);
    expect(conf.netns).toEqual({ value: 'none', file: path.join(dir, 'containers/containers.conf.d/20-b.conf') });
    expect(() => readContainersConf({ CONTAINERS_CONF: path.join(dir, 'nope') }, 0, dir)).toThrow(/cannot read containers.conf .*nope: ENOENT/);
  });

  test('bad TOML and a netns that is not a string: one line naming the file', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'skiff-conf-'));
    writeFileSync(path.join(dir, 'a.conf'), '[containers\n');
    expect(() => readContainersConf({ CONTAINERS_CONF: path.join(dir, 'a.conf') }, 0, dir)).toThrow(/^invalid containers.conf .*a\.conf: line 1: /);
    writeFileSync(path.join(dir, 'b.conf'), '[containers]\nnetns = 1\n');
    expect(() => readContainersConf({ CONTAINERS_CONF: path.join(dir, 'b.conf') }, 0, dir)).toThrow('[containers] netns must be a string');
  });

  test('what each file gave is cached under its identity: a changed file is parsed again, a bad one fails every time, a cache others could write is not used', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'skiff-conf-'));
    const conf = path.join(dir, 'c.conf');
    const env = { CONTAINERS_CONF: conf, XDG_CACHE_HOME: path.join(dir, 'cache') };
    const cache = path.join(dir, 'cache/skiff/containers-conf.json');
    writeFileSync(conf, '[containers]\nnetns = "none"\n');
    expect(readContainersConf(env, 0, dir).netns?.value).toBe('none');
    const kept = JSON.parse(readFileSync(cache, 'utf8')) as { files: Record<string, { id: string; settings: { netns?: string } }> };
    expect(kept.files[conf]?.settings).toEqual({ netns: 'none' });
    // The cache answers while the file is unchanged (an entry edited here shows through).
    kept.files[conf]!.settings.netns = 'host';
    writeFileSync(cache, JSON.stringify(kept));
    expect(readContainersConf(env, 0, dir).netns?.value).toBe('host');
    // Any change to the file (here its size and times) is read again.
    writeFileSync(conf, '[containers]\nnetns = "pasta"\n');
    expect(readContainersConf(env, 0, dir).netns?.value).toBe('pasta');
    writeFileSync(conf, '[containers\n');
    expect(() => readContainersConf(env, 0, dir)).toThrow(/^invalid containers.conf .*c\.conf: line 1: /);
    expect(() => readContainersConf(env, 0, dir)).toThrow(/^invalid containers.conf .*c\.conf: line 1: /);
    // A cache directory others may write is not trusted.
    writeFileSync(conf, '[containers]\nnetns = "none"\n');
    expect(readContainersConf(env, 0, dir).netns?.value).toBe('none');
    const again = JSON.parse(readFileSync(cache, 'utf8')) as typeof kept;
    again.files[conf]!.settings.netns = 'host';
    writeFileSync(cache, JSON.stringify(again));
    chmodSync(path.dirname(cache), 0o777);
    expect(readContainersConf(env, 0, dir).netns?.value).toBe('none');
    rmSync(dir, { recursive: true });
  });
});

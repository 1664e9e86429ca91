// commit -c and import -c: Docker's config instructions through build's parser and rules.
import { describe, expect, it } from 'vitest';
import { applyConfigChanges } from '../../lib/build/changes.js';

const base = { Env: ['PATH=/usr/bin:/bin', 'HOME=/root'], Cmd: ['sh'], WorkingDir: '/srv', Labels: { a: '1' } };

describe('commit -c changes', () => {
  it('CMD and ENTRYPOINT in exec and shell form, and the INSTRUCTION=VALUE spelling', () => {
    expect(applyConfigChanges(base, ['CMD ["/app", "--port", "80"]']).Cmd).toEqual(['/app', '--port', '80']);
    expect(applyConfigChanges(base, ['CMD echo $HOME']).Cmd).toEqual(['/bin/sh', '-c', 'echo $HOME']);
    expect(applyConfigChanges(base, ['ENTRYPOINT=["/init"]']).Entrypoint).toEqual(['/init']);
  });

  it('ENV with pairs, quotes and $VAR from the image; LABEL, EXPOSE, VOLUME, USER, WORKDIR, STOPSIGNAL, ONBUILD', () => {
    const c = applyConfigChanges(base, [
      'ENV A=1 B="two words" PATH=$PATH:/opt/bin',
      'LABEL b=2',
      'EXPOSE 80 53/udp',
      'VOLUME ["/data"]',
      'USER 1000:1000',
      'WORKDIR app',
      'STOPSIGNAL SIGINT',
      'ONBUILD RUN make',
    ]);
    expect(c.Env).toEqual(['PATH=/usr/bin:/bin:/opt/bin', 'HOME=/root', 'A=1', 'B=two words']);
    expect(c.Labels).toEqual({ a: '1', b: '2' });
    expect(c.ExposedPorts).toEqual({ '80/tcp': {}, '53/udp': {} });
    expect(c.Volumes).toEqual({ '/data': {} });
    expect(c.User).toBe('1000:1000');
    expect(c.WorkingDir).toBe('/srv/app');
    expect(c.StopSignal).toBe('SIGINT');
    expect(c.OnBuild).toEqual(['RUN make']);
    expect(base.Labels).toEqual({ a: '1' }); // the input is not changed
  });

  it('refuses what is not a config change, with one line', () => {
    expect(() => applyConfigChanges(base, ['RUN rm -rf /'])).toThrow(/^invalid change "RUN rm -rf \/": the instruction must be one of CMD, ENTRYPOINT, ENV/);
    expect(() => applyConfigChanges(base, ['EXPOSE 70000'])).toThrow(/^invalid change "EXPOSE 70000": EXPOSE 70000: invalid port range/);
    expect(() => applyConfigChanges(base, ['CMD'])).toThrow('invalid change "CMD": CMD needs an argument');
    expect(() => applyConfigChanges(base, ['CMD a\nRUN b'])).toThrow('one line, one instruction');
  });
});

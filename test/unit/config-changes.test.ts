import { describe, expect, it } from 'vitest';
import { applyConfigChanges } from '../../lib/oci/config-changes.js';

const base = { Env: ['PATH=/usr/bin:/bin', 'HOME=/root'], Cmd: ['sh'], WorkingDir: '/srv', Labels: { a: '1' } };

describe('commit -c changes', () => {
  it('CMD and ENTRYPOINT in exec and shell form, and the INSTRUCTION=VALUE spelling', () => {
    expect(applyConfigChanges(base, ['CMD ["/app", "--port", "80"]']).Cmd).toEqual(['/app', '--port', '80']);
    expect(applyConfigChanges(base, ['CMD echo $HOME']).Cmd).toEqual(['/bin/sh', '-c', 'echo $HOME']);
    expect(applyConfigChanges(base, ['ENTRYPOINT=["/init"]']).Entrypoint).toEqual(['/init']);
    expect(applyConfigChanges(base, ['cmd [not json']).Cmd).toEqual(['/bin/sh', '-c', '[not json']);
  });

  it('ENV: pairs, quotes, the old KEY VALUE form, and $VAR from the image', () => {
    const c = applyConfigChanges(base, ['ENV A=1 B="two words" PATH=$PATH:/opt/bin', 'ENV C  spaced value', "ENV D='$HOME' E=${NOPE:-dflt} F=${HOME:+set}"]);
    expect(c.Env).toEqual(['HOME=/root', 'A=1', 'B=two words', 'PATH=/usr/bin:/bin:/opt/bin', 'C=spaced value', 'D=$HOME', 'E=dflt', 'F=set']);
  });

  it('LABEL, EXPOSE, VOLUME, USER, WORKDIR, STOPSIGNAL, ONBUILD', () => {
    const c = applyConfigChanges(base, [
      'LABEL b=2 "c d"=e',
      'EXPOSE 80 53/udp 8000-8001',
      'VOLUME ["/data", "/logs"]',
      'VOLUME /cache',
      'USER 1000:1000',
      'WORKDIR app',
      'STOPSIGNAL SIGINT',
      'ONBUILD RUN make',
    ]);
    expect(c.Labels).toEqual({ a: '1', b: '2', 'c d': 'e' });
    expect(c.ExposedPorts).toEqual({ '80/tcp': {}, '53/udp': {}, '8000/tcp': {}, '8001/tcp': {} });
    expect(c.Volumes).toEqual({ '/data': {}, '/logs': {}, '/cache': {} });
    expect(c.User).toBe('1000:1000');
    expect(c.WorkingDir).toBe('/srv/app');
    expect(c.StopSignal).toBe('SIGINT');
    expect(c.OnBuild).toEqual(['RUN make']);
    expect(base.Labels).toEqual({ a: '1' }); // the input is not changed
  });

  it('refuses what is not a config change, with one line', () => {
    expect(() => applyConfigChanges(base, ['RUN rm -rf /'])).toThrow(/^invalid change "RUN rm -rf \/": the instruction must be one of CMD, ENTRYPOINT, ENV/);
    expect(() => applyConfigChanges(base, ['EXPOSE 70000'])).toThrow('invalid change "EXPOSE 70000": "70000" is not a port between 1 and 65535');
    expect(() => applyConfigChanges(base, ['LABEL novalue'])).toThrow('LABEL takes KEY=VALUE pairs, not "novalue"');
    expect(() => applyConfigChanges(base, ['ENV A="open'])).toThrow('a quote is not closed');
    expect(() => applyConfigChanges(base, ['CMD'])).toThrow(/the instruction must be one of|needs an argument/);
    expect(() => applyConfigChanges(base, ['ONBUILD ONBUILD RUN x'])).toThrow('ONBUILD is not allowed as an ONBUILD instruction');
  });
});

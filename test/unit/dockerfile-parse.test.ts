// The Dockerfile parser and Docker's word processing: what each instruction
// becomes, and the FILE:LINE:COLUMN line a malformed Dockerfile gets.
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { parseDockerfile } from '../../lib/build/dockerfile.js';
import { BuildContext, globRegExp, parseIgnoreFile, selectSources, sourcesDigest } from '../../lib/build/context.js';
import { applyConfigInstruction, keyValues } from '../../lib/build/image-config.js';
import { parseDuration } from '../../lib/oci/duration.js';
import { processWord, processWords, splitWords } from '../../lib/oci/shell-words.js';

const vars = new Map([
  ['A', 'one'],
  ['EMPTY', ''],
  ['PORTS', '80 443/udp'],
]);

describe('word processing (Docker/BuildKit rules)', () => {
  test('variables, defaults and alternatives', () => {
    expect(processWord('$A-${A}', vars)).toBe('one-one');
    expect(processWord('${NOPE:-def} ${EMPTY:-def} ${EMPTY-def}', vars)).toBe('def def ');
    expect(processWord('${A:+alt}|${NOPE:+alt}|${EMPTY+set}', vars)).toBe('alt||set');
    expect(processWord('${NOPE:-${A}}', vars)).toBe('one');
    expect(() => processWord('${NOPE:?must be set}', vars)).toThrow('NOPE: must be set');
    expect(() => processWord('${A%%x}', vars)).toThrow('unsupported modifier');
  });

  test('quotes and escapes', () => {
    expect(processWord(`'$A' "$A" \\$A "a\\"b" 'it''s'`, vars)).toBe('$A one $A a"b its');
    expect(processWord('c:\\dir`$A', vars, '`')).toBe('c:\\dir$A');
    expect(processWord('"x\\ny"', vars)).toBe('x\\ny');
    expect(() => processWord('"open', vars)).toThrow('matching double-quote');
  });

  test('words split on blanks and on unquoted expansions, not quoted ones', () => {
    expect(processWords('$PORTS 8080', vars)).toEqual(['80', '443/udp', '8080']);
    expect(processWords('"$PORTS" x', vars)).toEqual(['80 443/udp', 'x']);
    expect(splitWords('a="b c" d=e\\ f', '\\')).toEqual(['a="b c"', 'd=e\\ f']);
  });
});

describe('parseDockerfile', () => {
  test('instructions, flags, JSON and shell forms, continuations, directives', () => {
    const df = parseDockerfile(
      '# syntax=docker/dockerfile:1\nARG BASE=busybox\nFROM ${BASE} AS build\nRUN --mount=type=cache,target=/c --network=none echo a \\\n  b\nCMD ["sh", "-c", "x"]\nCOPY --chown=1:2 a b /dst/\n',
      'Dockerfile',
    );
    expect(df.syntax).toBe('docker/dockerfile:1');
    expect(df.escape).toBe('\\');
    const [arg, from, run, cmd, copy] = df.instructions;
    expect(arg!.keyword).toBe('ARG');
    expect(from!.text).toBe('${BASE} AS build');
    expect(run!.flags.map((f) => [f.name, f.value])).toEqual([['mount', 'type=cache,target=/c'], ['network', 'none']]);
    expect(run!.text).toBe('echo a   b');
    expect(run!.line).toBe(4);
    expect(cmd!.json).toEqual(['sh', '-c', 'x']);
    expect(copy!.flags[0]).toMatchObject({ name: 'chown', value: '1:2', column: 6 });
  });

  test('escape directive', () => {
    const df = parseDockerfile('# escape=`\nFROM scratch\nRUN echo a `\n b\n', 'Dockerfile');
    expect(df.escape).toBe('`');
    expect(df.instructions[1]!.text).toBe('echo a  b');
  });

  test('heredocs: content, <<- tab stripping, quoted delimiters, several at once', () => {
    const df = parseDockerfile('FROM scratch\nRUN <<EOF\necho one\necho two\nEOF\nCOPY <<-"A" <<B /dir/\n\tx $V\n\tA\ny\nB\n', 'Dockerfile');
    const [, run, copy] = df.instructions;
    expect(run!.text).toBe('<<EOF');
    expect(run!.heredocs).toEqual([{ name: 'EOF', content: 'echo one\necho two\n', quoted: false, stripTabs: false }]);
    expect(copy!.text).toBe('<<-"A" <<B /dir/');
    expect(copy!.heredocs.map((h) => [h.name, h.content, h.quoted, h.stripTabs])).toEqual([
      ['A', 'x $V\n', true, true],
      ['B', 'y\n', false, false],
    ]);
  });

  test('malformed Dockerfiles: file, line, column and what was expected', () => {
    expect(() => parseDockerfile('FROM scratch\n  FOO bar\n', 'Dockerfile')).toThrow(/^Dockerfile:2:3: unknown instruction "FOO": expected one of FROM, RUN/);
    expect(() => parseDockerfile('RUN true\n', 'x/Dockerfile')).toThrow('x/Dockerfile:1:1: RUN before the first FROM: expected FROM (only ARG may come before it)');
    expect(() => parseDockerfile('FROM scratch\nRUN --bogus=1 true\n', 'Dockerfile')).toThrow('Dockerfile:2:5: unknown flag --bogus for RUN: expected --mount, --network, --security');
    expect(() => parseDockerfile('FROM scratch\nRUN <<EOF\necho\n', 'Dockerfile')).toThrow('Dockerfile:2:5: unterminated heredoc <<EOF');
    expect(() => parseDockerfile('FROM a b\n', 'Dockerfile')).toThrow('Dockerfile:1:6: FROM: expected FROM IMAGE [AS NAME]');
    expect(() => parseDockerfile('FROM scratch\nCOPY onlyone\n', 'Dockerfile')).toThrow('Dockerfile:2:6: COPY requires at least two arguments');
    expect(() => parseDockerfile('# escape=x\nFROM scratch\n', 'Dockerfile')).toThrow('Dockerfile:1:1: invalid escape character "x"');
    expect(() => parseDockerfile('\n# only a comment\n', 'Dockerfile')).toThrow('no FROM instruction');
    expect(() => parseDockerfile('FROM scratch\nONBUILD FROM x\n', 'Dockerfile')).toThrow('Dockerfile:2:9: FROM is not allowed as an ONBUILD trigger');
  });
});

describe('config instructions', () => {
  const ins = (text: string) => parseDockerfile(`FROM scratch\n${text}\n`, 'Dockerfile').instructions[1]!;
  test('ENV and LABEL forms; expansion uses the variables from before the instruction', () => {
    const env = applyConfigInstruction(ins('ENV X=1 Y="$A two" Z=${X:-none}'), { Env: ['PATH=/bin', 'X=0'] }, vars, '\\');
    expect(env.config.Env).toEqual(['PATH=/bin', 'X=1', 'Y=one two', 'Z=none']);
    expect(env.createdBy).toBe('/bin/sh -c #(nop) ENV X=1 Y=one two Z=none');
    expect(applyConfigInstruction(ins('ENV OLD form with spaces'), {}, vars, '\\').config.Env).toEqual(['OLD=form with spaces']);
    expect(applyConfigInstruction(ins('LABEL "a b"=c d=$A'), {}, vars, '\\').config.Labels).toEqual({ 'a b': 'c', d: 'one' });
    expect(keyValues(ins('ARG X Y=2'), vars, '\\', false)).toEqual([['X', undefined], ['Y', '2']]);
  });

  test('EXPOSE, VOLUME, WORKDIR, CMD, ENTRYPOINT, SHELL, HEALTHCHECK, ONBUILD', () => {
    expect(applyConfigInstruction(ins('EXPOSE $PORTS 7000-7001'), {}, vars, '\\').config.ExposedPorts).toEqual({ '80/tcp': {}, '443/udp': {}, '7000/tcp': {}, '7001/tcp': {} });
    expect(() => applyConfigInstruction(ins('EXPOSE http'), {}, vars, '\\')).toThrow('EXPOSE http: invalid port');
    expect(applyConfigInstruction(ins('VOLUME ["/a", "/b"]'), {}, vars, '\\').config.Volumes).toEqual({ '/a': {}, '/b': {} });
    expect(applyConfigInstruction(ins('WORKDIR sub/../x'), { WorkingDir: '/app' }, vars, '\\').config.WorkingDir).toBe('/app/x');
    expect(applyConfigInstruction(ins('CMD echo $HOME'), {}, vars, '\\').config.Cmd).toEqual(['/bin/sh', '-c', 'echo $HOME']);
    expect(applyConfigInstruction(ins('CMD echo hi'), { Shell: ['/bin/bash', '-ec'] }, vars, '\\').config.Cmd).toEqual(['/bin/bash', '-ec', 'echo hi']);
    expect(applyConfigInstruction(ins('ENTRYPOINT ["/init"]'), {}, vars, '\\').config.Entrypoint).toEqual(['/init']);
    const hc = applyConfigInstruction(ins('HEALTHCHECK --interval=5s --retries=3 CMD ["true"]'), {}, vars, '\\').config.Healthcheck;
    expect(hc).toEqual({ Test: ['CMD', 'true'], Interval: 5e9, Retries: 3 });
    expect(applyConfigInstruction(ins('HEALTHCHECK CMD curl -f x || exit 1'), {}, vars, '\\').config.Healthcheck).toEqual({ Test: ['CMD-SHELL', 'curl -f x || exit 1'] });
    expect(applyConfigInstruction(ins('ONBUILD RUN echo hi'), {}, vars, '\\').config.OnBuild).toEqual(['RUN echo hi']);
    expect(parseDuration('1m30s', 'interval')).toBe(90e9);
  });
});

describe('build context', () => {
  const ctxDir = () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'skiff-ctx-'));
    mkdirSync(path.join(dir, 'src/sub'), { recursive: true });
    writeFileSync(path.join(dir, 'src/a.txt'), 'a');
    writeFileSync(path.join(dir, 'src/b.log'), 'b');
    writeFileSync(path.join(dir, 'src/sub/c.txt'), 'c');
    writeFileSync(path.join(dir, 'top.log'), 't');
    symlinkSync('/etc/passwd', path.join(dir, 'escape'));
    return dir;
  };

  test('.dockerignore patterns, globs, ** and exclusions', () => {
    expect(parseIgnoreFile('# c\n\n ./src/*.log \n!src/keep.log\n/abs\n')).toEqual(['src/*.log', '!src/keep.log', 'abs']);
    const ctx = new BuildContext(ctxDir(), parseIgnoreFile('*.log\n'));
    expect(ctx.entries().map((e) => e.rel)).toEqual(['escape', 'src', 'src/a.txt', 'src/b.log', 'src/sub', 'src/sub/c.txt']);
    expect(selectSources(ctx, 'src/*.txt', 'COPY').map((s) => s.rel)).toEqual(['src/a.txt']);
    expect(selectSources(ctx, '**/*.txt', 'COPY').map((s) => s.rel)).toEqual(['src/a.txt', 'src/sub/c.txt']);
    expect(globRegExp('src/[ab].*').test('src/a.txt')).toBe(true);
    expect(() => selectSources(ctx, 'top.log', 'COPY')).toThrow('COPY top.log: excluded by .dockerignore');
    expect(() => selectSources(ctx, '../x', 'COPY')).toThrow('COPY ../x: forbidden path outside the build context');
    expect(() => selectSources(ctx, 'missing', 'COPY')).toThrow('COPY missing: no such file or directory in the build context');
    expect(() => selectSources(ctx, 'escape/x', 'COPY')).toThrow();
    expect(selectSources(ctx, 'escape', 'COPY')[0]!.st.isSymbolicLink()).toBe(true);
  });

  test('content digest: changes with content, not with times', () => {
    const dir = ctxDir();
    const ctx = () => new BuildContext(dir, []);
    const d1 = sourcesDigest(ctx(), selectSources(ctx(), 'src', 'COPY'));
    writeFileSync(path.join(dir, 'src/a.txt'), 'a');
    expect(sourcesDigest(ctx(), selectSources(ctx(), 'src', 'COPY'))).toBe(d1);
    writeFileSync(path.join(dir, 'src/sub/c.txt'), 'changed');
    expect(sourcesDigest(ctx(), selectSources(ctx(), 'src', 'COPY'))).not.toBe(d1);
  });
});

import { describe, expect, it } from 'vitest';
import { executeFormat, headerFromField, parseFormat, renderFormat } from '../../lib/cli/format.js';
import { alignColumns } from '../../lib/cli/tabwriter.js';
import { printValue } from '../../lib/cli/template.js';
import { renderYaml } from '../../lib/cli/yaml.js';
import { SkiffError } from '../../lib/errors.js';

const info = {
  Host: {
    Kernel: '6.18.44',
    Arch: 'amd64',
    MemTotal: 1024,
    Rootless: false,
    CgroupControllers: ['cpu', 'memory'],
    IDMappings: { UIDMap: [{ ContainerID: 0, HostID: 1001, Size: 1 }, { ContainerID: 1, HostID: 100000, Size: 65536 }] },
    Empty: [],
    Nothing: null,
  },
  Store: { GraphRoot: '/var/lib/skiff' },
};

function render(format: string, data: unknown = info): string {
  return executeFormat(parseFormat(format), data);
}

function errorOf(fn: () => unknown): SkiffError {
  try {
    fn();
  } catch (err) {
    if (err instanceof SkiffError) return err;
    throw err;
  }
  throw new Error('expected a SkiffError');
}

describe('Go template subset', () => {
  it('renders field paths and literal text', () => {
    expect(render('{{.Host.Kernel}}')).toBe('6.18.44');
    expect(render('kernel {{.Host.Kernel}} on {{ .Host.Arch }}!')).toBe('kernel 6.18.44 on amd64!');
    expect(render('no actions at all')).toBe('no actions at all');
    expect(render('{{.Host.MemTotal}} {{.Host.Rootless}}')).toBe('1024 false');
  });

  it('turns the two characters \\t and \\n into a tab and a newline, as Docker does', () => {
    expect(render('{{.Host.Arch}}\\t{{.Host.Kernel}}\\n')).toBe('amd64\t6.18.44\n');
  });

  it('prints lists and objects as Go prints structs and slices', () => {
    expect(render('{{.Host.CgroupControllers}}')).toBe('[cpu memory]');
    expect(render('{{.Host.IDMappings.UIDMap}}')).toBe('[{0 1001 1} {1 100000 65536}]');
    expect(render('{{.Host.Nothing}}')).toBe('<no value>');
    expect(printValue({ a: 1, b: [true, 'x'] })).toBe('{1 [true x]}');
  });

  it('has json, and the json of everything with {{json .}}', () => {
    expect(render('{{json .Host.CgroupControllers}}')).toBe('["cpu","memory"]');
    expect(render('{{json .Store}}')).toBe('{"GraphRoot":"/var/lib/skiff"}');
    expect(JSON.parse(render('{{json .}}'))).toEqual(info);
    expect(render('{{.Store | json}}')).toBe('{"GraphRoot":"/var/lib/skiff"}');
  });

  it("has Docker's other functions", () => {
    expect(render('{{join .Host.CgroupControllers ","}}')).toBe('cpu,memory');
    expect(render('{{upper .Host.Arch}} {{lower "ABC"}} {{title "hello world"}}')).toBe('AMD64 abc Hello World');
    expect(render('{{len .Host.CgroupControllers}} {{truncate .Host.Kernel 4}}')).toBe('2 6.18');
    expect(render('{{pad .Host.Arch 1 2}}|')).toBe(' amd64  |');
    expect(render('{{split "a:b" ":"}}')).toBe('[a b]');
  });

  it("has Go's index: a map's key (a missing label is empty), a list's element, a nil map's zero value; bad keys are errors", () => {
    const data = { Labels: { 'com.example.team': 'ev', other: 'x' }, Networks: { bridge: { IPAddress: '10.0.0.2' } }, Args: ['a', 'b'], None: null };
    expect(render('{{index .Labels "com.example.team"}}|{{index .Labels "missing"}}|', data)).toBe('ev||');
    expect(render('{{with index .Networks "bridge"}}{{.IPAddress}}{{end}} {{index .Args 1}} [{{index .None "k"}}]', data)).toBe('10.0.0.2 b []');
    expect(errorOf(() => render('{{index .Args 2}}', data)).message).toMatch(/index out of range: 2/);
    expect(errorOf(() => render('{{index .Args "x"}}', data)).message).toMatch(/index of a list wants an integer/);
  });

  it('supports range, if/else, with, $ and trim markers', () => {
    expect(render('{{range .Host.CgroupControllers}}<{{.}}>{{end}}')).toBe('<cpu><memory>');
    expect(render('{{range .Host.Empty}}x{{else}}none{{end}}')).toBe('none');
    expect(render('{{range .Host.IDMappings.UIDMap}}{{.HostID}}:{{$.Host.Arch}} {{end}}')).toBe('1001:amd64 100000:amd64 ');
    expect(render('{{if .Host.Rootless}}rootless{{else}}root{{end}}')).toBe('root');
    expect(render('{{with .Store}}{{.GraphRoot}}{{end}}')).toBe('/var/lib/skiff');
    expect(render('a  {{- .Host.Arch -}}  b')).toBe('aamd64b');
    expect(render('{{/* a comment */}}x')).toBe('x');
  });

  it('rejects an unknown field with the fields that exist, exit 125', () => {
    const err = errorOf(() => render('{{.Host.Kernal}}'));
    expect(err.exitCode).toBe(125);
    expect(err.message).toBe(
      'invalid format "{{.Host.Kernal}}": .Host has no field Kernal (fields: Kernel, Arch, MemTotal, Rootless, CgroupControllers, IDMappings, Empty, Nothing)',
    );
    expect(errorOf(() => render('{{.Nope}}')).message).toBe('invalid format "{{.Nope}}": there is no field Nope (fields: Host, Store)');
    expect(errorOf(() => render('{{.Host.Kernel.Major}}')).message).toContain("can't evaluate field Major in .Host.Kernel: it is a string");
    expect(errorOf(() => render('{{.Host.Nothing.X}}')).message).toContain('nil value evaluating .Host.Nothing.X');
  });

  it('rejects malformed templates when parsing, before any data is read', () => {
    expect(errorOf(() => parseFormat('{{.Host.Kernel')).message).toBe('invalid format "{{.Host.Kernel": unclosed action starting at "{{.Host.Kernel"');
    expect(errorOf(() => parseFormat('{{nosuch .X}}')).message).toMatch(/^invalid format "\{\{nosuch \.X\}\}": function "nosuch" not defined/);
    expect(errorOf(() => parseFormat('{{range .X}}')).message).toContain('{{range}} has no {{end}}');
    expect(errorOf(() => parseFormat('{{end}}')).message).toContain('unexpected {{end}}');
    expect(errorOf(() => parseFormat('{{template "x"}}')).message).toContain('{{template}} is not supported');
    expect(errorOf(() => parseFormat('{{.A .B}}')).message).toContain("can't give an argument to a non-function");
  });
});

describe('table formats', () => {
  const rows = [
    { Name: 'user namespaces', Status: 'ok', MemTotal: 1 },
    { Name: 'cgroups', Status: 'warn', MemTotal: 22 },
  ];

  it('derives headers from field names', () => {
    expect(headerFromField('MemTotal')).toBe('MEM TOTAL');
    expect(headerFromField('ID')).toBe('ID');
    expect(headerFromField('CPUs')).toBe('CPUS');
    expect(headerFromField('OverlayInUserNS')).toBe('OVERLAY IN USER NS');
  });

  it('prints a header row and aligns the columns as Docker does (tabwriter 10, 3)', () => {
    expect(renderFormat('table {{.Name}}\\t{{.Status}}\\t{{.MemTotal}}', rows)).toBe(
      ['NAME              STATUS    MEM TOTAL', 'user namespaces   ok        1', 'cgroups           warn      22', ''].join('\n'),
    );
  });

  it('takes header overrides and the header of a piped or json field', () => {
    expect(renderFormat('table {{.Name | upper}}\\t{{json .Status}}', rows, { headers: { Name: 'CHECK' } })).toBe(
      ['CHECK             STATUS', 'USER NAMESPACES   "ok"', 'CGROUPS           "warn"', ''].join('\n'),
    );
  });

  it('prints just the header for no rows, and uses the default for a bare "table"', () => {
    expect(renderFormat('table {{.Name}}\\t{{.Status}}', [])).toBe('NAME      STATUS\n');
    expect(renderFormat('table', rows.slice(0, 1), { defaultTable: '{{.Status}}\t{{.Name}}' })).toBe('STATUS    NAME\nok        user namespaces\n');
    expect(errorOf(() => parseFormat('table')).message).toContain('"table" needs a template');
  });

  it('is not a table when "table" is only the start of a word', () => {
    expect(renderFormat('tablet {{.Status}}', rows.slice(0, 1))).toBe('tablet ok\n');
  });

  it("ends a column block where a line has fewer cells, as Go's tabwriter does", () => {
    expect(alignColumns('x\ty\nlong line without a tab\nabcdefghijkl\tz')).toBe('x         y\nlong line without a tab\nabcdefghijkl   z');
  });
});

describe('YAML listing', () => {
  it('nests objects, lists objects with dashes and quotes what YAML would misread', () => {
    const text = renderYaml({
      Host: { Kernel: '6.1', Version: '12', Empty: [], None: {}, Flag: true, Note: 'not applied: because' },
      List: [{ A: 1, B: 'x' }, 'plain'],
    });
    expect(text).toBe(
      [
        'Host:',
        '  Kernel: "6.1"',
        '  Version: "12"',
        '  Empty: []',
        '  None: {}',
        '  Flag: true',
        '  Note: "not applied: because"',
        'List:',
        '  - A: 1',
        '    B: x',
        '  - plain',
        '',
      ].join('\n'),
    );
  });
});

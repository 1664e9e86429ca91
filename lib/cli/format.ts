// --format for every command that prints objects, as Docker's CLI does it:
// the Go template (template.ts) run on each object, one line each; the
// two-character sequences \t and \n become a tab and a newline anywhere in
// the format; a format starting with "table" prints a header row (from the
// field names) above the rows, columns aligned as Go's tabwriter does
// (tabwriter.ts). "json" each command handles itself.
import { SkiffError } from '../errors.js';
import { alignColumns } from './tabwriter.js';
import { executeTemplate, parseTemplate, TemplateError, type Pipeline, type TemplateNode } from './template.js';

export interface ParsedFormat {
  /** The format as the user gave it, for error messages. */
  source: string;
  table: boolean;
  nodes: TemplateNode[];
}

export interface RenderOptions {
  /** Header text for a field, by its name (the last element of its path); default: the name in capitals, words split. */
  headers?: Record<string, string>;
  /** The template used when the format is just "table". */
  defaultTable?: string;
  /** --noheading (Podman's): a table without its header row (columns aligned as with it). */
  noHeading?: boolean;
}

/** Docker's CLI replaces the two characters \t and \n before parsing (cli/command/formatter). */
function replaceEscapes(format: string): string {
  return format.replace(/\\t/g, '\t').replace(/\\n/g, '\n');
}

function isTable(format: string): boolean {
  return /^table(\s|$)/.test(format);
}

function formatError(source: string, err: unknown): never {
  if (err instanceof TemplateError) throw new SkiffError(`invalid format ${JSON.stringify(source)}: ${err.message}`);
  throw err;
}

/** Parses a --format value (not "json", which each command handles itself). */
export function parseFormat(format: string, opts: RenderOptions = {}): ParsedFormat {
  try {
    let src = format;
    const table = isTable(src);
    if (table) {
      src = src.slice('table'.length).trim();
      if (src === '') {
        if (opts.defaultTable === undefined) throw new TemplateError('"table" needs a template here, e.g. table {{.Name}}\\t{{.Status}}');
        src = opts.defaultTable;
      }
    }
    return { source: format, table, nodes: parseTemplate(replaceEscapes(src)) };
  } catch (err) {
    return formatError(format, err);
  }
}

/** Renders one object with a parsed format (the row of a table, without alignment). */
export function executeFormat(parsed: ParsedFormat, data: unknown): string {
  try {
    return executeTemplate(parsed.nodes, data);
  } catch (err) {
    return formatError(parsed.source, err);
  }
}

/** "MemTotal" -> "MEM TOTAL", "ID" -> "ID", "CPUs" -> "CPUS". */
export function headerFromField(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toUpperCase();
}

function pipelineField(pipe: Pipeline): string | undefined {
  for (const cmd of pipe) {
    for (const term of cmd) {
      if (term.kind === 'field' && term.path.length > 0) return term.path[term.path.length - 1];
    }
  }
  return undefined;
}

function headerNodes(nodes: TemplateNode[], opts: RenderOptions, out: string[]): void {
  for (const node of nodes) {
    if (node.kind === 'text') {
      out.push(node.text);
    } else if (node.kind === 'action') {
      const field = pipelineField(node.pipe);
      if (field !== undefined) out.push(opts.headers?.[field] ?? headerFromField(field));
    } else {
      headerNodes(node.body, opts, out);
    }
  }
}

/** The header row of a table format: each field's header, the literal text kept. */
export function formatHeader(parsed: ParsedFormat, opts: RenderOptions = {}): string {
  const out: string[] = [];
  headerNodes(parsed.nodes, opts, out);
  return out.join('');
}

/**
 * The whole output of a --format for a list of objects: one rendered line per
 * object; for "table …" a header row first and columns aligned.
 */
export function renderFormat(format: string, items: readonly unknown[], opts: RenderOptions = {}): string {
  return renderParsedFormat(parseFormat(format, opts), items, opts);
}

/** renderFormat for a format parsed beforehand (to reject a bad one before doing the work). */
export function renderParsedFormat(parsed: ParsedFormat, items: readonly unknown[], opts: RenderOptions = {}): string {
  const lines = items.map((item) => `${executeFormat(parsed, item)}\n`);
  if (!parsed.table) return lines.join('');
  const aligned = alignColumns(`${formatHeader(parsed, opts)}\n${lines.join('')}`);
  return opts.noHeading ? aligned.slice(aligned.indexOf('\n') + 1) : aligned;
}

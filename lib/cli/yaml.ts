// The YAML-like listing `skiff info` prints, as `podman info` does.

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function yamlScalar(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  const s = String(v);
  const plain =
    s !== '' &&
    !/^(true|false|yes|no|on|off|null|~)$/i.test(s) &&
    !/^[-+]?(\d[\d_]*(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/.test(s) &&
    !/^[\s\-?:,[\]{}#&*!|>'"%@`]/.test(s) &&
    !/\s$/.test(s) &&
    !/: |\s#|[\n\t]/.test(s) &&
    !s.endsWith(':');
  return plain ? s : JSON.stringify(s);
}

function yamlLines(value: unknown, indent: string, out: string[]): void {
  if (Array.isArray(value)) {
    for (const item of value) {
      if (isObject(item) && Object.keys(item).length > 0) {
        const nested: string[] = [];
        yamlLines(item, `${indent}  `, nested);
        out.push(`${indent}- ${nested[0]!.slice(indent.length + 2)}`, ...nested.slice(1));
      } else if (Array.isArray(item) && item.length > 0) {
        out.push(`${indent}-`);
        yamlLines(item, `${indent}  `, out);
      } else {
        out.push(`${indent}- ${yamlInline(item)}`);
      }
    }
    return;
  }
  if (isObject(value)) {
    for (const [key, v] of Object.entries(value)) {
      if ((Array.isArray(v) && v.length > 0) || (isObject(v) && Object.keys(v).length > 0)) {
        out.push(`${indent}${key}:`);
        yamlLines(v, `${indent}  `, out);
      } else {
        out.push(`${indent}${key}: ${yamlInline(v)}`);
      }
    }
    return;
  }
  out.push(`${indent}${yamlScalar(value)}`);
}

function yamlInline(v: unknown): string {
  if (Array.isArray(v)) return '[]';
  if (isObject(v)) return '{}';
  return yamlScalar(v);
}

/** A readable YAML listing of a JSON-like value, as `podman info` prints. */
export function renderYaml(value: unknown): string {
  const out: string[] = [];
  yamlLines(value, '', out);
  return `${out.join('\n')}\n`;
}

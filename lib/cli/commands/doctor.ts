import type { CommandSpec, ParsedArgs } from '../args.js';
export const spec: CommandSpec = { name: 'doctor', summary: 'Display information about the host and skiff', usage: '[OPTIONS]', positionals: 'interspersed', maxPositionals: 0, flags: [{ name: 'format', short: 'f', type: 'string', describe: "Output format: 'json' or a Go template" }] };
export async function run(_args: ParsedArgs): Promise<number> { return 0; }

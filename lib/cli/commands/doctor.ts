import type { CommandSpec, ParsedArgs } from '../args.js';
import { flagString } from '../args.js';
import { parseFormat, renderParsedFormat } from '../format.js';
import { gatherDoctorFacts } from '../../system/doctor-facts.js';
import { doctorExitCode, runChecks } from '../../system/doctor-checks.js';
import type { CheckResult, CheckStatus } from '../../system/doctor-checks.js';

export const spec: CommandSpec = {
  name: 'doctor',
  summary: 'Check every rootless prerequisite and say how to fix what fails (exit status 1 when a check fails)',
  usage: '[OPTIONS]',
  positionals: 'interspersed',
  maxPositionals: 0,
  flags: [
    {
      name: 'format',
      short: 'f',
      type: 'string',
      placeholder: 'FORMAT',
      describe: "Output format: 'json' (a list of {Name, Status, Detail, Fix}), or a Go template applied to each check, e.g. 'table {{.Status}}\\t{{.Name}}'",
    },
    { name: 'user', short: 'u', type: 'string', placeholder: 'NAME', describe: "Check this user's rootless prerequisites (root only, for another user)" },
  ],
};

const SYMBOL: Record<CheckStatus, string> = { ok: '✔', warn: '!', fail: '✘' };
const COLOUR: Record<CheckStatus, string> = { ok: '\x1b[32m', warn: '\x1b[33m', fail: '\x1b[31m' };

/** One line per check, its fix indented below; colour only when asked (a TTY). */
export function renderChecks(results: readonly CheckResult[], opts: { colour: boolean }): string {
  const out: string[] = [];
  for (const r of results) {
    const symbol = opts.colour ? `${COLOUR[r.Status]}${SYMBOL[r.Status]}\x1b[0m` : SYMBOL[r.Status];
    out.push(`${symbol} ${r.Name}: ${r.Detail}`);
    r.Fix.split('\n')
      .filter((line) => line !== '')
      .forEach((line, i) => out.push(`${i === 0 ? '    fix: ' : '         '}${line}`));
  }
  const failed = results.filter((r) => r.Status === 'fail').length;
  const warned = results.filter((r) => r.Status === 'warn').length;
  const counts = [failed > 0 ? `${failed} failed` : '', warned > 0 ? `${warned} warning${warned === 1 ? '' : 's'}` : ''].filter((s) => s !== '');
  out.push('', counts.length === 0 ? `all ${results.length} checks passed` : `${results.length} checks: ${counts.join(', ')}`);
  return `${out.join('\n')}\n`;
}

export async function run(args: ParsedArgs): Promise<number> {
  const format = flagString(args, 'format');
  const user = flagString(args, 'user');
  const parsed = format !== undefined && format !== 'json' ? parseFormat(format, { defaultTable: '{{.Status}}\t{{.Name}}\t{{.Detail}}' }) : undefined;
  const facts = await gatherDoctorFacts(user !== undefined ? { user } : {});
  const results = runChecks(facts);
  if (format === 'json') {
    process.stdout.write(`${JSON.stringify(results, null, 4)}\n`);
  } else if (parsed) {
    process.stdout.write(renderParsedFormat(parsed, results));
  } else {
    if (facts.mode === 'root' && user === undefined) {
      process.stdout.write("Running as root: checking root mode. Rootless prerequisites apply to ordinary users: check one with 'skiff doctor --user NAME'.\n\n");
    } else if (user !== undefined) {
      process.stdout.write(`Checking ${facts.mode} prerequisites for ${facts.user.name} (uid ${facts.user.uid}).\n\n`);
    }
    const colour = process.stdout.isTTY === true && process.env['NO_COLOR'] === undefined;
    process.stdout.write(renderChecks(results, { colour }));
  }
  return doctorExitCode(results);
}

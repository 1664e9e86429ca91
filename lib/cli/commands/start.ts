import type { CommandSpec, ParsedArgs } from '../args.js';
import { flagBool, flagList } from '../args.js';
import { containerRefs, missingExitCode } from '../each.js';
import { SkiffError } from '../../errors.js';
import { startContainer, waitContainer } from '../../containers/lifecycle.js';
import { resolveContainer } from '../../containers/store.js';
import { printErrorLine } from '../error-line.js';

export const spec: CommandSpec = {
  name: 'start',
  summary: 'Start one or more stopped containers',
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  positionals: 'interspersed',
  flags: [
    { name: 'attach', short: 'a', type: 'boolean', describe: "Attach its output (stdout and stderr) and exit with its status" },
    { name: 'interactive', short: 'i', type: 'boolean', describe: "Attach the container's stdin" },
    { name: 'all', type: 'boolean', describe: 'Start every container that is not running (Podman)' },
    { name: 'filter', type: 'array', placeholder: 'KEY=VALUE', describe: 'With --all, or alone: only the containers ps --filter would show (name=, id=, status=, label=, ancestor=…)' },
  ],
};

export async function run(args: ParsedArgs): Promise<number> {
  const attach = flagBool(args, 'attach') || flagBool(args, 'interactive');
  const refs = await containerRefs('start', args.positionals, flagBool(args, 'all'), flagList(args, 'filter'), ['created', 'exited']);
  if (attach && (refs.length > 1 || flagBool(args, 'all'))) throw new SkiffError('you cannot start and attach multiple containers at once');
  let failed = 0;
  for (const ref of refs) {
    try {
      const record = resolveContainer(ref);
      const sock = await startContainer(record, { attach });
      if (sock) {
        const { pumpAttach } = await import('../../containers/attach.js');
        const result = await pumpAttach(sock, { stdin: flagBool(args, 'interactive'), detachKeys: 'ctrl-p,ctrl-q' });
        if (result === 'detached') return 0;
        return result >= 0 ? result : await waitContainer(record);
      }
      process.stdout.write(`${ref}\n`);
    } catch (err) {
      if (!(err instanceof SkiffError)) throw err;
      printErrorLine(err.message);
      failed ||= err.reason === 'not-found' ? missingExitCode(err) : 125;
    }
  }
  return failed;
}

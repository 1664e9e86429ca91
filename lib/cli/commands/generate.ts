// `skiff generate systemd --new`: a systemd service that creates the
// container afresh at each start, as Podman 4's generate systemd --new did
// (docs/systemd.md). Quadlet files (skiff quadlet) are the newer way.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { CommandSpec, ParsedArgs } from '../args.js';
import { flagBool, flagString, parseArgs } from '../args.js';
import { runSubcommand } from '../subcommands.js';
import { SkiffError } from '../../errors.js';
import { installRoot } from '../../paths.js';
import { VERSION } from '../../version.js';

export const spec: CommandSpec = {
  name: 'generate',
  summary: 'Generate systemd units (generate systemd)',
  usage: 'systemd [OPTIONS] CONTAINER',
  positionals: 'halt',
  flags: [],
};

export const systemdSpec: CommandSpec = {
  name: 'generate systemd',
  summary: 'Generate a systemd service that runs a container like this one',
  usage: '--new [OPTIONS] CONTAINER',
  positionals: 'interspersed',
  minPositionals: 1,
  maxPositionals: 1,
  flags: [
    { name: 'new', type: 'boolean', describe: 'The service creates the container at each start and removes it at each stop (required)' },
    { name: 'name', short: 'n', type: 'boolean', describe: "Use the container's name, not its id, in the service's name" },
    { name: 'files', short: 'f', type: 'boolean', describe: 'Write the service to a file in the current directory and print its path' },
    { name: 'restart-policy', type: 'string', describe: 'The service\'s Restart= (default on-failure)', placeholder: 'POLICY', default: 'on-failure' },
    { name: 'restart-sec', type: 'string', describe: 'The service\'s RestartSec=', placeholder: 'SECONDS' },
    { name: 'time', short: 't', aliases: ['stop-timeout'], type: 'string', describe: 'Seconds stop waits before SIGKILL (default 10)', placeholder: 'SECONDS', default: '10' },
    { name: 'container-prefix', type: 'string', describe: "The service name's prefix (default container)", placeholder: 'PREFIX', default: 'container' },
    { name: 'separator', type: 'string', describe: "Between prefix and name (default -)", placeholder: 'SEP', default: '-' },
    { name: 'no-header', type: 'boolean', describe: 'Leave out the header comment' },
    { name: 'wants', type: 'array', describe: 'Add Wants= (and After=) on a unit', placeholder: 'UNIT' },
    { name: 'requires', type: 'array', describe: 'Add Requires= (and After=) on a unit', placeholder: 'UNIT' },
    { name: 'after', type: 'array', describe: 'Add After= on a unit', placeholder: 'UNIT' },
  ],
};

const RESTART_POLICIES = ['no', 'on-success', 'on-failure', 'on-abnormal', 'on-watchdog', 'on-abort', 'always'];

/** run's flags the service sets itself: the container's own are dropped from its create command. */
const UNIT_OWNED = new Set(['detach', 'rm', 'name', 'cidfile', 'replace', 'sdnotify', 'cgroups', 'pidfile', 'conmon-pidfile']);

export async function run(args: ParsedArgs): Promise<number> {
  return runSubcommand('generate', { systemd: async () => ({ spec: systemdSpec, run: runSystemd }) }, args);
}

async function runSystemd(args: ParsedArgs): Promise<number> {
  if (!flagBool(args, 'new')) {
    throw new SkiffError('generate systemd needs --new: skiff generates services that create the container at start (a unit that starts an existing container is not supported)');
  }
  const policy = flagString(args, 'restart-policy') ?? 'on-failure';
  if (!RESTART_POLICIES.includes(policy)) throw new SkiffError(`invalid --restart-policy "${policy}": use ${RESTART_POLICIES.join(', ')}`);
  const time = flagString(args, 'time') ?? '10';
  if (!/^\d+$/.test(time)) throw new SkiffError(`invalid --time "${time}": expected whole seconds`);
  const restartSec = flagString(args, 'restart-sec');
  if (restartSec !== undefined && !/^\d+$/.test(restartSec)) throw new SkiffError(`invalid --restart-sec "${restartSec}": expected whole seconds`);
  const { resolveContainer } = await import('../../containers/store.js');
  const record = resolveContainer(args.positionals[0]!);
  const create = record.Config.CreateCommand;
  if (!create) throw new SkiffError(`container ${record.Name} was made by an older skiff that kept no create command: make it again to generate a service for it`);
  // Global flags, then run or create (or container run|create), then its arguments.
  const at = create.findIndex((w, i) => i > 0 && (w === 'run' || w === 'create') && (create[i - 1] === 'container' || !create[i - 1]!.startsWith('-') || i === 1));
  if (at < 0) throw new SkiffError(`container ${record.Name}: its create command is not a run or create`);
  const globals = create.slice(1, create[at - 1] === 'container' ? at - 1 : at);
  const { spec: runSpec } = await import('./run.js');
  const parsed = parseArgs(runSpec, create.slice(at + 1));
  const { quoteExecArg } = await import('../../system/unitfile.js');
  const flags: string[] = [];
  for (const f of runSpec.flags) {
    const value = parsed.flags[f.name];
    if (value === undefined || UNIT_OWNED.has(f.name) || value === f.default) continue;
    if (Array.isArray(value)) for (const v of value) flags.push(`--${f.name}=${v}`);
    else if (typeof value === 'boolean') flags.push(value ? `--${f.name}` : `--${f.name}=false`);
    else flags.push(`--${f.name}=${value}`);
  }
  const q = (list: string[]) => list.map((a) => quoteExecArg(a)).join(' ');
  const skiff = q([process.execPath, path.join(installRoot(), 'bin/skiff'), ...globals]);
  const serviceName = `${flagString(args, 'container-prefix') ?? 'container'}${flagString(args, 'separator') ?? '-'}${flagBool(args, 'name') ? record.Name : record.Id}`;
  const cid = '--cidfile=%t/%n.ctr-id';
  const runLine = [`${skiff} run ${cid} --cgroups=split --rm --sdnotify=conmon -d --replace`, `--name ${quoteExecArg(record.Name)}`, q(flags), q(parsed.positionals)].filter((s) => s !== '').join(' ');
  const wants = (args.flags['wants'] as string[] | undefined) ?? [];
  const requires = (args.flags['requires'] as string[] | undefined) ?? [];
  const after = (args.flags['after'] as string[] | undefined) ?? [];
  const lines = [
    ...(flagBool(args, 'no-header') ? [] : [`# ${serviceName}.service`, `# autogenerated by skiff ${VERSION}`, '']),
    '[Unit]',
    `Description=skiff ${serviceName}.service`,
    'Documentation=man:podman-generate-systemd(1)',
    'Wants=network-online.target',
    'After=network-online.target',
    ...wants.map((u) => `Wants=${u}`),
    ...requires.map((u) => `Requires=${u}`),
    ...[...wants, ...requires, ...after].map((u) => `After=${u}`),
    'RequiresMountsFor=%t/skiff',
    '',
    '[Service]',
    'Environment=PODMAN_SYSTEMD_UNIT=%n',
    `Restart=${policy}`,
    ...(restartSec !== undefined ? [`RestartSec=${restartSec}`] : []),
    `TimeoutStopSec=${Number(time) + 60}`,
    `ExecStart=${runLine}`,
    `ExecStop=${skiff} stop --ignore -t ${time} ${cid}`,
    `ExecStopPost=${skiff} rm -f --ignore -t ${time} ${cid}`,
    'Delegate=yes',
    'Type=notify',
    'NotifyAccess=all',
    '',
    '[Install]',
    'WantedBy=default.target',
  ];
  const text = `${lines.join('\n')}\n`;
  if (flagBool(args, 'files')) {
    const file = path.resolve(`${serviceName}.service`);
    writeFileSync(file, text);
    process.stdout.write(`${file}\n`);
  } else {
    process.stdout.write(text);
  }
  return 0;
}

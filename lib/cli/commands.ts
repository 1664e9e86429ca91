// The command table. Each entry lazy-loads its module so that one command never
// pays for another's code at start-up (design.md, decision 8).
import type { CommandEntry } from './command.js';

export const COMMANDS: CommandEntry[] = [
  { name: 'run', summary: 'Run a command in a new container', load: () => import('./commands/run.js') },
  { name: 'info', summary: 'Display information about the host and skiff', load: () => import('./commands/info.js') },
  { name: 'doctor', summary: 'Check every rootless prerequisite and say how to fix what fails', load: () => import('./commands/doctor.js') },
  { name: 'version', summary: 'Show the skiff version', load: () => import('./commands/version.js') },
];

export function findCommand(name: string): CommandEntry | undefined {
  return COMMANDS.find((c) => c.name === name || c.aliases?.includes(name));
}

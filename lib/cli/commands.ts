// The command table. Each entry lazy-loads its module so that one command never
// pays for another's code at start-up (design.md, decision 8).
import type { CommandEntry } from './command.js';

export const COMMANDS: CommandEntry[] = [
  { name: 'run', summary: 'Run a command in a new container', load: () => import('./commands/run.js') },
  { name: 'create', summary: 'Create a new container without starting it', load: () => import('./commands/create.js') },
  { name: 'start', summary: 'Start one or more stopped containers', load: () => import('./commands/start.js') },
  { name: 'ps', summary: 'List containers', load: () => import('./commands/ps.js') },
  { name: 'logs', summary: 'Fetch the logs of a container', load: () => import('./commands/logs.js') },
  { name: 'stop', summary: 'Stop one or more running containers', load: () => import('./commands/stop.js') },
  { name: 'kill', summary: 'Send a signal to one or more running containers', load: () => import('./commands/kill.js') },
  { name: 'rm', summary: 'Remove one or more containers', load: () => import('./commands/rm.js') },
  { name: 'wait', summary: 'Block until containers stop, then print their exit codes', load: () => import('./commands/wait.js') },
  { name: 'exec', summary: 'Run a command in a running container', load: () => import('./commands/exec.js') },
  { name: 'attach', summary: 'Attach to a running container', load: () => import('./commands/attach.js') },
  { name: 'rename', summary: 'Rename a container', load: () => import('./commands/rename.js') },
  { name: 'restart', summary: 'Restart one or more containers', load: () => import('./commands/restart.js') },
  { name: 'pause', summary: 'Pause all processes within one or more containers', load: () => import('./commands/pause.js') },
  { name: 'unpause', summary: 'Unpause all processes within one or more containers', load: () => import('./commands/unpause.js') },
  { name: 'update', summary: 'Update the resource limits of one or more containers', load: () => import('./commands/update.js') },
  { name: 'stats', summary: 'Display a live stream of container resource usage statistics', load: () => import('./commands/stats.js') },
  { name: 'top', summary: 'Display the running processes of a container', load: () => import('./commands/top.js') },
  { name: 'diff', summary: "Inspect changes to files on a container's filesystem", load: () => import('./commands/diff.js') },
  { name: 'cp', summary: 'Copy files/folders between a container and the local filesystem', load: () => import('./commands/cp.js') },
  { name: 'export', summary: "Export a container's filesystem as a tar archive", load: () => import('./commands/export.js') },
  { name: 'commit', summary: "Create a new image from a container's changes", load: () => import('./commands/commit.js') },
  { name: 'container', summary: 'Manage containers', load: () => import('./commands/container.js') },
  { name: 'pull', summary: 'Pull an image from a registry', load: () => import('./commands/pull.js') },
  { name: 'push', summary: 'Push an image to a registry', load: () => import('./commands/push.js') },
  { name: 'save', summary: 'Save one or more images to a tar archive (streamed to STDOUT by default)', load: () => import('./commands/save.js') },
  { name: 'load', summary: 'Load images from a tar archive or STDIN', load: () => import('./commands/load.js') },
  { name: 'import', summary: 'Import the contents from a tarball to create a filesystem image', load: () => import('./commands/import.js') },
  { name: 'images', summary: 'List images', load: () => import('./commands/images.js') },
  { name: 'rmi', summary: 'Remove one or more images', load: () => import('./commands/rmi.js') },
  { name: 'tag', summary: 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE', load: () => import('./commands/tag.js') },
  { name: 'inspect', summary: 'Display detailed information on one or more images', load: () => import('./commands/inspect.js') },
  { name: 'history', summary: 'Show the history of an image', load: () => import('./commands/history.js') },
  { name: 'build', summary: 'Build an image from a Dockerfile', load: () => import('./commands/build.js') },
  { name: 'buildx', summary: 'Docker Buildx: buildx build is build', load: () => import('./commands/buildx.js') },
  { name: 'image', summary: 'Manage images', load: () => import('./commands/image.js') },
  { name: 'volume', summary: 'Manage volumes', load: () => import('./commands/volume.js') },
  { name: 'manifest', summary: 'Inspect manifests and manifest lists in a registry', load: () => import('./commands/manifest.js') },
  { name: 'login', summary: 'Log in to a container registry', load: () => import('./commands/login.js') },
  { name: 'logout', summary: 'Log out from a container registry', load: () => import('./commands/logout.js') },
  { name: 'system', summary: 'Manage skiff: disk usage, pruning, information', load: () => import('./commands/system.js') },
  { name: 'info', summary: 'Display information about the host and skiff', load: () => import('./commands/info.js') },
  { name: 'doctor', summary: 'Check every rootless prerequisite and say how to fix what fails', load: () => import('./commands/doctor.js') },
  { name: 'version', summary: 'Show the skiff version', load: () => import('./commands/version.js') },
];

export function findCommand(name: string): CommandEntry | undefined {
  return COMMANDS.find((c) => c.name === name || c.aliases?.includes(name));
}

// `commit -c` and `import -c`: Dockerfile instructions that only change an
// image's configuration (Docker's CMD, ENTRYPOINT, ENV, EXPOSE, LABEL,
// ONBUILD, USER, VOLUME, WORKDIR, STOPSIGNAL), each parsed and applied by
// build's own Dockerfile parser and rules, with the image's environment for
// $VAR. Podman's "INSTRUCTION=VALUE" spelling is accepted too.
import { SkiffError } from '../errors.js';
import { parseDockerfile } from './dockerfile.js';
import { applyConfigInstruction, type BuildContainerConfig } from './image-config.js';

export const CHANGE_INSTRUCTIONS = ['CMD', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'LABEL', 'ONBUILD', 'USER', 'VOLUME', 'WORKDIR', 'STOPSIGNAL'];

function invalid(change: string, why: string): SkiffError {
  return new SkiffError(`invalid change "${change}": ${why}`);
}

/** The variables an instruction sees: the image's environment. */
function variables(env: string[] | undefined): Map<string, string> {
  const vars = new Map<string, string>();
  for (const e of env ?? []) {
    const eq = e.indexOf('=');
    if (eq > 0) vars.set(e.slice(0, eq), e.slice(eq + 1));
  }
  return vars;
}

/** Applies each change in order to a copy of `config`. */
export function applyConfigChanges(config: BuildContainerConfig | undefined, changes: string[]): BuildContainerConfig {
  let out: BuildContainerConfig = { ...(config ?? {}) };
  for (const change of changes) {
    const m = /^\s*([A-Za-z]+)(=|\s+|$)/.exec(change);
    const keyword = m?.[1]?.toUpperCase();
    if (!m || keyword === undefined || !CHANGE_INSTRUCTIONS.includes(keyword)) {
      throw invalid(change, `the instruction must be one of ${CHANGE_INSTRUCTIONS.join(', ')}`);
    }
    const rest = change.slice(m[0].length);
    if (rest.trim() === '') throw invalid(change, `${keyword} needs an argument`);
    if (/[\r\n]/.test(rest)) throw invalid(change, 'one line, one instruction');
    let parsed;
    try {
      // The parser wants a stage: the change is the instruction after FROM.
      parsed = parseDockerfile(`FROM scratch\n${keyword} ${rest}`, '--change');
    } catch (err) {
      throw invalid(change, (err as Error).message.replace(/^--change:\d+:\d+: /, ''));
    }
    const instruction = parsed.instructions[1];
    if (parsed.instructions.length !== 2 || instruction === undefined) throw invalid(change, 'one line, one instruction');
    try {
      out = applyConfigInstruction(instruction, out, variables(out.Env), parsed.escape).config;
    } catch (err) {
      throw invalid(change, (err as Error).message);
    }
  }
  return out;
}

// How a test that this host cannot run says so. Its title ends with
// "(skipped: WHY: FIX)", and scripts/test.mjs prints each such reason once
// under the suite's count, with how many tests it skipped: a green count says
// what did not run, and the command that would run it.

/** `title`, plus why it is skipped here when `why` is set. */
export function skipTitle(title: string, why: string | undefined): string {
  if (why === undefined) return title;
  return `${title} (skipped: ${why})`;
}

/** The reason a test needs root, for a suite run as another user. */
export const NEEDS_ROOT = 'needs root: run the suite as root (sudo npm test)';

// How an error reaches the user: one line on stderr starting "Error: ", as
// Podman's do (and Docker's "Error response from daemon: …" begin with
// "Error"), so scripts and people who look for that prefix find it.
// Warnings keep "skiff: warning: ".
export function printErrorLine(message: string): void {
  process.stderr.write(`Error: ${message}\n`);
}

// Docker's (and Podman's) plain build progress on stderr: "STEP 2/5: RUN …",
// the command's own output, "--> Using cache <id>", "--> <short id>",
// "COMMIT name". Nothing with -q: then stdout gets the image id alone.
export class ProgressPrinter {
  private prefix = '';
  /** Held back while a rootless build tries the cache outside the user namespace (see index.ts). */
  private held: string[] | undefined;
  constructor(
    private readonly quiet: boolean,
    hold = false,
  ) {
    if (hold) this.held = [];
  }

  private line(text: string): void {
    if (this.quiet) return;
    if (this.held) this.held.push(`${text}\n`);
    else process.stderr.write(`${text}\n`);
  }

  /** Writes what was held back, and writes directly from now on. */
  flush(): void {
    if (this.held && this.held.length > 0) process.stderr.write(this.held.join(''));
    this.held = undefined;
  }

  stage(n: number, total: number): void {
    this.prefix = total > 1 ? `[${n}/${total}] ` : '';
  }

  step(n: number, total: number, text: string): void {
    this.line(`${this.prefix}STEP ${n}/${total}: ${text}`);
  }

  note(text: string): void {
    this.line(`--> ${text}`);
  }

  cached(id: string): void {
    this.line(`--> Using cache ${id.replace(/^sha256:/, '')}`);
  }

  committed(id: string): void {
    this.line(`--> ${id.replace(/^sha256:/, '').slice(0, 12)}`);
  }

  commit(names: string[]): void {
    this.line(`${this.prefix}COMMIT ${names.join(', ')}`);
  }

  tagged(name: string): void {
    this.line(`Successfully tagged ${name}`);
  }

  warn(text: string): void {
    if (this.quiet) return;
    if (this.held) this.held.push(`skiff: warning: ${text}\n`);
    else process.stderr.write(`skiff: warning: ${text}\n`);
  }

  /** Where a RUN's output goes: stderr, or nowhere with -q. */
  output(): 'ignore' | number {
    return this.quiet ? 'ignore' : 2;
  }
}

// What a pull (or a push: the same display with other words) shows on stderr
// while it works. On a terminal, one progress bar per layer (cli-progress:
// bytes, rate), like Docker; elsewhere one line per blob when it is done, like
// Podman; with -q nothing but warnings. stdout is never written here: it
// carries only the result (the image id, the pushed digest).
import type { Descriptor } from '../oci/image-spec.js';
import { humanSize } from '../humanize.js';

export interface PullReporter {
  start(text: string): void;
  /** Waiting for another skiff process to let go of the store. */
  waiting(): void;
  layerSkipped(blob: Descriptor): void;
  layerStarted(blob: Descriptor): void;
  layerBytes(blob: Descriptor, n: number): void;
  layerDone(blob: Descriptor): void;
  configDone(digest: string): void;
  warn(message: string): void;
  /** Ends the display (also after a failure). */
  finish(ok: boolean): void;
}

/** The words of one kind of transfer. */
export interface TransferWords {
  /** "Trying to pull IMAGE...". */
  start: (text: string) => string;
  /** A bar's status when the blob is there already ("Already exists"). */
  skipped: string;
  /** A bar's status when done ("Pull complete"). */
  done: string;
}

export const PULL_WORDS: TransferWords = { start: (t) => `Trying to pull ${t}...`, skipped: 'Already exists', done: 'Pull complete' };

function writeErr(line: string): void {
  process.stderr.write(`${line}\n`);
}

function warnLine(message: string): void {
  writeErr(`skiff: warning: ${message}`);
}

/** -q: only warnings. */
export class QuietReporter implements PullReporter {
  start(): void {}
  waiting(): void {}
  layerSkipped(): void {}
  layerStarted(): void {}
  layerBytes(): void {}
  layerDone(): void {}
  configDone(): void {}
  warn(message: string): void {
    warnLine(message);
  }
  finish(): void {}
}

/** Keeps the calls, to replay them on another reporter once the work is known to stand. */
export class RecordingReporter implements PullReporter {
  private readonly calls: Array<(r: PullReporter) => void> = [];
  start(text: string): void {
    this.calls.push((r) => r.start(text));
  }
  waiting(): void {
    this.calls.push((r) => r.waiting());
  }
  layerSkipped(blob: Descriptor): void {
    this.calls.push((r) => r.layerSkipped(blob));
  }
  layerStarted(blob: Descriptor): void {
    this.calls.push((r) => r.layerStarted(blob));
  }
  layerBytes(blob: Descriptor, n: number): void {
    this.calls.push((r) => r.layerBytes(blob, n));
  }
  layerDone(blob: Descriptor): void {
    this.calls.push((r) => r.layerDone(blob));
  }
  configDone(digest: string): void {
    this.calls.push((r) => r.configDone(digest));
  }
  warn(message: string): void {
    this.calls.push((r) => r.warn(message));
  }
  finish(ok: boolean): void {
    this.calls.push((r) => r.finish(ok));
  }
  replay(to: PullReporter): void {
    for (const call of this.calls) call(to);
  }
}

/** Off a terminal: Podman's lines. */
export class LineReporter implements PullReporter {
  constructor(private readonly words: TransferWords = PULL_WORDS) {}
  start(text: string): void {
    writeErr(this.words.start(text));
  }
  waiting(): void {
    writeErr('Waiting for another skiff process to finish with the image store...');
  }
  layerSkipped(blob: Descriptor): void {
    writeErr(`Copying blob ${blob.digest} skipped: already exists`);
  }
  layerStarted(): void {}
  layerBytes(): void {}
  layerDone(blob: Descriptor): void {
    writeErr(`Copying blob ${blob.digest} done`);
  }
  configDone(digest: string): void {
    writeErr(`Copying config ${digest} done`);
    writeErr('Writing manifest to image destination');
  }
  warn(message: string): void {
    warnLine(message);
  }
  finish(): void {}
}

interface BarState {
  label: string;
  status: string;
  started: number;
}

interface Bar {
  update(value: number, payload?: object): void;
  increment(n: number): void;
  getTotal(): number;
  stop(): void;
}

interface MultiBar {
  create(total: number, start: number, payload: object): Bar;
  log(text: string): void;
  stop(): void;
}

/** On a terminal: one cli-progress bar per layer, with bytes and rate. */
export class BarReporter implements PullReporter {
  private readonly bars = new Map<string, { bar: Bar; state: BarState; value: number }>();
  private readonly warnings: string[] = [];
  private constructor(
    private readonly multi: MultiBar,
    private readonly words: TransferWords,
  ) {}

  static async create(words: TransferWords = PULL_WORDS): Promise<BarReporter> {
    const { default: cliProgress } = await import('cli-progress');
    const width = 25;
    const multi = new cliProgress.MultiBar({
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      autopadding: false,
      fps: 10,
      format: (_options: unknown, params: { value: number; total: number; progress: number }, payload: BarState) => {
        const label = `${payload.label}:`;
        if (payload.status !== '') return `${label} ${payload.status}`;
        const filled = Math.round(Math.min(1, params.progress) * width);
        const bar = `[${'='.repeat(Math.max(0, filled - 1))}${filled > 0 ? '>' : ''}${' '.repeat(width - filled)}]`;
        const seconds = Math.max(0.001, (Date.now() - payload.started) / 1000);
        return `${label} ${bar} ${humanSize(params.value, 3)}/${humanSize(params.total, 3)} ${humanSize(params.value / seconds, 3)}/s`;
      },
    }) as unknown as MultiBar;
    return new BarReporter(multi, words);
  }

  private add(blob: Descriptor, status: string): { bar: Bar; state: BarState; value: number } {
    const state: BarState = { label: blob.digest.replace(/^sha256:/, '').slice(0, 12), status, started: Date.now() };
    const entry = { bar: this.multi.create(Math.max(1, blob.size), 0, state), state, value: 0 };
    this.bars.set(blob.digest, entry);
    return entry;
  }

  start(text: string): void {
    this.multi.log(`${this.words.start(text)}\n`);
  }
  waiting(): void {
    this.multi.log('Waiting for another skiff process to finish with the image store...\n');
  }
  layerSkipped(blob: Descriptor): void {
    this.add(blob, this.words.skipped);
  }
  layerStarted(blob: Descriptor): void {
    this.add(blob, '');
  }
  layerBytes(blob: Descriptor, n: number): void {
    const e = this.bars.get(blob.digest);
    if (!e) return;
    e.value += n;
    e.bar.update(Math.min(e.value, e.bar.getTotal()), e.state);
  }
  layerDone(blob: Descriptor): void {
    const e = this.bars.get(blob.digest);
    if (!e) return;
    e.state.status = this.words.done;
    e.bar.update(e.bar.getTotal(), e.state);
  }
  configDone(): void {
    // The bars say it all, as in Docker.
  }
  warn(message: string): void {
    // cli-progress prints logged lines at its next redraw, which may never come: keep them for the end.
    this.warnings.push(message);
  }
  finish(): void {
    this.multi.stop();
    for (const w of this.warnings) warnLine(w);
  }
}

export async function createReporter(quiet: boolean, tty: boolean = process.stderr.isTTY === true, words: TransferWords = PULL_WORDS): Promise<PullReporter> {
  if (quiet) return new QuietReporter();
  return tty ? BarReporter.create(words) : new LineReporter(words);
}

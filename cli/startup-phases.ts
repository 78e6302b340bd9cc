/**
 * `--verbose`: each phase of a command's start (and of its end) on standard
 * error, with how long it took and when it ended, counted from the start of
 * the process (or, in-process, of the command line):
 *
 *   [  0.412 s] CLI loaded (0.412 s)
 *   [  1.804 s] Temporal dev server started on 127.0.0.1:7233 (1.350 s)
 *
 * Phases can overlap (the dev server starts while the worker's code loads), so
 * the durations add up to more than the time taken. bench/startup.ts reads
 * these lines. Phases recorded before --verbose is known are kept and printed
 * once it is.
 */
import type { OutputStream } from './command-io';

export class StartupPhases {
  private out: OutputStream | undefined;
  private readonly held: string[] = [];

  /** `origin`: performance.now() when the process (or the command line) started. */
  constructor(private readonly origin = performance.now()) {}

  /** Prints the phases recorded so far, and every later one, on `out`. */
  print(out: OutputStream): void {
    this.out = out;
    for (const line of this.held.splice(0)) out.write(line);
  }

  /** A phase that began at `since` (performance.now()) and ended now. */
  record(what: string, since: number): void {
    const now = performance.now();
    const line = `[${((now - this.origin) / 1000).toFixed(3).padStart(7)} s] ${what} (${((now - since) / 1000).toFixed(3)} s)\n`;
    if (this.out) this.out.write(line);
    else this.held.push(line);
  }

  /** Runs `step` as a phase; `what` may name it from its result. A failed step records nothing. */
  async time<T>(what: string | ((result: T) => string), step: () => Promise<T>): Promise<T> {
    const since = performance.now();
    const result = await step();
    this.record(typeof what === 'string' ? what : what(result), since);
    return result;
  }
}

/** Phases nobody prints: for code called without a command's io (tests, benches). */
export const UNRECORDED = new (class extends StartupPhases {
  override record(): void {}
})();

/**
 * The emulator's clock: epoch milliseconds that never go backwards. The quota
 * windows, the accepted-calls histogram, the delete log and the expiry of
 * temporary credentials share it, so they always agree on when a call
 * happened, even if the system clock is adjusted.
 *
 * A test can move it forward (POST /_emulator/clock) to let temporary
 * credentials expire without waiting. It never moves back, so the sliding
 * windows and the histogram stay ordered. The SigV4 clock-skew check does not
 * use it: it compares the client's X-Amz-Date with the machine's clock, which
 * is also the client's.
 */
import { performance } from 'node:perf_hooks';

export class EmulatorClock {
  private offsetMs = 0;

  now(): number {
    return performance.timeOrigin + performance.now() + this.offsetMs;
  }

  /** Moves the clock forward; returns the new time. */
  advance(ms: number): number {
    this.offsetMs += Math.max(0, ms);
    return this.now();
  }
}

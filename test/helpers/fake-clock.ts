/**
 * A clock for the rate limiter's unit tests: time moves only when the test
 * says so, and timers fire in order as it does. No real sleeping.
 */
import type { LimiterClock } from '../../cognito/rate-limiter';

interface Timer {
  id: number;
  at: number;
  callback: () => void;
}

export class FakeClock implements LimiterClock {
  private time = 0;
  private timers: Timer[] = [];
  private nextId = 1;

  now(): number {
    return this.time;
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const timer = { id: this.nextId++, at: this.time + Math.max(0, ms), callback };
    this.timers.push(timer);
    return timer.id;
  }

  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }

  /** Moves time forward by `ms`, firing every timer due on the way, and lets promises settle after each. */
  async advance(ms: number): Promise<void> {
    const target = this.time + ms;
    await settle();
    for (;;) {
      const due = this.timers.filter((t) => t.at <= target).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.time = due.at;
      due.callback();
      await settle();
    }
    this.time = target;
    await settle();
  }

  /** Advances until no timer is left (or `limitMs` has passed). */
  async runAll(limitMs = 3_600_000): Promise<void> {
    const end = this.time + limitMs;
    // Calls that finish in a promise callback may set the next timer: let them run before looking.
    await settle();
    while (this.timers.length > 0 && this.time < end) {
      const next = Math.min(...this.timers.map((t) => t.at));
      await this.advance(Math.max(0, next - this.time));
    }
  }
}

/** Lets pending promise callbacks run (microtasks and one macrotask turn; no time passes on the fake clock). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

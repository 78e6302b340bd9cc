/**
 * Cognito's request-rate quotas, enforced over a sliding second.
 *
 * A call is accepted when fewer than `limit` calls were accepted in the last
 * 1000 ms, for both its category (in its account and Region: each account and
 * Region has its own budget) and its user pool and operation. Because the window slides, every fixed 1-second bucket of the
 * accepted-calls histogram is within the limit too, which a fixed window would
 * not guarantee (up to twice the limit across a bucket boundary). A refused
 * call is not recorded, so retrying hard does not lock a caller out.
 */
import type { QuotaCategory, QuotaConfig } from './types';

const WINDOW_MS = 1000;

/** Timestamps of accepted calls in the last second, oldest first (a growable ring). */
class SlidingWindow {
  private times = new Float64Array(8);
  private head = 0;
  private size = 0;

  /** Number of calls accepted in (now - 1000 ms, now]. */
  count(now: number): number {
    while (this.size > 0 && this.times[this.head]! <= now - WINDOW_MS) {
      this.head = (this.head + 1) % this.times.length;
      this.size--;
    }
    return this.size;
  }

  record(now: number): void {
    if (this.size === this.times.length) {
      const grown = new Float64Array(this.times.length * 2);
      for (let i = 0; i < this.size; i++) grown[i] = this.times[(this.head + i) % this.times.length]!;
      this.times = grown;
      this.head = 0;
    }
    this.times[(this.head + this.size) % this.times.length] = now;
    this.size++;
  }
}

export interface QuotaCall {
  accountId: string;
  region: string;
  category: QuotaCategory;
  operation: string;
  /** Absent for calls not about one pool (CreateUserPool, ListUserPools). */
  userPoolId?: string;
}

export class QuotaLimiter {
  private windows = new Map<string, SlidingWindow>();

  constructor(
    private readonly config: () => QuotaConfig,
    /** Requests per second other applications take from each category. */
    private readonly backgroundLoad: () => Partial<Record<QuotaCategory, number>>,
  ) {}

  /** Records the call and returns true when both its limits have room; changes nothing otherwise. */
  tryAccept(call: QuotaCall, now: number): boolean {
    const config = this.config();
    if (!config.enabled) return true;

    const categoryLimit = Math.max(0, config.categories[call.category] - (this.backgroundLoad()[call.category] ?? 0));
    const categoryWindow = this.window(`${call.accountId}\u0000${call.region}\u0000${call.category}`);
    if (categoryWindow.count(now) >= categoryLimit) return false;

    let poolWindow: SlidingWindow | undefined;
    if (call.userPoolId !== undefined) {
      const poolLimit = config.pools[call.userPoolId] ?? config.perPoolPerOperation;
      poolWindow = this.window(`${call.userPoolId}\u0000${call.operation}`);
      if (poolWindow.count(now) >= poolLimit) return false;
    }

    categoryWindow.record(now);
    poolWindow?.record(now);
    return true;
  }

  reset(): void {
    this.windows = new Map();
  }

  private window(key: string): SlidingWindow {
    let window = this.windows.get(key);
    if (!window) {
      window = new SlidingWindow();
      this.windows.set(key, window);
    }
    return window;
  }
}

/**
 * Client-side rate limiting for one Cognito quota category inside one worker:
 * an account-wide limit and a per-user-pool limit, mirroring Cognito's own
 * two limits (for DeleteResourceServer: 15 req/s per account and Region, 5 req/s
 * per pool and operation).
 *
 * Both limits must hold at the moment a call really starts. Chaining two
 * bottleneck limiters does not do that: the pool's spacing would count from
 * when a call joins the account's queue, and a backlog there releases one
 * pool's calls back to back. So each pool has a limiter that lets one call at
 * a time through: the call waits for the account's next slot, starts, and the
 * pool's slot stays taken for the pool's spacing after that start.
 *
 * When Cognito throttles us anyway (other applications share the account's
 * quota), `reportThrottled()` cuts the rate by 30%, at most once a second
 * (one burst of throttled calls is one signal, not thirty); after a quiet
 * period it climbs back by a tenth of the configured rate per second. This is
 * additive-increase / multiplicative-decrease, as in TCP: it settles just under
 * whatever share of the quota is left to us, without hammering the account.
 * Neither limiter reserves start times ahead (one call at a time through
 * each), so a new rate applies to the very next call.
 */
import Bottleneck from 'bottleneck';

export interface RateSettings {
  /** Calls per second across the account (this worker's share). */
  rate: number;
  /** Calls per second to one user pool. */
  poolRate: number;
}

/** How much slower than the nominal rate to go, to absorb network jitter (at most a tenth of the spacing). */
const JITTER_GUARD_MS = 5;
const DECREASE = 0.7;
const MIN_FACTOR = 1 / 8;
/** Throttles within this long of the last cut are the same signal. */
const DECREASE_SPACING_MS = 1_000;
const RECOVERY_QUIET_MS = 3_000;
const RECOVERY_STEP = 0.1;

export class CognitoRateLimiter {
  private settings: RateSettings;
  /** Multiplier on the configured rates; below 1 after throttling. */
  private factor = 1;
  private lastThrottledAt = Number.NEGATIVE_INFINITY;
  private lastDecreaseAt = Number.NEGATIVE_INFINITY;
  private readonly account: Bottleneck;
  private readonly pools: Bottleneck.Group;
  private readonly recoveryTimer: NodeJS.Timeout;

  constructor(settings: RateSettings, private readonly now: () => number = Date.now) {
    assertRates(settings);
    this.settings = { ...settings };
    // One (instant) job at a time: bottleneck computes a job's start when it
    // registers it, so without this a backlog would keep the old rate.
    this.account = new Bottleneck({ maxConcurrent: 1, minTime: this.minTime(settings.rate) });
    this.pools = new Bottleneck.Group({ maxConcurrent: 1 });
    this.recoveryTimer = setInterval(() => this.recover(), 1_000);
    this.recoveryTimer.unref();
  }

  /**
   * Runs `call` when both the pool's and the account's limits allow it. When
   * `signal` aborts first, the returned promise rejects at once with the
   * signal's reason and `call` never runs; the dropped job gives its place
   * up without taking a slot's spacing (bottleneck cannot remove a queued
   * job, so it stays queued and does nothing when its turn comes).
   */
  schedule<T>(userPoolId: string, call: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const aborted = () => reject(abortReason(signal!));
      if (signal?.aborted) return aborted();
      signal?.addEventListener('abort', aborted, { once: true });
      const settle = {
        resolve: (value: T) => (signal?.removeEventListener('abort', aborted), resolve(value)),
        reject: (err: unknown) => (signal?.removeEventListener('abort', aborted), reject(err)),
      };
      this.pools
        .key(userPoolId)
        .schedule(async () => {
          if (signal?.aborted) return;
          await this.account.schedule(async () => undefined);
          if (signal?.aborted) return;
          // Started: the call finishes and reports whatever comes next. A delete
          // already on its way must never be reported as not sent.
          signal?.removeEventListener('abort', aborted);
          call().then(resolve, reject);
          // Hold the pool's slot: its spacing counts from the real start.
          await new Promise((r) => setTimeout(r, this.minTime(this.settings.poolRate * this.factor)));
        })
        .catch(settle.reject);
    });
  }

  /** Changes the configured rates; a no-op when they are unchanged. */
  setRates(settings: RateSettings): void {
    assertRates(settings);
    if (settings.rate === this.settings.rate && settings.poolRate === this.settings.poolRate) return;
    this.settings = { ...settings };
    this.apply();
  }

  /** Cognito said TooManyRequests: slow down for a while. */
  reportThrottled(): void {
    const now = this.now();
    this.lastThrottledAt = now;
    if (now - this.lastDecreaseAt < DECREASE_SPACING_MS) return;
    this.lastDecreaseAt = now;
    this.factor = Math.max(MIN_FACTOR, this.factor * DECREASE);
    this.apply();
  }

  /** The account-wide rate in force now (calls per second). */
  currentRate(): number {
    return this.settings.rate * this.factor;
  }

  configured(): RateSettings {
    return { ...this.settings };
  }

  async stop(): Promise<void> {
    clearInterval(this.recoveryTimer);
    await this.account.stop({ dropWaitingJobs: true }).catch(() => undefined);
    for (const key of this.pools.keys()) await this.pools.deleteKey(key);
  }

  /** Called every second: after a quiet period, climb back towards the configured rate. */
  recover(): void {
    if (this.factor >= 1 || this.now() - this.lastThrottledAt < RECOVERY_QUIET_MS) return;
    this.factor = Math.min(1, this.factor + RECOVERY_STEP);
    this.apply();
  }

  private apply(): void {
    // The pools read their spacing at each call; only the account limiter holds a setting.
    this.account.updateSettings({ minTime: this.minTime(this.settings.rate * this.factor) });
  }

  private minTime(perSecond: number): number {
    const spacing = Math.ceil(1000 / perSecond);
    // At Cognito's rates the guard is the whole 5 ms (15/s: 72 ms apart); far above
    // them (quotas off) a fixed 5 ms would cap every rate at 166/s, so it is a tenth.
    return spacing + Math.min(JITTER_GUARD_MS, spacing / 10);
  }
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? Object.assign(new Error('the call was aborted while waiting for the rate limiter'), { name: 'AbortError' });
}

function assertRates({ rate, poolRate }: RateSettings): void {
  for (const [name, value] of [['rate', rate], ['poolRate', poolRate]] as const) {
    if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be a positive number, got ${value}`);
  }
}

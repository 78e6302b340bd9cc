/**
 * Client-side rate limiting for ONE Cognito quota category in ONE account and
 * Region (for DeleteResourceServer: UserPoolResourceUpdate, 15 req/s per
 * account and Region, and 5 req/s per user pool and operation). The worker
 * holds one per key (cognito/access.ts); its rates are the worker's budget for
 * that key, shared by every run the worker serves.
 *
 * The promise: at the moment a call starts, fewer than N calls may have
 * reached Cognito in the last W ms, for each window that applies to it (a call
 * counts from the latest moment it can have arrived: see CallLog):
 * - the key's window (the budget's `rate`, lowered after congestion),
 * - its pool's window (the budget's `poolRate`),
 * - its run's windows, when the run caps its share (`caps.rate`, `caps.poolRate`).
 * These are sliding windows, the way the emulator (and, close enough, Cognito)
 * counts, and starts are spread within them: at most one every window /
 * slots ms on the key (67 ms at 15/s), and every 0.8 of that in a pool (160 ms
 * at 5/s: room to catch up a lost turn), a call starting the moment its turn
 * comes. Even spacing, not bursts: a burst of calls started together is
 * sent one after the other by the event loop, in an order that changes from
 * one window to the next, so a call can reach Cognito a few ms less than a
 * second after the one whose slot it took, and be throttled (measured on 2
 * cores: bursts throttled 5-19% of calls, even spacing none; docs/performance.md).
 * Each window is `guardMs` longer than a second, for what a call's trip to
 * Cognito may vary by: paid once per window (1%), not once per call.
 *
 * Who starts next, when several calls may: the run that started the fewest
 * calls in the key's window (runs share the budget fairly, each within its own
 * caps; a run that cannot use its share leaves it to the others), then, within
 * that run, the pool with the most calls waiting (the pool that will take
 * longest), then the call that waited longest. One exception: the pool whose
 * waiting calls take longer at its own rate than all waiting calls take at the
 * key's (a big pool among small ones: it decides how long the work takes) is
 * not made to wait for the key's even spacing by another pool's start just
 * before its turn; the key, which has time to spare, idles those few ms.
 * Otherwise nothing is reserved ahead: a new rate, a new cap or a new call is
 * taken into account at the next start.
 *
 * Congestion (another application uses part of the quota) versus noise (a few
 * TooManyRequests at random): the limiter watches the share of its own calls
 * throttled over the last few seconds. Above `throttleShare` (20%) it is
 * congestion, and the key's rate is cut, at most once per `cutSpacingMs`, to
 * what Cognito was seen to leave us: for each throttled call, how many of our
 * calls it had accepted in the second before (the most of these over the last
 * few seconds: a random throttle may come when fewer were in the window). With
 * nothing seen, the cut is by `decrease` (to 80%). Below 20%, a throttled call
 * is retried and the rate stays. A refused call is not counted by Cognito, so
 * it takes no place in the windows once it is back. While cut, the key's calls
 * are spaced at the pool spacing (0.8), so a turn lost to a late timer is caught
 * up within the window. After `quietMs` without a cut (`measuredQuietMs`, 10 s,
 * after a cut to what was seen left) the rate climbs back by one call per
 * second each second. Random throttling of 5% never reaches 20%; starting at
 * 15/s where 7 are left throttles half the calls and is cut to 7 at once.
 *
 * The clock and its timers are injectable: tests run it on a fake clock.
 */
import { classifyCognitoError } from './errors';

export interface RateSettings {
  /** Calls per second across the key (one account and Region). */
  rate: number;
  /** Calls per second to one user pool. */
  poolRate: number;
}

export interface LimiterClock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const SYSTEM_CLOCK: LimiterClock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface ScheduleOptions {
  /** Whose call it is (a run's workflow ID); the budget is shared fairly between shares. Default: one share. */
  share?: string;
  /** Caps on this share's own rates (a run's --rate and --pool-rate); the latest call's caps hold for the share. */
  caps?: Partial<RateSettings>;
  /** While the call waits, an abort drops it: it never runs and the promise rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** One start, as the limiter recorded it (tests check the windows against these). */
export interface LimiterStart {
  at: number;
  userPoolId: string;
  share: string;
}

export interface CongestionSettings {
  /** Outcomes older than this do not count. */
  observeMs: number;
  /** Fewer outcomes than this in the window say nothing. */
  minSamples: number;
  /** Above this share of throttled calls, it is congestion. */
  throttleShare: number;
  /** The rate after a cut, as a share of the rate before. */
  decrease: number;
  /** At most one cut this often: one burst of throttles is one signal. */
  cutSpacingMs: number;
  /** Climb back only after this long without a cut... */
  quietMs: number;
  /** ...or this long after a cut to what Cognito was seen to leave us (a measure, not a guess: probed less often). */
  measuredQuietMs: number;
  /** ...by this many calls per second, each second. */
  recoveryStep: number;
  /** Never below this share of the budget. */
  minFactor: number;
}

export const DEFAULT_CONGESTION: CongestionSettings = {
  observeMs: 5_000,
  minSamples: 10,
  throttleShare: 0.2,
  decrease: 0.8,
  cutSpacingMs: 1_000,
  quietMs: 3_000,
  measuredQuietMs: 10_000,
  recoveryStep: 1,
  minFactor: 1 / 8,
};

export interface LimiterOptions {
  clock?: LimiterClock;
  /** How much longer than a second each window is; default 5 ms. */
  guardMs?: number;
  /** Least time between two starts, as a share of each window's even spacing (window / slots). */
  spacing?: SpacingSettings;
  congestion?: Partial<CongestionSettings>;
  /** Told about every start. */
  onStart?: (start: LimiterStart) => void;
}

export interface SpacingSettings {
  /** The key's window: 1 (evenly, 67 ms apart at 15/s) by default; 0 lets starts come in bursts. */
  key?: number;
  /** Each pool's window: 0.8 (at least 160 ms apart at 5/s, the window holding it to 5) by default. */
  pool?: number;
}

export const DEFAULT_GUARD_MS = 5;
const DEFAULT_SPACING: Required<SpacingSettings> = { key: 1, pool: 0.8 };
const DEFAULT_SHARE = '';
/** Starts older than this never matter (the longest window: one call per 100 s, the lowest rate allowed). */
const HORIZON_MS = 100_000 + 1_000;
/**
 * A call that started this long before a window is not looked at again: its
 * arrival is known or long past (Cognito calls time out after 10 s).
 */
const LATE_ARRIVAL_LIMIT_MS = 15_000;
/** How late a timer may have fired and still have its start count from when it was due (for the spacing only). */
const MAX_CATCH_UP_MS = 30;
/**
 * Which of the recent round trips counts as typical: a fast one (the 10th
 * percentile), not the median. A call whose slot frees when an earlier one's
 * window ends is throttled if its trip out and the earlier one's trip back
 * together are faster than "typical" by more than the guard; against the
 * median that happened to about 1% of a big pool's calls (each a lost turn),
 * against the 10th percentile it costs about 2 ms a window.
 */
const TYPICAL_TRIP_QUANTILE = 0.1;
/** Round trips remembered for the typical one. */
const ROUND_TRIPS_KEPT = 50;

/** A sliding window: at most `slots` starts in any `ms`. */
interface Window {
  slots: number;
  ms: number;
}

/**
 * The window of a rate: whole calls per second (7.5/s is 7 in any second, so
 * that no second ever holds more than the rate), or one call per 1/rate
 * seconds below 1/s.
 */
export function windowOf(rate: number, guardMs: number): Window {
  if (rate >= 1) return { slots: Math.floor(rate + 1e-9), ms: 1000 + guardMs };
  return { slots: 1, ms: Math.ceil(1000 / rate) + guardMs };
}

/** A call as the windows count it: when it started and, once it has, when it finished. */
interface Call {
  start: number;
  /**
   * When its turn came: the start, or a little earlier when the timer that
   * started it fired late. The even spacing counts from here, so a busy event
   * loop does not slow every following start by its delay; the windows count
   * from the real start.
   */
  due: number;
  end?: number;
  /**
   * Started before any call of this limiter had come back: the first calls
   * open connections and load what the SDK needs, so their round trips say
   * nothing about how long a trip takes. They count until they end.
   */
  cold: boolean;
  /**
   * Came back throttled: Cognito did not count it (a refused call takes no
   * place in its window), so it takes none in ours either once it is back.
   */
  refused?: boolean;
  /** The logs it is counted in (told when it comes back). */
  logs?: CallLog[];
}

/**
 * Calls under one window, oldest start first. A call counts in the window from
 * the latest moment it can have reached Cognito, relative to the others: its
 * start, or, once it has finished, its end less a typical round trip (a
 * fast one of the recent ones: TYPICAL_TRIP_QUANTILE). Every call spends about
 * a typical trip's outbound part on its way, so that part shifts all arrivals alike and costs nothing;
 * a call that took longer than typical may have been held up on its way by
 * the difference, and the call whose slot it frees waits as much longer. A
 * call still on its way counts for as long as it is.
 */
class CallLog {
  private calls: Call[] = [];
  private head = 0;
  /** Calls on their way, and calls that came back in the order they did (ends only grow). */
  private readonly open = new Set<Call>();
  private ended: Call[] = [];
  private endedHead = 0;

  record(call: Call): void {
    this.calls.push(call);
    this.open.add(call);
    (call.logs ??= []).push(this);
  }

  /**
   * When a call may next start under `window` (now, or later), at least
   * `spacing` ms after the last start. `typicalRoundTrip` is undefined until
   * a call has come back.
   */
  nextFree(window: Window, now: number, spacing: number, typicalRoundTrip: number | undefined): number {
    return Math.max(this.windowFree(window, now, typicalRoundTrip), this.afterLast(spacing, now));
  }

  /** When `window` next has room (now, or later): the part of nextFree that looks at the calls, for several spacings at once. */
  windowFree(window: Window, now: number, typicalRoundTrip: number | undefined): number {
    this.prune(now);
    // Calls that may still be in the window: counted from their latest possible arrival.
    const since = now - window.ms;
    // Counted first, without a list: this runs for every waiting pool at every start (hundreds of pools at
    // high rates), and a window with room, the usual case, needs no more than the count.
    if (this.arrivalsSince(since, typicalRoundTrip, undefined) < window.slots) return now;
    const arrivals: number[] = [];
    this.arrivalsSince(since, typicalRoundTrip, arrivals);
    // The window has room once the slots-th latest arrival leaves it.
    arrivals.sort((a, b) => b - a);
    return Math.max(now, arrivals[window.slots - 1]! + window.ms);
  }

  /** `spacing` ms after the last start's turn (now when there is none in the log). */
  afterLast(spacing: number, now: number): number {
    return this.head < this.calls.length ? this.calls[this.calls.length - 1]!.due + spacing : now;
  }

  /**
   * Calls not refused that may have arrived after `since`; their arrivals go into `into` when given.
   * A call arrives no earlier than it starts and no later than it ends, so three groups hold them all:
   * calls started after `since`, calls still on their way, and calls that ended after `since`. The
   * older calls need no look (at hundreds of calls a second, 15 s of them at every start was most of
   * the worker's time).
   */
  private arrivalsSince(since: number, typicalRoundTrip: number | undefined, into: number[] | undefined): number {
    let n = 0;
    const count = (call: Call) => {
      if (call.refused) return;
      const arrival = arrivalOf(call, typicalRoundTrip);
      if (arrival > since) {
        n++;
        into?.push(arrival);
      }
    };
    for (let i = this.calls.length - 1; i >= this.head && this.calls[i]!.start > since; i--) count(this.calls[i]!);
    const oldest = since - LATE_ARRIVAL_LIMIT_MS;
    for (const call of this.open) if (call.start <= since && call.start > oldest) count(call);
    for (let i = this.ended.length - 1; i >= this.endedHead && this.ended[i]!.end! > since; i--) {
      const call = this.ended[i]!;
      if (call.start <= since && call.start > oldest) count(call);
    }
    return n;
  }

  /** The call came back (its `end` is set): it leaves the calls on their way. */
  finish(call: Call): void {
    if (this.open.delete(call)) this.ended.push(call);
  }

  /** Calls that came back accepted and reached Cognito (as counted above) in (from, to]: only calls that ended after `from` can have. */
  acceptedArrivals(from: number, to: number, typicalRoundTrip: number | undefined): number {
    let n = 0;
    for (let i = this.ended.length - 1; i >= this.endedHead && this.ended[i]!.end! > from; i--) {
      const call = this.ended[i]!;
      if (call.refused || call.start <= from - LATE_ARRIVAL_LIMIT_MS) continue;
      const arrival = arrivalOf(call, typicalRoundTrip);
      if (arrival > from && arrival <= to) n++;
    }
    return n;
  }

  /** Starts in the last `ms`. */
  countSince(since: number): number {
    let lo = this.head;
    let hi = this.calls.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.calls[mid]!.start > since) hi = mid;
      else lo = mid + 1;
    }
    return this.calls.length - lo;
  }

  isEmpty(now: number): boolean {
    this.prune(now);
    return this.head === this.calls.length;
  }

  private prune(now: number): void {
    while (this.head < this.calls.length && this.calls[this.head]!.start <= now - HORIZON_MS) this.head++;
    if (this.head > 1024 && this.head * 2 > this.calls.length) {
      this.calls = this.calls.slice(this.head);
      this.head = 0;
    }
    while (this.endedHead < this.ended.length && this.ended[this.endedHead]!.end! <= now - HORIZON_MS) this.endedHead++;
    if (this.endedHead > 1024 && this.endedHead * 2 > this.ended.length) {
      this.ended = this.ended.slice(this.endedHead);
      this.endedHead = 0;
    }
  }
}

/** The latest moment a finished call can have reached Cognito, relative to the others (see CallLog); infinite while on its way. */
function arrivalOf(call: Call, typicalRoundTrip: number | undefined): number {
  if (call.end === undefined) return Number.POSITIVE_INFINITY;
  if (call.cold) return call.end;
  return Math.max(call.start, call.end - (typicalRoundTrip ?? call.end - call.start));
}

interface Waiting {
  share: string;
  userPoolId: string;
  queuedAt: number;
  start: (call: Call) => void;
  drop: () => void;
}

interface ShareState {
  caps: Partial<RateSettings>;
  log: CallLog;
  poolLogs: Map<string, CallLog>;
  /** userPoolId -> this share's waiting calls, first come first. */
  queues: Map<string, Waiting[]>;
  waiting: number;
}

/** Additive increase, multiplicative decrease on the key's rate, ignoring throttles that are noise. */
class CongestionControl {
  /** Multiplier on the budget's rate. */
  factor = 1;
  private outcomes: { at: number; throttled: boolean }[] = [];
  /** For each recent throttled call: how many of our calls Cognito had accepted in the second before it. */
  private seenLeft: { at: number; calls: number }[] = [];
  private lastCutAt = Number.NEGATIVE_INFINITY;
  /** The last cut went to what Cognito was seen to leave us. */
  private measured = false;
  private lastRecoveryAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly settings: CongestionSettings) {}

  /**
   * Records an outcome; true when the factor changed. `acceptedBefore`, for a
   * throttled call: how many of our calls Cognito had accepted in the second
   * before it arrived. When the quota is shared, that is what is left to us.
   */
  record(throttled: boolean, now: number, budget: number, acceptedBefore?: number): boolean {
    this.outcomes.push({ at: now, throttled });
    while (this.outcomes.length > 0 && this.outcomes[0]!.at <= now - this.settings.observeMs) this.outcomes.shift();
    if (throttled && acceptedBefore !== undefined) this.seenLeft.push({ at: now, calls: acceptedBefore });
    while (this.seenLeft.length > 0 && this.seenLeft[0]!.at <= now - this.settings.observeMs) this.seenLeft.shift();
    if (now - this.lastCutAt < this.settings.cutSpacingMs) return false;
    const throttledShare = this.throttledShare();
    if (throttledShare === undefined || throttledShare <= this.settings.throttleShare) return false;
    // Congestion: straight to what is left, the most calls Cognito took from us in a second before throttling one
    // (a random throttle may come when fewer were in the window: the most, not the last). Cutting by steps of 80%
    // took 4 cuts from 15/s to 7/s and went below it, losing seconds each time.
    const left = this.seenLeft.length > 0 ? Math.max(...this.seenLeft.map((s) => s.calls)) : 0;
    const current = Math.min(this.factor, 1);
    // Throttled although no more of our calls were in Cognito's second than our rate is now: our rate is not
    // what crowds it (several workers' calls dispatched together, say), and cutting it again would only spiral
    // down (three workers each cut to 2/s of their 5). Nothing seen accepted at all: by steps, as before.
    if (left >= 1 && left >= budget * current) return false;
    this.lastCutAt = now;
    // The outcomes before the cut describe the old rate, not the new one.
    this.outcomes = [];
    this.measured = left >= 1;
    this.factor = Math.max(this.settings.minFactor, this.measured ? left / budget : current * this.settings.decrease);
    // A budget of a few calls per second cannot be cut below one call per second by rounding alone.
    if (budget * this.factor < 1 && budget >= 1) this.factor = Math.max(this.settings.minFactor, 1 / budget);
    return true;
  }

  /** Called as time passes; true when the factor changed. */
  recover(now: number, budget: number): boolean {
    if (this.factor >= 1 || now - this.lastCutAt < this.quietMs() || now - this.lastRecoveryAt < 1_000) return false;
    this.lastRecoveryAt = now;
    this.factor = Math.min(1, this.factor + this.settings.recoveryStep / budget);
    return true;
  }

  /** When recover() may next change something, or undefined. */
  nextRecoveryAt(): number | undefined {
    if (this.factor >= 1) return undefined;
    return Math.max(this.lastCutAt + this.quietMs(), this.lastRecoveryAt + 1_000);
  }

  private quietMs(): number {
    return this.measured ? this.settings.measuredQuietMs : this.settings.quietMs;
  }

  throttledShare(): number | undefined {
    if (this.outcomes.length < this.settings.minSamples) return undefined;
    return this.outcomes.filter((o) => o.throttled).length / this.outcomes.length;
  }
}

export class CognitoRateLimiter {
  private budget: RateSettings;
  private readonly clock: LimiterClock;
  private readonly guardMs: number;
  private readonly spacing: Required<SpacingSettings>;
  private readonly congestion: CongestionControl;
  /** Recent round trips of calls that got an answer: a fast one of them is a typical trip to Cognito and back. */
  private readonly roundTrips: number[] = [];
  private typicalTrip: number | undefined;
  private readonly keyLog = new CallLog();
  private readonly poolLogs = new Map<string, CallLog>();
  private readonly shares = new Map<string, ShareState>();
  private timer: unknown;
  private timerAt = Number.POSITIVE_INFINITY;
  private stopped = false;

  constructor(
    budget: RateSettings,
    private readonly options: LimiterOptions = {},
  ) {
    assertRates(budget);
    this.budget = { ...budget };
    this.clock = options.clock ?? SYSTEM_CLOCK;
    this.guardMs = options.guardMs ?? DEFAULT_GUARD_MS;
    this.spacing = { ...DEFAULT_SPACING, ...options.spacing };
    this.congestion = new CongestionControl({ ...DEFAULT_CONGESTION, ...options.congestion });
  }

  /**
   * Runs `call` once every window that applies allows it (see the top of this
   * file). A call that has started is never aborted: it finishes and reports.
   * Its outcome feeds the congestion control.
   */
  schedule<T>(userPoolId: string, call: () => Promise<T>, options: ScheduleOptions = {}): Promise<T> {
    const { signal } = options;
    return new Promise<T>((resolve, reject) => {
      if (this.stopped) return reject(new Error('the rate limiter has stopped'));
      if (signal?.aborted) return reject(abortReason(signal));
      const shareId = options.share ?? DEFAULT_SHARE;
      const share = this.share(shareId);
      if (options.caps) {
        assertCaps(options.caps);
        share.caps = { ...options.caps };
      }
      const queue = share.queues.get(userPoolId) ?? [];
      share.queues.set(userPoolId, queue);
      const onAbort = () => {
        const index = queue.indexOf(waiting);
        if (index === -1) return;
        queue.splice(index, 1);
        share.waiting -= 1;
        if (queue.length === 0) share.queues.delete(userPoolId);
        reject(abortReason(signal!));
        this.pump();
      };
      const waiting: Waiting = {
        share: shareId,
        userPoolId,
        queuedAt: this.clock.now(),
        start: (started: Call) => {
          signal?.removeEventListener('abort', onAbort);
          let running: Promise<T>;
          try {
            running = Promise.resolve(call());
          } catch (err) {
            running = Promise.reject(err);
          }
          running.then(
            (value) => {
              this.finished(started, true, false);
              resolve(value);
            },
            (err: unknown) => {
              const error = classifyCognitoError(err);
              // Only an answer from Cognito tells how long the trip takes (not a call that failed before sending).
              this.finished(started, error.httpStatus !== undefined, error.throttled);
              reject(err);
            },
          );
        },
        drop: () => {
          signal?.removeEventListener('abort', onAbort);
          reject(new Error('the rate limiter has stopped'));
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      queue.push(waiting);
      share.waiting += 1;
      this.pump();
    });
  }

  /** Changes the budget (the worker's configuration); applies from the next start. */
  setBudget(budget: RateSettings): void {
    assertRates(budget);
    this.budget = { ...budget };
    this.pump();
  }

  /** The key's rate in force now (calls per second): the budget, lower after congestion. */
  currentRate(): number {
    return this.budget.rate * this.congestion.factor;
  }

  /** Calls waiting to start. */
  waiting(): number {
    let n = 0;
    for (const share of this.shares.values()) n += share.waiting;
    return n;
  }

  /** Drops every waiting call (they reject); started calls finish. */
  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    for (const share of this.shares.values()) {
      for (const queue of share.queues.values()) for (const waiting of queue.splice(0)) waiting.drop();
      share.queues.clear();
      share.waiting = 0;
    }
  }

  /** Starts every call that may start now, then sleeps until the next one may. */
  private pump(): void {
    if (this.stopped) return;
    const now = this.clock.now();
    // Recovery is checked as time passes; the timer below brings the pump back for it.
    this.congestion.recover(now, this.budget.rate);
    for (;;) {
      const next = this.pick(now);
      if (next.start) {
        this.begin(next.start, now, next.due ?? now);
        continue;
      }
      const recoveryAt = this.waiting() > 0 ? this.congestion.nextRecoveryAt() : undefined;
      this.sleepUntil(Math.min(next.wakeAt ?? Number.POSITIVE_INFINITY, recoveryAt ?? Number.POSITIVE_INFINITY), now);
      return;
    }
  }

  /**
   * The call to start now, or when to look again. A pool's calls are spaced a
   * little closer than its window's even spacing (`spacing.pool`, 0.8): a pool
   * that lost a turn to another pool's call at the key's slot (or to a timer
   * that fired late) catches up within its window, which alone holds it to its
   * rate. At the full spacing, every lost turn was lost for good: the biggest
   * pool, the one that decides how long a run takes, got 4.6 deletes/s of its 5.
   */
  private pick(now: number): { start?: Waiting; due?: number; wakeAt?: number } {
    const typical = this.typicalRoundTrip();
    const keyWindow = windowOf(this.currentRate(), this.guardMs);
    // Below the budget (congestion), the key is held by its window like a pool: spaced a little closer, so that a
    // turn lost to a late timer is caught up within the window (on a fake clock with timers 0-7 ms late: 6.8 of the
    // 7 calls/s left at the full spacing, 6.9 at 0.8).
    const keySpacing = spacingOf(keyWindow, this.congestion.factor < 1 ? Math.min(this.spacing.key, this.spacing.pool) : this.spacing.key);
    // The key's window is looked at once, for both spacings (its calls are the most of any log).
    const keyWindowFree = this.keyLog.windowFree(keyWindow, now, typical);
    const keyFree = Math.max(keyWindowFree, this.keyLog.afterLast(keySpacing, now));
    const keyFreeUnspaced = Math.max(keyWindowFree, this.keyLog.afterLast(0, now));
    const poolWindow = windowOf(this.budget.poolRate, this.guardMs);
    const poolSpacing = spacingOf(poolWindow, this.spacing.pool);
    const poolTurn = spacingOf(poolWindow, 1);
    let best: { waiting: Waiting; readyAt: number; used: number; backlog: number } | undefined;
    let wakeAt = Number.POSITIVE_INFINITY;
    const candidates: { queue: Waiting[]; head: Waiting; used: number; readyAt: number; turnAt: number }[] = [];
    let critical: (typeof candidates)[number] | undefined;
    for (const share of this.shares.values()) {
      if (share.waiting === 0) continue;
      const shareFree = share.caps.rate !== undefined ? share.log.nextFree(windowOf(share.caps.rate, this.guardMs), now, 0, typical) : now;
      const used = share.log.countSince(now - keyWindow.ms);
      for (const [userPoolId, queue] of share.queues) {
        const head = queue[0];
        if (!head) continue;
        const poolLog = this.poolLogs.get(userPoolId);
        const poolWindowFree = poolLog?.windowFree(poolWindow, now, typical) ?? now;
        const poolFree = Math.max(poolWindowFree, poolLog?.afterLast(poolSpacing, now) ?? now);
        const sharePoolFree =
          share.caps.poolRate !== undefined
            ? share.poolLogs.get(userPoolId)?.nextFree(windowOf(share.caps.poolRate, this.guardMs), now, 0, typical) ?? now
            : now;
        const readyAt = Math.max(keyFree, shareFree, poolFree, sharePoolFree);
        // Its next turn on schedule (a window's even spacing after its last start, not the closer catch-up spacing).
        const turnAt = Math.max(
          keyFreeUnspaced,
          shareFree,
          Math.max(poolWindowFree, poolLog?.afterLast(poolTurn, now) ?? now),
          sharePoolFree,
        );
        const candidate = { queue, head, used, readyAt, turnAt };
        candidates.push(candidate);
        if (!critical || queue.length > critical.queue.length) critical = candidate;
      }
    }
    // The pool whose queue takes longer at its own rate than all that waits takes at the key's: its turns
    // decide how long the work takes. No other call starts in the key's spacing before its next turn: a
    // turn it loses to the key's even spacing is lost for good (up to 67 ms a turn at 15/s: the big pool
    // got 4.8 of its 5/s), whereas the key, which has time to spare, only idles those few ms.
    const holdFor =
      critical &&
      critical.queue.length > poolWindow.slots &&
      critical.queue.length / this.budget.poolRate > this.waiting() / this.currentRate() &&
      critical.turnAt > now
        ? critical
        : undefined;
    for (const candidate of candidates) {
      const { queue, head, used, readyAt } = candidate;
      if (readyAt > now) {
        wakeAt = Math.min(wakeAt, readyAt);
        continue;
      }
      if (holdFor && candidate !== holdFor && now + keySpacing > holdFor.turnAt) {
        wakeAt = Math.min(wakeAt, holdFor.turnAt);
        continue;
      }
      if (
        !best ||
        used < best.used ||
        (used === best.used && (queue.length > best.backlog || (queue.length === best.backlog && head.queuedAt < best.waiting.queuedAt)))
      ) {
        best = { waiting: head, readyAt, used, backlog: queue.length };
      }
    }
    if (best && best.readyAt <= now) return { start: best.waiting, due: best.readyAt };
    if (best) wakeAt = Math.min(wakeAt, best.readyAt);
    return Number.isFinite(wakeAt) ? { wakeAt } : {};
  }

  private typicalRoundTrip(): number | undefined {
    if (this.roundTrips.length === 0) return undefined;
    // Sorted once per new round trip, not at every pick (which runs for every start).
    if (this.typicalTrip === undefined) {
      const sorted = [...this.roundTrips].sort((a, b) => a - b);
      this.typicalTrip = sorted[Math.floor((sorted.length - 1) * TYPICAL_TRIP_QUANTILE)];
    }
    return this.typicalTrip;
  }

  /** A call came back: when it did (its window counts from then, less a typical trip), and whether it was throttled. */
  private finished(call: Call, answered: boolean, throttled: boolean): void {
    const now = this.clock.now();
    call.end = now;
    for (const log of call.logs ?? []) log.finish(call);
    if (answered) {
      this.roundTrips.push(now - call.start);
      if (this.roundTrips.length > ROUND_TRIPS_KEPT) this.roundTrips.shift();
      this.typicalTrip = undefined;
    }
    let acceptedBefore: number | undefined;
    if (throttled) {
      call.refused = true;
      const typical = this.typicalRoundTrip();
      const arrival = arrivalOf(call, typical);
      // Cognito's second before this call reached it: how many of ours it had taken when it refused this one.
      acceptedBefore = this.keyLog.acceptedArrivals(arrival - 1000, arrival, typical);
    }
    this.congestion.record(throttled, now, this.budget.rate, acceptedBefore);
    // A call that came back may free a slot (a call on its way holds one).
    this.pump();
  }

  private begin(waiting: Waiting, now: number, readyAt: number): void {
    const share = this.shares.get(waiting.share)!;
    const queue = share.queues.get(waiting.userPoolId)!;
    queue.shift();
    share.waiting -= 1;
    if (queue.length === 0) share.queues.delete(waiting.userPoolId);
    // Its turn came when it was ready and queued; at most MAX_CATCH_UP_MS ago (no burst after a long stall).
    const call: Call = { start: now, due: Math.max(readyAt, waiting.queuedAt, now - MAX_CATCH_UP_MS), cold: this.roundTrips.length === 0 };
    this.keyLog.record(call);
    logOf(this.poolLogs, waiting.userPoolId).record(call);
    share.log.record(call);
    if (share.caps.poolRate !== undefined) logOf(share.poolLogs, waiting.userPoolId).record(call);
    this.options.onStart?.({ at: now, userPoolId: waiting.userPoolId, share: waiting.share });
    waiting.start(call);
    this.forgetIdle(now);
  }

  private sleepUntil(at: number, now: number): void {
    if (!Number.isFinite(at)) {
      if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
      this.timer = undefined;
      this.timerAt = Number.POSITIVE_INFINITY;
      return;
    }
    if (this.timer !== undefined && this.timerAt === at) return;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Number.POSITIVE_INFINITY;
      this.pump();
    }, Math.max(0, at - now));
  }

  private share(id: string): ShareState {
    let share = this.shares.get(id);
    if (!share) {
      share = { caps: {}, log: new CallLog(), poolLogs: new Map(), queues: new Map(), waiting: 0 };
      this.shares.set(id, share);
    }
    return share;
  }

  /** Shares and pools with nothing waiting and no start within the horizon are forgotten (a worker serves many runs). */
  private lastSweep = Number.NEGATIVE_INFINITY;
  private forgetIdle(now: number): void {
    if (now - this.lastSweep < HORIZON_MS) return;
    this.lastSweep = now;
    for (const [id, share] of this.shares) if (share.waiting === 0 && share.log.isEmpty(now)) this.shares.delete(id);
    for (const [pool, log] of this.poolLogs) if (log.isEmpty(now)) this.poolLogs.delete(pool);
  }
}

/** Least time between two starts under a window: a share of its even spacing (window / slots), in whole ms. */
function spacingOf(window: Window, share: number): number {
  return Math.floor((window.ms / window.slots) * share);
}

function logOf(logs: Map<string, CallLog>, key: string): CallLog {
  let log = logs.get(key);
  if (!log) {
    log = new CallLog();
    logs.set(key, log);
  }
  return log;
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? Object.assign(new Error('the call was aborted while waiting for the rate limiter'), { name: 'AbortError' });
}

function assertRates({ rate, poolRate }: RateSettings): void {
  assertCaps({ rate, poolRate });
}

function assertCaps(caps: Partial<RateSettings>): void {
  for (const [name, value] of Object.entries(caps)) {
    if (value === undefined) continue;
    if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be a positive number, got ${value}`);
  }
}

/**
 * The rate limiter's promise, on a fake clock: every window holds at the
 * moment each call starts, no slot is wasted, a new rate applies to the next
 * call, runs share the budget fairly within their caps, and random throttling
 * is told from congestion. Start times are the limiter's own records.
 */
import { describe, expect, it } from 'vitest';
import { CognitoRateLimiter, windowOf, type LimiterStart, type RateSettings } from '../../cognito/rate-limiter';
import { retryDelayMs } from '../../cognito/retry';
import { FakeClock, settle } from '../helpers/fake-clock';

const GUARD = 10;
const SECOND = 1000 + GUARD;

function setup(budget: RateSettings, congestion = {}) {
  const clock = new FakeClock();
  const starts: LimiterStart[] = [];
  const limiter = new CognitoRateLimiter(budget, { clock, guardMs: GUARD, congestion, onStart: (s) => starts.push(s) });
  return { clock, starts, limiter };
}

/** Most starts in any window of `ms` ending at a start (the moment the limiter decided). */
function busiestWindow(starts: LimiterStart[], ms: number, select: (s: LimiterStart) => boolean = () => true): number {
  const times = starts.filter(select).map((s) => s.at);
  let max = 0;
  for (const at of times) max = Math.max(max, times.filter((t) => t > at - ms && t <= at).length);
  return max;
}

const instant = async () => 'ok';
const throttled = async () => {
  throw Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException', $metadata: { httpStatusCode: 400 } });
};

describe('CognitoRateLimiter on a fake clock', () => {
  it('holds the key and pool windows at the moment each call starts, and wastes no slot', async () => {
    const { clock, starts, limiter } = setup({ rate: 15, poolRate: 5 });
    const calls: Promise<unknown>[] = [];
    // One big pool and ten small ones, queued at once.
    for (let i = 0; i < 40; i++) calls.push(limiter.schedule('big', instant));
    for (let p = 0; p < 10; p++) for (let i = 0; i < 6; i++) calls.push(limiter.schedule(`small-${p}`, instant));
    await clock.runAll();
    await Promise.all(calls);

    expect(starts).toHaveLength(100);
    expect(busiestWindow(starts, SECOND)).toBeLessThanOrEqual(15);
    for (const pool of ['big', ...Array.from({ length: 10 }, (_, p) => `small-${p}`)]) {
      expect(busiestWindow(starts, SECOND, (s) => s.userPoolId === pool)).toBeLessThanOrEqual(5);
    }
    // The pool with the most waiting is served first and at its full rate: 5 starts in every window, the first at once.
    const big = starts.filter((s) => s.userPoolId === 'big').map((s) => s.at);
    expect(big[0]).toBe(0);
    expect(Array.from({ length: 8 }, (_, w) => big.filter((at) => at >= w * SECOND && at < (w + 1) * SECOND).length)).toEqual([5, 5, 5, 5, 5, 5, 5, 5]);
    // The key too: 15 in every window while 15 can start, one every 67 ms (1010 / 15, in whole ms).
    const perWindow = Array.from({ length: 6 }, (_, w) => starts.filter((s) => s.at >= w * SECOND && s.at < (w + 1) * SECOND).length);
    expect(perWindow).toEqual([15, 15, 15, 15, 15, 15]);
    const times = starts.map((s) => s.at);
    expect(times.slice(1, 15).every((at, i) => at - times[i]! >= 67)).toBe(true);
  });

  it("gives the pool that decides how long the work takes every turn its window allows, even when timers fire late", async () => {
    // One pool of 300 calls (60 s at 5/s) among others the key can serve in less: every turn of the big pool
    // lost to another pool's start at the key's even spacing would be lost for good. Timers fire 0-7 ms late,
    // as on a busy event loop, and calls take 100-107 ms.
    const fake = new FakeClock();
    let seed = 1;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648;
    const clock = { now: () => fake.now(), setTimeout: (callback: () => void, ms: number) => fake.setTimeout(callback, ms + Math.floor(random() * 8)), clearTimeout: (handle: unknown) => fake.clearTimeout(handle) };
    const starts: LimiterStart[] = [];
    const limiter = new CognitoRateLimiter({ rate: 15, poolRate: 5 }, { clock, onStart: (s) => starts.push(s) });
    const call = () => new Promise<void>((resolve) => fake.setTimeout(resolve, 100 + Math.floor(random() * 8)));
    const calls: Promise<unknown>[] = [];
    for (let i = 0; i < 300; i++) calls.push(limiter.schedule('big', call));
    for (let i = 0; i < 150; i++) calls.push(limiter.schedule('second', call));
    for (let p = 0; p < 30; p++) for (let i = 0; i < 10; i++) calls.push(limiter.schedule(`small-${p}`, call));
    await fake.runAll();
    await Promise.all(calls);
    expect(starts).toHaveLength(750);
    for (const pool of ['big', 'second']) expect(busiestWindow(starts, 1005, (s) => s.userPoolId === pool)).toBeLessThanOrEqual(5);
    expect(busiestWindow(starts, 1005)).toBeLessThanOrEqual(15);
    // 5 calls in every 1,005 ms window would be 201 ms apart; lost turns made it 209 ms (4.8/s).
    const big = starts.filter((s) => s.userPoolId === 'big').map((s) => s.at);
    expect((big[big.length - 1]! - big[0]!) / (big.length - 1)).toBeLessThan(205);
  });

  it('spreads starts evenly, from the last start: a call that comes late starts at once', async () => {
    const { clock, starts, limiter } = setup({ rate: 2, poolRate: 2 });
    const first = limiter.schedule('p', instant);
    await clock.advance(800);
    const second = limiter.schedule('p', instant);
    const third = limiter.schedule('p', instant);
    await clock.runAll();
    await Promise.all([first, second, third]);
    // The second waited for no one (its even spacing, 505 ms, had passed); the third waits for its spacing after the second.
    expect(starts.map((s) => s.at)).toEqual([0, 800, 1305]);
  });

  it('counts a call slowed on its way from the latest moment it can have reached Cognito: the call whose slot it frees waits as much longer', async () => {
    const { clock, starts, limiter } = setup({ rate: 100, poolRate: 2 });
    const after = (ms: number) => () => new Promise<void>((resolve) => clock.setTimeout(resolve, ms));
    // A first call comes back in 50 ms: a typical round trip (calls started before any came back count until they end).
    const warmUp = limiter.schedule('warm-up', after(50));
    await clock.advance(50);
    await warmUp;
    const calls = [50, 150, 50, 50].map((ms) => limiter.schedule('p', after(ms)));
    await clock.runAll();
    await Promise.all(calls);
    const pool = starts.filter((s) => s.userPoolId === 'p').map((s) => s.at);
    // The pool's spacing is 0.8 of 505 ms (404). The second took 100 ms longer than a typical trip: it may have
    // reached Cognito at 554, not 454, so the fourth (whose window it shares) starts at 554 + 1010, not at
    // 454 + 1010. The third follows the first, which was on time: 50 + 1010.
    expect(pool).toEqual([50, 454, 50 + SECOND, 554 + SECOND]);
  });

  it('counts a call still on its way for as long as it is, however long ago it started', async () => {
    const { clock, starts, limiter } = setup({ rate: 1, poolRate: 1 });
    const after = (ms: number) => () => new Promise<void>((resolve) => clock.setTimeout(resolve, ms));
    // The first call takes 3 s (and, the first to come back, counts from its end). The second, queued 2 s after
    // the first started, when a window has long passed since that start, still waits a window after its end.
    const calls = [limiter.schedule('p', after(3_000))];
    await clock.advance(2_000);
    calls.push(limiter.schedule('p', after(0)));
    await clock.runAll();
    await Promise.all(calls);
    expect(starts.map((s) => s.at)).toEqual([0, 3_000 + SECOND]);
  });

  it('applies a new budget to the next call, and never to calls already started', async () => {
    const { clock, starts, limiter } = setup({ rate: 10, poolRate: 10 });
    const calls = Array.from({ length: 14 }, () => limiter.schedule('p', instant));
    await clock.advance(SECOND - 1);
    expect(starts).toHaveLength(10);
    limiter.setBudget({ rate: 2, poolRate: 10 });
    await clock.runAll();
    await Promise.all(calls);
    // At 2/s: at most 2 starts in any window, counting the 10 before the change, and 505 ms apart.
    const after = starts.slice(10).map((s) => s.at);
    // The first waits for the 9th of the old starts (808 ms) to leave the window, then one every 505 ms.
    expect(after).toEqual([808 + SECOND, 808 + SECOND + 505, 808 + 2 * SECOND, 808 + 2 * SECOND + 505]);
    expect(busiestWindow(starts.slice(8), SECOND)).toBe(2);
    expect(windowOf(2, GUARD)).toEqual({ slots: 2, ms: SECOND });
    expect(windowOf(0.5, GUARD)).toEqual({ slots: 1, ms: 2000 + GUARD });
    expect(windowOf(7.5, GUARD)).toEqual({ slots: 7, ms: SECOND });
  });

  it('shares the budget fairly between runs; together they never exceed it', async () => {
    const { clock, starts, limiter } = setup({ rate: 10, poolRate: 5 });
    const calls: Promise<unknown>[] = [];
    for (let i = 0; i < 60; i++) calls.push(limiter.schedule(`a-${i % 6}`, instant, { share: 'run-a' }));
    for (let i = 0; i < 60; i++) calls.push(limiter.schedule(`b-${i % 6}`, instant, { share: 'run-b' }));
    await clock.runAll();
    await Promise.all(calls);
    expect(busiestWindow(starts, SECOND)).toBeLessThanOrEqual(10);
    // While both wait, each window holds 5 starts of each, alternating.
    for (let w = 0; w < 11; w++) {
      const inWindow = starts.filter((s) => s.at >= w * SECOND && s.at < (w + 1) * SECOND);
      expect(inWindow.filter((s) => s.share === 'run-a')).toHaveLength(5);
      expect(inWindow.filter((s) => s.share === 'run-b')).toHaveLength(5);
    }
  });

  it("caps a run's share with its own rates, and gives what it cannot use to the others", async () => {
    const { clock, starts, limiter } = setup({ rate: 10, poolRate: 5 });
    const calls: Promise<unknown>[] = [];
    for (let i = 0; i < 30; i++) calls.push(limiter.schedule(`a-${i % 3}`, instant, { share: 'capped', caps: { rate: 3, poolRate: 1 } }));
    for (let i = 0; i < 70; i++) calls.push(limiter.schedule(`b-${i % 7}`, instant, { share: 'free' }));
    await clock.advance(5 * SECOND - 1);
    const capped = starts.filter((s) => s.share === 'capped');
    const free = starts.filter((s) => s.share === 'free');
    expect(busiestWindow(starts, SECOND, (s) => s.share === 'capped')).toBe(3);
    for (let p = 0; p < 3; p++) expect(busiestWindow(starts, SECOND, (s) => s.userPoolId === `a-${p}`)).toBe(1);
    // The capped run leaves 7 of the 10 to the other run: the key is full in every window.
    expect(capped).toHaveLength(15);
    expect(free).toHaveLength(35);
    await clock.runAll();
    await Promise.all(calls);
    expect(busiestWindow(starts, SECOND)).toBeLessThanOrEqual(10);
  });

  it("takes a run's new caps from its next call: the calls already waiting follow them", async () => {
    const { clock, starts, limiter } = setup({ rate: 15, poolRate: 5 });
    const calls = Array.from({ length: 20 }, (_, i) => limiter.schedule(`p-${i % 5}`, instant, { share: 'run', caps: { rate: 10 } }));
    await clock.advance(SECOND - 1);
    expect(starts).toHaveLength(10);
    calls.push(limiter.schedule('p-0', instant, { share: 'run', caps: { rate: 2 } }));
    await clock.runAll();
    await Promise.all(calls);
    // From then on, at most 2 starts in any window: the 10 earlier ones included.
    expect(busiestWindow(starts.slice(8), SECOND)).toBe(2);
  });

  it('reads a few random throttles as noise and keeps the rate', async () => {
    const { clock, limiter } = setup({ rate: 10, poolRate: 10 });
    // 1 call in 20 throttled (5%), for 20 seconds at the full rate.
    const calls: Promise<unknown>[] = [];
    for (let i = 0; i < 200; i++) calls.push(limiter.schedule('p', i % 20 === 7 ? throttled : instant).catch(() => undefined));
    await clock.runAll();
    await Promise.all(calls);
    expect(limiter.currentRate()).toBe(10);
  });

  it('cuts the rate when many calls are throttled (congestion), at most once per burst, and climbs back when quiet', async () => {
    const { clock, limiter } = setup({ rate: 10, poolRate: 10 });
    // Half of the calls throttled: someone else uses the quota, and 5 calls a second are left to us.
    const calls: Promise<unknown>[] = [];
    for (let i = 0; i < 40; i++) calls.push(limiter.schedule('p', i % 2 === 0 ? throttled : instant).catch(() => undefined));
    await clock.advance(SECOND - 1);
    // One cut for the first 10 outcomes, half of them throttled: straight to the calls Cognito took from us in a
    // second before throttling one (4 or 5 here), not 80% of the rate.
    const first = limiter.currentRate();
    expect(first).toBeGreaterThanOrEqual(4);
    expect(first).toBeLessThanOrEqual(5);
    await clock.advance(SECOND);
    // Too few outcomes since the cut to judge the new rate.
    expect(limiter.currentRate()).toBe(first);
    await clock.runAll();
    await Promise.all(calls);
    const cut = limiter.currentRate();
    expect(cut).toBeLessThan(first); // still half throttled at the new rate: cut again
    // Quiet: a cut to what Cognito was seen to leave is probed again after 10 s (not 3): then +1 call/s each
    // second, up to the budget and never above.
    await clock.advance(9_000);
    expect(limiter.currentRate()).toBe(cut);
    for (let i = 0; i < 12; i++) {
      limiter.schedule('p', instant).catch(() => undefined);
      await clock.advance(1_000);
    }
    expect(limiter.currentRate()).toBe(10);
  });

  it('settles at what another application leaves, from the first cut on, and uses it', async () => {
    // A Cognito that accepts 7 calls in any second (15 less another application's 8), counted on arrival 50 ms
    // after a call starts, and answers 50 ms later; a refused call is not counted (as Cognito does).
    const { clock, limiter } = setup({ rate: 15, poolRate: 15 });
    const accepted: number[] = [];
    const cognito = () =>
      new Promise<void>((resolve, reject) =>
        clock.setTimeout(() => {
          const now = clock.now();
          const ok = accepted.filter((at) => at > now - 1000).length < 7;
          if (ok) accepted.push(now);
          clock.setTimeout(() => (ok ? resolve() : throttled().catch(reject)), 50);
        }, 50),
      );
    const calls: Promise<unknown>[] = [];
    // Each throttled call is tried again (as the delete activity does) until it goes through.
    const untilAccepted = async (): Promise<void> => {
      for (;;) {
        try {
          return await limiter.schedule('p', cognito);
        } catch {
          // throttled: again
        }
      }
    };
    for (let i = 0; i < 420; i++) calls.push(untilAccepted());
    const rates: number[] = [];
    for (let t = 0; t < 60_000; t += 100) {
      await clock.advance(100);
      rates.push(limiter.currentRate());
    }
    await clock.runAll();
    await Promise.all(calls);
    // The first cut lands on what is left (7 a second), never below it.
    const firstCut = rates.find((rate) => rate < 15)!;
    expect(firstCut).toBeGreaterThanOrEqual(7);
    expect(firstCut).toBeLessThan(8);
    expect(Math.min(...rates)).toBeGreaterThanOrEqual(7);
    // And it is used: at least 6.5 calls accepted a second from the third second on (7 at most).
    const done = accepted[accepted.length - 1]!;
    expect(accepted.length).toBe(420);
    expect((accepted.length - accepted.filter((at) => at < 2_000).length) / ((done - 2_000) / 1000)).toBeGreaterThanOrEqual(6.5);
  });

  it('two workers sharing one account settle at its quota between them and use it', async () => {
    // Two workers' limiters, each with the account's whole budget (10/s): Cognito takes 10 a second from both together.
    const clock = new FakeClock();
    const limiters = [0, 1].map(() => new CognitoRateLimiter({ rate: 10, poolRate: 10 }, { clock, guardMs: GUARD }));
    const accepted: number[] = [];
    const cognito = () =>
      new Promise<void>((resolve, reject) =>
        clock.setTimeout(() => {
          const now = clock.now();
          const ok = accepted.filter((at) => at > now - 1000).length < 10;
          if (ok) accepted.push(now);
          clock.setTimeout(() => (ok ? resolve() : throttled().catch(reject)), 50);
        }, 50),
      );
    const untilAccepted = async (limiter: CognitoRateLimiter): Promise<void> => {
      for (;;) {
        try {
          return await limiter.schedule('p', cognito);
        } catch {
          // throttled: again
        }
      }
    };
    const all = limiters.flatMap((limiter) => Array.from({ length: 200 }, () => untilAccepted(limiter)));
    const rates: number[][] = [[], []];
    for (let t = 0; t < 40_000; t += 100) {
      await clock.advance(100);
      limiters.forEach((limiter, i) => rates[i]!.push(limiter.currentRate()));
    }
    await clock.runAll();
    await Promise.all(all);
    // Each cut straight to its half of what Cognito takes, and probed from there (by steps of 80% they went to
    // 5.7-5.9 and took 9.1 calls a second between them).
    for (const r of rates) expect(Math.min(...r)).toBeGreaterThanOrEqual(5);
    // Together they used the quota: 400 calls, at least 9.5 a second from the third second on.
    expect(accepted).toHaveLength(400);
    expect((400 - accepted.filter((at) => at < 2_000).length) / ((accepted[399]! - 2_000) / 1000)).toBeGreaterThanOrEqual(9.5);
  });

  it('never cuts below an eighth of the budget', async () => {
    const { clock, limiter } = setup({ rate: 16, poolRate: 16 }, { quietMs: Number.POSITIVE_INFINITY });
    for (let round = 0; round < 20; round++) {
      const calls = Array.from({ length: 16 }, () => limiter.schedule('p', throttled).catch(() => undefined));
      await clock.runAll();
      await Promise.all(calls);
    }
    expect(limiter.currentRate()).toBe(2);
  });

  it('refuses nonsense rates and caps', () => {
    const { limiter } = setup({ rate: 15, poolRate: 5 });
    expect(() => limiter.setBudget({ rate: 0, poolRate: 1 })).toThrow(/rate must be a positive number/);
    expect(() => new CognitoRateLimiter({ rate: 1, poolRate: Number.NaN })).toThrow(/poolRate/);
    return expect(limiter.schedule('p', instant, { caps: { rate: -1 } })).rejects.toThrow(/rate must be a positive number/);
  });

  it('drops a waiting call when its signal aborts: it never runs, and the calls behind it still do', async () => {
    const { clock, limiter } = setup({ rate: 1_000, poolRate: 1 });
    const ran: string[] = [];
    const call = (name: string) => async () => void ran.push(name);
    const abort = new AbortController();
    const first = limiter.schedule('pool', call('first'));
    const dropped = limiter.schedule('pool', call('dropped'), { signal: abort.signal });
    const third = limiter.schedule('pool', call('third'));
    await clock.advance(0);
    await first;
    abort.abort(new Error('paused'));
    await expect(dropped).rejects.toThrow('paused');
    await clock.runAll();
    await third;
    expect(ran).toEqual(['first', 'third']);
  });

  it('lets a call that has started finish and report, even when its signal aborts meanwhile', async () => {
    const { clock, limiter } = setup({ rate: 1_000, poolRate: 1_000 });
    const abort = new AbortController();
    let release!: () => void;
    let outcome: unknown;
    const answer = limiter.schedule('pool', () => new Promise<string>((r) => (release = () => r('deleted'))), { signal: abort.signal });
    void answer.then((value) => (outcome = value), (err) => (outcome = err));
    await clock.advance(0);
    abort.abort(new Error('paused'));
    release();
    await settle();
    expect(outcome).toBe('deleted');
  });

  it('refuses at once a call whose signal has already aborted', async () => {
    const { limiter } = setup({ rate: 1_000, poolRate: 1_000 });
    const abort = new AbortController();
    abort.abort();
    let ran = false;
    await expect(limiter.schedule('pool', async () => void (ran = true), { signal: abort.signal })).rejects.toMatchObject({ name: 'AbortError' });
    expect(ran).toBe(false);
  });

  it('drops waiting calls when stopped', async () => {
    const { clock, limiter } = setup({ rate: 1, poolRate: 1 });
    const first = limiter.schedule('pool', instant);
    const waiting = limiter.schedule('pool', instant);
    await clock.advance(0);
    await first;
    limiter.stop();
    await expect(waiting).rejects.toThrow(/stopped/);
  });
});

describe('retryDelayMs', () => {
  it('grows exponentially with equal jitter and a cap', () => {
    expect(retryDelayMs(1, 1_000, 30_000, () => 0)).toBe(500);
    expect(retryDelayMs(1, 1_000, 30_000, () => 1)).toBe(1_000);
    expect(retryDelayMs(3, 1_000, 30_000, () => 0.5)).toBe(3_000);
    expect(retryDelayMs(20, 1_000, 30_000, () => 1)).toBe(30_000);
    expect(retryDelayMs(20, 1_000, 30_000, () => 0)).toBe(15_000);
  });
});

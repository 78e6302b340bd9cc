import { afterEach, describe, expect, it } from 'vitest';
import { CognitoRateLimiter } from '../../cognito/rate-limiter';
import { retryDelayMs } from '../../cognito/retry';

describe('CognitoRateLimiter', () => {
  let limiter: CognitoRateLimiter | undefined;
  afterEach(() => limiter?.stop());

  it('cuts the rate by 30% per throttled second and climbs back only after a quiet period', () => {
    let now = 0;
    limiter = new CognitoRateLimiter({ rate: 10, poolRate: 4 }, () => now);
    limiter.reportThrottled();
    expect(limiter.currentRate()).toBeCloseTo(7);
    now = 500;
    limiter.reportThrottled(); // same burst: no second cut
    expect(limiter.currentRate()).toBeCloseTo(7);
    now = 1_500;
    limiter.reportThrottled();
    expect(limiter.currentRate()).toBeCloseTo(4.9);
    now = 3_000;
    limiter.recover();
    expect(limiter.currentRate()).toBeCloseTo(4.9); // not quiet long enough
    now = 4_500;
    limiter.recover();
    expect(limiter.currentRate()).toBeCloseTo(5.9); // +10% of the configured rate
    for (let i = 0; i < 20; i++) {
      now += 1_000;
      limiter.recover();
    }
    expect(limiter.currentRate()).toBe(10); // never above the configured rate
  });

  it('never slows below an eighth of the configured rate', () => {
    let now = 0;
    limiter = new CognitoRateLimiter({ rate: 16, poolRate: 4 }, () => now);
    for (let i = 0; i < 20; i++) {
      now += 1_000;
      limiter.reportThrottled();
    }
    expect(limiter.currentRate()).toBe(2);
  });

  it('takes new rates at run time and refuses nonsense', () => {
    limiter = new CognitoRateLimiter({ rate: 15, poolRate: 5 });
    limiter.setRates({ rate: 3, poolRate: 1 });
    expect(limiter.configured()).toEqual({ rate: 3, poolRate: 1 });
    expect(() => limiter!.setRates({ rate: 0, poolRate: 1 })).toThrow(/rate must be a positive number/);
    expect(() => new CognitoRateLimiter({ rate: 1, poolRate: Number.NaN })).toThrow(/poolRate/);
  });

  it('runs scheduled calls and returns their results', async () => {
    limiter = new CognitoRateLimiter({ rate: 1_000, poolRate: 1_000 });
    const results = await Promise.all([1, 2, 3].map((n) => limiter!.schedule(`pool-${n % 2}`, async () => n * 2)));
    expect(results).toEqual([2, 4, 6]);
  });

  it('drops a waiting call when its signal aborts: it never runs, and the calls behind it still do', async () => {
    // One call per pool a second: the second and third calls of the pool wait.
    limiter = new CognitoRateLimiter({ rate: 1_000, poolRate: 1 });
    const ran: string[] = [];
    const call = (name: string) => async () => void ran.push(name);
    const abort = new AbortController();
    const first = limiter.schedule('pool', call('first'));
    const dropped = limiter.schedule('pool', call('dropped'), abort.signal);
    const third = limiter.schedule('pool', call('third'));
    await first;
    abort.abort(new Error('paused'));
    await expect(dropped).rejects.toThrow('paused');
    await third;
    expect(ran).toEqual(['first', 'third']);
  });

  it('lets a call that has started finish and report, even when its signal aborts meanwhile', async () => {
    limiter = new CognitoRateLimiter({ rate: 1_000, poolRate: 1_000 });
    const abort = new AbortController();
    let release!: () => void;
    const started = new Promise<void>((resolve) => {
      const answer = limiter!.schedule(
        'pool',
        () => {
          resolve();
          return new Promise<string>((r) => (release = () => r('deleted')));
        },
        abort.signal,
      );
      void answer.then((value) => (outcome = value), (err) => (outcome = err));
    });
    let outcome: unknown;
    await started;
    abort.abort(new Error('paused'));
    release();
    await new Promise((r) => setTimeout(r, 0));
    expect(outcome).toBe('deleted');
  });

  it('refuses at once a call whose signal has already aborted', async () => {
    limiter = new CognitoRateLimiter({ rate: 1_000, poolRate: 1_000 });
    const abort = new AbortController();
    abort.abort();
    let ran = false;
    await expect(limiter.schedule('pool', async () => void (ran = true), abort.signal)).rejects.toMatchObject({ name: 'AbortError' });
    expect(ran).toBe(false);
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

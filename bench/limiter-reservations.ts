/**
 * How quickly the worker's adaptive limiter (activities/rate-limiter.ts) acts
 * on calls that are already waiting in it: a diagnostic for scenario 4 of
 * bench/cleanup-throughput.ts (docs/performance.md).
 *
 *   npx tsx bench/limiter-reservations.ts
 *
 * The limiter is the real CognitoRateLimiter at 15/s per account and 5/s per
 * pool. Its throttle/recovery decisions get a hand-driven clock (so the rate
 * can be cut to the floor or restored instantly); the calls themselves run on
 * the real clock. Each experiment schedules 30 calls (the default window)
 * round-robin over 12 pools, as the delete activities do, and records when
 * each call starts.
 *
 * A. recovery: 30 calls are queued while the rate is at its floor (1/8); one
 *    second later the rate is back at 15/s and 30 more calls are queued.
 * B. decrease: 30 calls are queued at 15/s; 50 ms later Cognito throttles and
 *    the rate is cut to its floor.
 * C. reference: 30 calls queued at 15/s, nothing changes.
 * D. per-pool spacing behind an account backlog: 30 calls to 30 different
 *    pools fill the account limiter's queue (about 2 s at 15/s), then 10 calls
 *    to one pool arrive, as when a run's small pools are used up and only a
 *    big pool's items are left in the window. The pool limit is 5/s, so no
 *    1,000 ms should see more than 5 of that pool's calls start.
 */
import { CognitoRateLimiter } from '../cognito/rate-limiter';

const POOLS = 12;
const CALLS = 30;

function newLimiter() {
  let fakeNow = 0;
  const limiter = new CognitoRateLimiter({ rate: 15, poolRate: 5 }, () => fakeNow);
  return {
    limiter,
    /** Throttled six times, a second apart: 0.7^6 < 1/8, so the rate ends at its floor. */
    cutToFloor() {
      for (let i = 0; i < 6; i++) {
        fakeNow += 1_001;
        limiter.reportThrottled();
      }
    },
    /** A quiet period, then enough recovery steps to get back to the configured rate. */
    recoverFully() {
      fakeNow += 10_000;
      for (let i = 0; i < 10; i++) limiter.recover();
    },
  };
}

/** Schedules `CALLS` calls round-robin over the pools; resolves with their start times (ms after `origin`). */
function schedule(limiter: CognitoRateLimiter, origin: number, tag: string): Promise<number[]> {
  return Promise.all(
    Array.from({ length: CALLS }, (_, i) => limiter.schedule(`us-east-1_${tag}${i % POOLS}`, async () => performance.now() - origin)),
  );
}

function describe(starts: number[], submittedAt: number): string[] {
  const sorted = [...starts].sort((a, b) => a - b);
  const first = sorted[0]!;
  const last = sorted[sorted.length - 1]!;
  return [
    ((first - submittedAt) / 1000).toFixed(2),
    ((last - submittedAt) / 1000).toFixed(2),
    ((sorted.length - 1) / ((last - first) / 1000)).toFixed(2),
  ];
}

async function main(): Promise<void> {
  const rows: string[][] = [];

  {
    const { limiter, cutToFloor, recoverFully } = newLimiter();
    cutToFloor();
    const origin = performance.now();
    const rateAtFirst = limiter.currentRate();
    const queuedSlow = schedule(limiter, origin, 'A');
    await new Promise((r) => setTimeout(r, 1_000));
    recoverFully();
    const rateAtSecond = limiter.currentRate();
    const submittedFast = performance.now() - origin;
    const queuedAfter = schedule(limiter, origin, 'A');
    rows.push(['A', `${CALLS} queued at the floor`, rateAtFirst.toFixed(2), ...describe(await queuedSlow, 0)]);
    rows.push(['A', `${CALLS} queued 1 s later, rate restored`, rateAtSecond.toFixed(2), ...describe(await queuedAfter, submittedFast)]);
    await limiter.stop();
  }

  {
    const { limiter, cutToFloor } = newLimiter();
    const origin = performance.now();
    const queued = schedule(limiter, origin, 'B');
    await new Promise((r) => setTimeout(r, 50));
    cutToFloor();
    rows.push(['B', `${CALLS} queued, then the rate is cut to ${limiter.currentRate().toFixed(2)}/s after 50 ms`, '15.00', ...describe(await queued, 0)]);
    await limiter.stop();
  }

  {
    const { limiter } = newLimiter();
    const origin = performance.now();
    rows.push(['C', `${CALLS} queued, no change`, limiter.currentRate().toFixed(2), ...describe(await schedule(limiter, origin, 'C'), 0)]);
    await limiter.stop();
  }

  const maxInOneSecond = (starts: number[]) => {
    const sorted = [...starts].sort((a, b) => a - b);
    let max = 0;
    for (let i = 0; i < sorted.length; i++) {
      let j = i;
      while (j + 1 < sorted.length && sorted[j + 1]! - sorted[i]! < 1_000) j++;
      max = Math.max(max, j - i + 1);
    }
    return max;
  };
  let poolSpacing = '';
  {
    const { limiter } = newLimiter();
    const origin = performance.now();
    const others = Promise.all(
      Array.from({ length: 30 }, (_, i) => limiter.schedule(`us-east-1_Other${i}`, async () => performance.now() - origin)),
    );
    await new Promise((r) => setTimeout(r, 20));
    const big = Promise.all(Array.from({ length: 10 }, () => limiter.schedule('us-east-1_Big', async () => performance.now() - origin)));
    const bigStarts = await big;
    await others;
    rows.push(['D', '30 calls to 30 pools, then 10 to one pool', '15.00', ...describe(bigStarts, 20)]);
    poolSpacing =
      `D: the one pool's calls started at ${[...bigStarts].sort((a, b) => a - b).map((t) => (t / 1000).toFixed(2)).join(', ')} s; ` +
      `most in any 1,000 ms: ${maxInOneSecond(bigStarts)} (pool limit 5/s)`;
    await limiter.stop();
  }

  console.log('| experiment | calls | limiter rate when queued (/s) | first call starts after s | last call starts after s | calls/s, first to last |');
  console.log('|---|---|---|---|---|---|');
  for (const row of rows) console.log(`| ${row.join(' | ')} |`);
  console.log(`\n${poolSpacing}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

/**
 * Group commit (common/shared-sync.ts): callers share fsyncs, and none is
 * released by a sync that started before its call (its write might not be in it).
 */
import { describe, expect, it } from 'vitest';
import { SharedSync } from '../../common/shared-sync';

function controlledSync() {
  const runs: { finish: (error?: Error) => void }[] = [];
  const shared = new SharedSync(
    () =>
      new Promise<void>((resolve, reject) => {
        runs.push({ finish: (error) => (error ? reject(error) : resolve()) });
      }),
  );
  return { shared, runs };
}

const settledFlag = (promise: Promise<void>) => {
  const state = { settled: false };
  promise.then(
    () => (state.settled = true),
    () => (state.settled = true),
  );
  return state;
};

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('SharedSync', () => {
  it('makes callers that arrive during a sync wait for the next one, which they all share', async () => {
    const { shared, runs } = controlledSync();
    const first = settledFlag(shared.request());
    await tick();
    expect(runs).toHaveLength(1);
    const later = [shared.request(), shared.request(), shared.request()].map(settledFlag);
    await tick();
    expect(runs).toHaveLength(1); // the later callers do not start a sync of their own while one runs
    runs[0]!.finish();
    await tick();
    expect(first.settled).toBe(true);
    expect(later.map((state) => state.settled)).toEqual([false, false, false]); // the first sync may predate their writes
    expect(runs).toHaveLength(2);
    runs[1]!.finish();
    await tick();
    expect(later.map((state) => state.settled)).toEqual([true, true, true]);
    expect(shared.idle).toBe(true);
  });

  it("rejects the callers of a failed sync, and the next callers get a sync of their own", async () => {
    const { shared, runs } = controlledSync();
    const failed = shared.request();
    await tick();
    runs[0]!.finish(new Error('EIO'));
    await expect(failed).rejects.toThrow('EIO');
    const next = shared.request();
    await tick();
    expect(runs).toHaveLength(2);
    runs[1]!.finish();
    await expect(next).resolves.toBeUndefined();
  });
});

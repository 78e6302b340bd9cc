/**
 * Operating a running cleanup: the progress query, pause and resume signals,
 * the setLimits update, and cancel (in-flight items finish, the rest is
 * recorded as cancelled).
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { cancelSignal, pauseSignal, progressQuery, resumeSignal, setLimitsUpdate } from '../../workflows/cleanup';
import { csvInput, readManifestCsv, seedPools, startCleanupEnv, type CleanupEnv } from '../helpers/cleanup-env';
import { waitFor } from '../helpers/wait-for';

describe('operator controls on a running cleanup', () => {
  let env: CleanupEnv;
  beforeAll(async () => {
    env = await startCleanupEnv({ emulator: { quotas: false } });
  });
  afterAll(() => env?.close());

  it('pauses, changes the rate and window, resumes and cancels', async () => {
    const { userPools, items } = seedPools('Controls', 2, 25);
    await env.emulator.control.seed({ userPools });
    const source = await env.inputFile('controls.csv', csvInput(items));
    const handle = await env.start({ source, execute: true, limits: { rate: 4, poolRate: 2, window: 4 } });
    const progress = () => handle.query(progressQuery);

    await waitFor(progress, (p) => p.done >= 4, 'some items done');
    await handle.signal(pauseSignal);
    const paused = await waitFor(progress, (p) => p.paused && p.inFlight === 0, 'in-flight items to finish after pause');
    expect(paused.phase).toBe('paused');
    const deletesWhilePaused = (await env.emulator.control.stats()).deletes.length;
    await new Promise((r) => setTimeout(r, 1_500));
    expect((await env.emulator.control.stats()).deletes.length).toBe(deletesWhilePaused);
    expect((await progress()).done).toBe(paused.done);

    // A bad update is refused by the validator and changes nothing.
    await expect(handle.executeUpdate(setLimitsUpdate, { args: [{ window: 5_000 }] })).rejects.toBeInstanceOf(WorkflowUpdateFailedError);
    // Slow by configuration (about 1 item/s): dozens of items are left when the cancel comes, however busy the machine.
    const limits = await handle.executeUpdate(setLimitsUpdate, { args: [{ rate: 1, poolRate: 1, window: 2 }] });
    expect(limits).toEqual({ rate: 1, poolRate: 1, window: 2 });
    expect((await progress()).limits).toEqual(limits);

    await handle.signal(resumeSignal);
    const resumed = await waitFor(progress, (p) => !p.paused && p.done >= paused.done + 3, 'progress after resume');
    expect(resumed.phase).toBe('running');
    expect(resumed.inFlight).toBeLessThanOrEqual(2);

    await handle.signal(cancelSignal, 'test says stop');
    const summary = await handle.result();
    expect(summary.status).toBe('cancelled');
    expect(summary.stopReason).toBe('cancelled: test says stop');
    expect(summary.counts.deleted + summary.counts.cancelled).toBe(items.length);
    expect(summary.counts.cancelled).toBeGreaterThan(0);
    expect(summary.missing).toBe(0);

    // Cancel let in-flight deletes finish: everything deleted is in the manifest, nothing more.
    const stats = await env.emulator.control.stats();
    expect(stats.deletes).toHaveLength(summary.counts.deleted);
    const cancelled = await readManifestCsv(path.join(summary.manifestDir!, 'cancelled.csv'));
    expect(cancelled).toHaveLength(summary.counts.cancelled);
    const deletedKeys = new Set(stats.deletes.map((d) => d.identifier));
    expect(cancelled.every((row) => !deletedKeys.has(row.identifier!))).toBe(true);
  });
});

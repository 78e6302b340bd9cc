/**
 * The pause update holds everything: once it returns, no DeleteResourceServer
 * starts until resume. Deletes waiting in the worker's limiter are cancelled
 * and run again after resume, each exactly once.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pauseUpdate, progressQuery, resumeSignal } from '../../workflows/cleanup';
import { csvInput, readJsonLines, readManifestCsv, seedPools, startCleanupEnv, type CleanupEnv } from '../helpers/cleanup-env';
import { waitFor } from '../helpers/wait-for';

describe('pause update', () => {
  let env: CleanupEnv;
  beforeAll(async () => {
    env = await startCleanupEnv({ emulator: { quotas: false } });
  });
  afterAll(() => env?.close());

  it('after it returns, no delete starts until resume; every item still ends once', async () => {
    const { userPools, items } = seedPools('Hold', 2, 12);
    await env.emulator.control.seed({ userPools });
    const source = await env.inputFile('hold.csv', csvInput(items));
    // One delete a second with a window of 6: several items wait in the worker's limiter at any moment.
    const handle = await env.start({ source, execute: true, limits: { rate: 1, poolRate: 1, window: 6 } });
    await waitFor(() => handle.query(progressQuery), (p) => p.done >= 2 && p.inFlight >= 4, 'items queued in the limiter');

    const progress = await handle.executeUpdate(pauseUpdate, { args: [{ reason: 'maintenance window' }] });
    const returnedAt = Date.now();
    expect(progress).toMatchObject({ paused: true, inFlight: 0, phase: 'paused', pauseReason: 'maintenance window' });
    expect(progress.requeued).toBeGreaterThan(0); // items cancelled while waiting, to run after resume

    const atPause = (await env.emulator.control.stats()).deletes;
    // Hold for a while (the limiter would have let several through by now).
    await new Promise((r) => setTimeout(r, 4_000));
    const stillPaused = (await env.emulator.control.stats()).deletes;
    expect(stillPaused).toHaveLength(atPause.length);
    expect(stillPaused.every((d) => Date.parse(d.time) <= returnedAt)).toBe(true);
    expect((await handle.query(progressQuery)).done).toBe(progress.done);

    await handle.executeUpdate(pauseUpdate, { args: [{}] }); // pausing a paused run is harmless
    await handle.signal(resumeSignal);
    expect((await handle.query(progressQuery)).pauseReason).toBeUndefined();
    const summary = await handle.result();

    expect(summary.counts).toMatchObject({ deleted: items.length, failed: 0, cancelled: 0, 'already-absent': 0 });
    const deletes = (await env.emulator.control.stats()).deletes;
    expect(new Set(deletes.map((d) => d.identifier)).size).toBe(items.length);
    expect(deletes).toHaveLength(items.length);
    const audit = await readJsonLines<Record<string, any>>(summary.auditFile!);
    const outcomes = audit.filter((r) => r.event === 'outcome');
    expect(outcomes).toHaveLength(items.length);
    expect(new Set(outcomes.map((r) => r.identifier)).size).toBe(items.length);
    expect(await readManifestCsv(path.join(summary.manifestDir!, 'deleted.csv'))).toHaveLength(items.length);
  });
});

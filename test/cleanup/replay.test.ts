/**
 * Determinism: the workflow code must replay its own histories. A recorded
 * history (committed; recorded with RECORD_HISTORY=1) guards against changes
 * that would break runs already in flight; a fresh run with pause, an update,
 * continue-as-new and failures guards the current code paths.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Worker } from '@temporalio/worker';
import { execFileSync } from 'node:child_process';
import { temporalBinary } from '../../common/temporal-dev-server';
import { temporalAddress } from '../helpers/temporal';
import { DEFAULT_TEST_CREDENTIALS } from '../../emulator';
import { pauseSignal, pauseUpdate, resumeSignal, setLimitsUpdate } from '../../workflows/cleanup';
import { csvInput, seedPools, startCleanupEnv, WORKFLOWS, type CleanupEnv } from '../helpers/cleanup-env';

const RECORDED = path.join(__dirname, '..', 'fixtures', 'histories', 'cleanup-run.json');

/** The Temporal CLI writes history in the proto JSON form that historyFromJSON reads. */
async function recordHistory(workflowId: string, runId: string): Promise<void> {
  const json = execFileSync(
    temporalBinary(),
    ['workflow', 'show', '--address', temporalAddress(), '--workflow-id', workflowId, '--run-id', runId, '--output', 'json'],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  await writeFile(RECORDED, json);
}

describe('workflow determinism', () => {
  let env: CleanupEnv;
  beforeAll(async () => {
    env = await startCleanupEnv({ emulator: { quotas: false } });
  });
  afterAll(() => env?.close());

  it('replays the recorded history of an earlier version', async () => {
    expect(existsSync(RECORDED)).toBe(true);
    // runReplayHistory accepts the proto JSON form as written by `temporal workflow show --output json`.
    const history = JSON.parse(await readFile(RECORDED, 'utf8')) as { events: unknown[] };
    expect(history.events.length).toBeGreaterThan(50);
    await Worker.runReplayHistory({ workflowsPath: WORKFLOWS }, history, 'recorded-cleanup');
  });

  it('negative control: an altered history does not replay', async () => {
    const history = JSON.parse(await readFile(RECORDED, 'utf8')) as { events: Record<string, any>[] };
    // The first activity the workflow schedules is prepareInput; say it scheduled another one.
    const scheduled = history.events.find((e) => e.activityTaskScheduledEventAttributes)!;
    expect(scheduled.activityTaskScheduledEventAttributes.activityType.name).toBe('prepareInput');
    scheduled.activityTaskScheduledEventAttributes.activityType.name = 'writeManifest';
    await expect(Worker.runReplayHistory({ workflowsPath: WORKFLOWS }, history, 'altered-cleanup')).rejects.toThrow(/[Nn]ondetermin/);
  });

  it('replays every run of a fresh chain with signals, an update, failures and continue-as-new', async () => {
    const { userPools, items } = seedPools('Replay', 3, 10);
    await env.emulator.control.seed({ userPools });
    await env.emulator.control.setConfig({
      faultSeed: 11,
      faults: { operations: { DeleteResourceServer: { throttle: 0.2 } } },
      policies: { [DEFAULT_TEST_CREDENTIALS.accessKeyId]: { deny: [] } },
    });
    const bad = { userPoolId: userPools[0]!.id, identifier: 'https://api.example.com/not-there' };
    const source = await env.inputFile('replay.csv', csvInput([...items, bad]));
    const handle = await env.start({
      source,
      execute: true,
      limits: { rate: 50, poolRate: 50, window: 5 },
      pageSize: 10,
      continueAsNewAfterEvents: 60,
    });
    await handle.signal(pauseSignal);
    await handle.executeUpdate(setLimitsUpdate, { args: [{ window: 6 }] });
    await handle.signal(resumeSignal);
    await handle.executeUpdate(pauseUpdate, { args: [{ reason: 'replay' }] });
    await handle.signal(resumeSignal);
    const summary = await handle.result();
    expect(summary.counts).toMatchObject({ deleted: items.length, 'already-absent': 1 });
    expect(summary.generations).toBeGreaterThan(1);

    // Walk the chain from the first run to the last and replay each run's history.
    let runId: string | undefined = handle.firstExecutionRunId;
    let replayed = 0;
    while (runId) {
      const history: Awaited<ReturnType<typeof handle.fetchHistory>> = await env.client.workflow
        .getHandle(handle.workflowId, runId)
        .fetchHistory();
      await Worker.runReplayHistory({ workflowsPath: WORKFLOWS }, history, `${handle.workflowId}-${runId}`);
      replayed += 1;
      if (process.env.RECORD_HISTORY === '1' && replayed === 1) await recordHistory(handle.workflowId, runId);
      const next: string | null | undefined = history.events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
      runId = next ?? undefined;
    }
    expect(replayed).toBe(summary.generations);
  });
});

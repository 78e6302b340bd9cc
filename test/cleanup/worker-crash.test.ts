/**
 * At-least-once execution: a worker process killed in the middle of a run
 * (SIGKILL, no goodbye) and another one taking over. Delete activities that
 * were running on the dead worker run again; the manifest still lists every
 * item exactly once, and each server was deleted once. The second worker
 * shuts down gracefully on SIGTERM.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@temporalio/client';
import { startEmulator, DEFAULT_TEST_CREDENTIALS, type RunningEmulator } from '../../emulator';
import { sha256File } from '../../common/plan-file';
import { cleanupWorkflow, progressQuery } from '../../workflows/cleanup';
import { csvInput, readJsonLines, readManifestCsv, seedPools } from '../helpers/cleanup-env';
import { startWorkerProcess } from '../helpers/processes';
import { connectClient, temporalAddress, uniqueTaskQueue } from '../helpers/temporal';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';

describe('worker crash', () => {
  let emulator: RunningEmulator;
  let client: Client;
  beforeAll(async () => {
    // Latency keeps several deletes in flight when the worker dies.
    emulator = await startEmulator({ port: 0, quotas: false, faults: { latency: { fixedMs: 150, jitterMs: 100 } } });
    client = await connectClient();
  });
  afterAll(async () => {
    await client?.connection.close();
    await emulator?.close();
  });

  it('finishes on another worker with every item in the manifest exactly once', { timeout: 240_000 }, async () => {
    await crashAndResume({ prefix: 'Crash', perPool: 15, workerRate: '10', limits: { rate: 10, poolRate: 5, window: 12 } });
  });

  // Above ~40 deletes/s items share delete tasks: a task killed with its worker runs again on the other
  // one, and its journal tells which of its items were finished and which had their Delete sent.
  it('finishes shared delete tasks on another worker: none of their items reported already-absent', { timeout: 240_000 }, async () => {
    const { handle } = await crashAndResume({ prefix: 'CrashShared', perPool: 25, workerRate: '1000', limits: { rate: 1000, poolRate: 1000, window: 100 } });
    // Shared tasks were running on the dead worker: they ran again (a second attempt) and nothing else was needed.
    const events = (await handle.fetchHistory()).events ?? [];
    const sharedIds = new Set(
      events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'deleteResourceServers').map((e) => String(e.eventId)),
    );
    const retried = events.filter(
      (e) => sharedIds.has(String(e.activityTaskStartedEventAttributes?.scheduledEventId)) && (e.activityTaskStartedEventAttributes?.attempt ?? 1) > 1,
    );
    expect(retried.length).toBeGreaterThan(0);
  });

  async function crashAndResume(scenario: { prefix: string; perPool: number; workerRate: string; limits: { rate: number; poolRate: number; window: number } }) {
    await emulator.control.reset();
    const { userPools, items } = seedPools(scenario.prefix, 4, scenario.perPool);
    await emulator.control.seed({ userPools });
    const dir = await mkdtemp(path.join(os.tmpdir(), 'rs-cleanup-crash-'));
    const inputPath = path.join(dir, 'crash.csv');
    await writeFile(inputPath, csvInput(items));
    const taskQueue = uniqueTaskQueue('crash');
    const workerEnv = {
      TEMPORAL_ADDRESS: temporalAddress(),
      TEMPORAL_TASK_QUEUE: taskQueue,
      COGNITO_ENDPOINT: emulator.url,
      AWS_ACCESS_KEY_ID: DEFAULT_TEST_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: DEFAULT_TEST_CREDENTIALS.secretAccessKey,
      RS_CLEANUP_AUDIT_DIR: path.join(dir, 'audit'),
      RS_CLEANUP_RATE: scenario.workerRate,
      RS_CLEANUP_POOL_RATE: '5',
      LOG_LEVEL: 'info',
    };

    const first = startWorkerProcess(workerEnv);
    const handle = await client.workflow.start(cleanupWorkflow, {
      taskQueue,
      workflowId: `crash-${scenario.prefix}-${Date.now()}`,
      args: [{
        source: { path: inputPath, sha256: await sha256File(inputPath) },
        execute: true,
        limits: scenario.limits,
        heartbeatTimeoutSeconds: 3,
      }],
    });
    const deadline = Date.now() + 90_000;
    for (;;) {
      const p = await handle.query(progressQuery).catch(() => undefined);
      if (p && p.done >= 15 && p.inFlight > 0) break;
      if (Date.now() > deadline) {
        first.child.kill('SIGKILL');
        throw new Error(`the run did not get going: ${JSON.stringify(p)}\n${(await first.done).stderr}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    first.child.kill('SIGKILL');
    await first.done;

    const second = startWorkerProcess(workerEnv);
    const summary = await handle.result();
    second.child.kill('SIGTERM');
    const stopped = await second.done;
    expect(stopped.code).toBe(0);
    expect(stopped.stdout).toContain('worker stopped');

    expect(summary.counts).toMatchObject({ deleted: items.length, failed: 0, 'already-absent': 0 });
    expect(summary.missing).toBe(0);
    const stats = await emulator.control.stats();
    expect(stats.deletes).toHaveLength(items.length);
    const manifest = await readManifestCsv(path.join(summary.manifestDir!, 'deleted.csv'));
    expect(new Set(manifest.map((r) => r.identifier)).size).toBe(items.length);
    expect(manifest).toHaveLength(items.length);
    // The audit may hold more attempts than items (the dead worker's), and an outcome for every item.
    const audit = await readJsonLines<Record<string, unknown>>(summary.auditFile!);
    const outcomes = new Set(audit.filter((r) => r.event === 'outcome').map((r) => r.identifier));
    expect(outcomes).toEqual(new Set(items.map((i) => i.identifier)));
    return { summary, handle };
  }
});

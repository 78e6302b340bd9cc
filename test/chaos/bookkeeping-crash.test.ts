/**
 * A worker killed (SIGKILL) inside a bookkeeping activity costs at most a
 * minute: the activity heartbeats, so Temporal notices the dead worker within
 * the heartbeat timeout and a new worker picks it up. Measured from the
 * workflow history (event times recorded by the server): from the new
 * worker's start to the activity's next start. The manifest is still exact and
 * each server was deleted at most once.
 *
 * The activities are made slow by configuration (emulator latency and many
 * app clients for the dependency check, a large plan for the manifest, the
 * worker's chaos knob for prepareInput and recordOutcomes, which are quick
 * otherwise), and the kill comes once the run's files, or the server's view
 * of the run, show the activity at work.
 */
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { startEmulator, DEFAULT_TEST_CREDENTIALS, type RunningEmulator } from '../../emulator';
import { sha256File } from '../../common/plan-file';
import { runDirectory } from '../../common/run-files';
import { OUTCOMES } from '../../common/types';
import { cleanupWorkflow, type CleanupInput } from '../../workflows/cleanup';
import { csvInput, readManifestCsv } from '../helpers/cleanup-env';
import { startWorkerProcess } from '../helpers/processes';
import { connectClient, temporalAddress, uniqueTaskQueue } from '../helpers/temporal';
import { waitFor } from '../helpers/wait-for';

/** The longest a crash may stall a run, from the new worker's start to the activity's next start. */
const MAX_STALL_MS = 60_000;

/** When the last attempt of `activity` started (server time) and which attempt it was. */
async function lastStart(handle: WorkflowHandle, activity: string): Promise<{ at: number; attempt: number }> {
  const history = await handle.fetchHistory();
  const scheduled = new Set(
    (history.events ?? [])
      .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === activity)
      .map((e) => String(e.eventId)),
  );
  const started = (history.events ?? []).filter(
    (e) => e.activityTaskStartedEventAttributes && scheduled.has(String(e.activityTaskStartedEventAttributes.scheduledEventId)),
  );
  const last = started.at(-1)!;
  const time = last.eventTime!;
  return { at: Number(time.seconds) * 1000 + Math.floor((time.nanos ?? 0) / 1e6), attempt: last.activityTaskStartedEventAttributes!.attempt ?? 1 };
}

describe('a worker killed inside a bookkeeping activity', () => {
  let emulator: RunningEmulator;
  let client: Client;
  beforeAll(async () => {
    emulator = await startEmulator({ port: 0, quotas: false });
    client = await connectClient();
  });
  afterAll(async () => {
    await client?.connection.close();
    await emulator?.close();
  });

  /** Starts a worker process, the run, kills the worker when `inside` says so, starts another; returns the stall. */
  async function crashInside(
    name: string,
    items: { userPoolId: string; identifier: string }[],
    input: Omit<CleanupInput, 'source'>,
    activity: string,
    inside: (runDir: string, handle: WorkflowHandle) => boolean | Promise<boolean>,
    firstWorkerEnv: NodeJS.ProcessEnv = {},
  ) {
    const dir = await mkdtemp(path.join(os.tmpdir(), `rs-cleanup-chaos-${name}-`));
    const inputPath = path.join(dir, 'input.csv');
    await writeFile(inputPath, csvInput(items));
    const taskQueue = uniqueTaskQueue(`chaos-${name}`);
    const auditDir = path.join(dir, 'audit');
    const workerEnv = {
      TEMPORAL_ADDRESS: temporalAddress(),
      TEMPORAL_TASK_QUEUE: taskQueue,
      COGNITO_ENDPOINT: emulator.url,
      AWS_ACCESS_KEY_ID: DEFAULT_TEST_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: DEFAULT_TEST_CREDENTIALS.secretAccessKey,
      RS_CLEANUP_AUDIT_DIR: auditDir,
    };
    const first = startWorkerProcess({ ...workerEnv, ...firstWorkerEnv });
    const handle = await client.workflow.start(cleanupWorkflow, {
      taskQueue,
      workflowId: `chaos-${name}-${Date.now()}`,
      args: [{ source: { path: inputPath, sha256: await sha256File(inputPath) }, ...input }],
    });
    const runDir = runDirectory(auditDir, handle.workflowId, handle.firstExecutionRunId);
    try {
      await waitFor(async () => inside(runDir, handle), Boolean, `the worker to be inside ${activity}`, 180_000);
    } catch (err) {
      first.child.kill('SIGKILL');
      throw new Error(`${(err as Error).message}\n${(await first.done).stderr}`);
    }
    first.child.kill('SIGKILL');
    await first.done;

    const secondStartedAt = Date.now();
    const second = startWorkerProcess(workerEnv);
    try {
      const summary = await handle.result();
      const restart = await lastStart(handle, activity);
      return { summary, restart, stallMs: restart.at - secondStartedAt, runDir };
    } finally {
      second.child.kill('SIGTERM');
      await second.done;
    }
  }

  async function expectExactManifest(manifestDir: string, items: { userPoolId: string; identifier: string }[]) {
    const lines: string[] = [];
    for (const outcome of OUTCOMES) lines.push(...(await readManifestCsv(path.join(manifestDir, `${outcome}.csv`))).map((r) => `${r.userPoolId} ${r.identifier}`));
    expect(lines.sort()).toEqual(items.map((i) => `${i.userPoolId} ${i.identifier}`).sort());
  }

  it('checkDependencies: resumes within a minute, without asking again about the pools it had finished', { timeout: 300_000 }, async () => {
    await emulator.control.reset();
    // Pools with more and more app clients: the check of the first pool ends long before the last.
    const userPools = [3, 20, 40, 60].map((clients, p) => ({
      id: `us-east-1_ChaosDep${p}`,
      name: `chaos-dep-${p}`,
      resourceServers: [0, 1].map((s) => ({ identifier: `https://api.example.com/dep/${p}/${s}`, name: `dep ${p} ${s}` })),
      clients: Array.from({ length: clients }, (_, c) => ({ clientName: `client-${c}` })),
    }));
    await emulator.control.seed({ userPools });
    await emulator.control.setConfig({ faults: { latency: { fixedMs: 100, jitterMs: 20 } } });
    const items = userPools.flatMap((p) => p.resourceServers.map((rs) => ({ userPoolId: p.id, identifier: rs.identifier })));
    const checked = (runDir: string) => {
      const dir = path.join(runDir, 'dependency-check');
      return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json')) : [];
    };
    let finishedAtKill: string[] = [];
    const { summary, restart, stallMs } = await crashInside('dependencies', items, { execute: true }, 'checkDependencies', (runDir) => {
      finishedAtKill = checked(runDir);
      return finishedAtKill.length >= 1 && finishedAtKill.length < userPools.length;
    });

    expect(restart.attempt).toBeGreaterThanOrEqual(2);
    expect(stallMs).toBeLessThan(MAX_STALL_MS);
    expect(summary.counts).toMatchObject({ deleted: items.length, failed: 0 });
    await expectExactManifest(summary.manifestDir!, items);
    const stats = await emulator.control.stats();
    expect(new Set(stats.deletes.map((d) => d.identifier)).size).toBe(stats.deletes.length);
    // Each pool is listed once per attempt that had not finished it: the ones done before the kill once.
    const listed = stats.operations.ListUserPoolClients?.ok ?? 0;
    expect(listed).toBeLessThanOrEqual(2 * userPools.length - finishedAtKill.length);
    console.log(`chaos checkDependencies: stall ${(stallMs / 1000).toFixed(1)} s (attempt ${restart.attempt}), pools finished before the kill ${finishedAtKill.length}`);
  });

  /** True once the run's `activity` has started on a worker (the server's view of the run). */
  const started = (activity: string) => async (_runDir: string, handle: WorkflowHandle) =>
    ((await handle.describe()).raw.pendingActivities ?? []).some((a) => a.activityType?.name === activity && Number(a.state) === 2);

  // The first worker is slowed inside the activity by the chaos knob (RS_CLEANUP_CHAOS_SLOW_ACTIVITIES);
  // the second, without it, picks the activity up once the server notices the first is gone.
  for (const activity of ['prepareInput', 'recordOutcomes'] as const) {
    it(`${activity}: resumes within a minute and the manifest is exact`, { timeout: 300_000 }, async () => {
      await emulator.control.reset();
      const userPools = [0, 1].map((p) => ({
        id: `us-east-1_Chaos${activity}${p}`,
        name: `chaos-${activity}-${p}`,
        resourceServers: [0, 1, 2].map((s) => ({ identifier: `https://api.example.com/${activity}/${p}/${s}`, name: `s ${p} ${s}` })),
      }));
      await emulator.control.seed({ userPools });
      const items = userPools.flatMap((p) => p.resourceServers.map((rs) => ({ userPoolId: p.id, identifier: rs.identifier })));
      const { summary, restart, stallMs } = await crashInside(activity, items, { execute: true }, activity, started(activity), {
        RS_CLEANUP_CHAOS_SLOW_ACTIVITIES: `${activity}=600000`,
      });

      expect(restart.attempt).toBeGreaterThanOrEqual(2);
      expect(stallMs).toBeLessThan(MAX_STALL_MS);
      expect(summary.counts).toMatchObject({ deleted: items.length, failed: 0 });
      await expectExactManifest(summary.manifestDir!, items);
      const stats = await emulator.control.stats();
      expect(stats.deletes).toHaveLength(items.length);
      expect(new Set(stats.deletes.map((d) => d.identifier)).size).toBe(items.length);
      console.log(`chaos ${activity}: stall ${(stallMs / 1000).toFixed(1)} s (attempt ${restart.attempt})`);
    });
  }

  it('writeManifest: resumes within a minute and the manifest is exact', { timeout: 300_000 }, async () => {
    // A large plan of protected items (no Cognito calls): the manifest is the long part.
    const items = Array.from({ length: 40_000 }, (_, i) => ({ userPoolId: `us-east-1_ChaosBig${i % 40}`, identifier: `https://api.example.com/big/${i}` }));
    const { summary, restart, stallMs } = await crashInside(
      'manifest',
      items,
      { execute: true, protect: ['us-east-1_ChaosBig*'], pageSize: 1_000 },
      'writeManifest',
      (runDir) => existsSync(path.join(runDir, 'manifest')),
    );

    expect(restart.attempt).toBeGreaterThanOrEqual(2);
    expect(stallMs).toBeLessThan(MAX_STALL_MS);
    expect(summary.counts['skipped-protected']).toBe(items.length);
    expect(summary.missing).toBe(0);
    await expectExactManifest(summary.manifestDir!, items);
    console.log(`chaos writeManifest: stall ${(stallMs / 1000).toFixed(1)} s (attempt ${restart.attempt})`);
  });
});

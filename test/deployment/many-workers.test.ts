/**
 * Scaling out: three worker processes on one task queue share ONE
 * DeleteResourceServer limit per (account, Region). Each worker's own limiter
 * is set as high as the account's quota (15/s), so without a server-side limit
 * on the deletes queue they could offer 45/s. With it (the suite's dev server
 * has task-queue fairness: the default is each fairness key's limit at the
 * rate, 15/s), every item ends deleted, the emulator (quotas on, at Cognito's
 * defaults) never accepts more than 15 deletes in a second, all three workers
 * did part of the work, and their /metrics counters add up to what the
 * emulator saw. How close to the quota the workers get is a benchmark
 * (bench/, docs/performance.md), not an assertion.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@temporalio/client';
import { startEmulator, DEFAULT_TEST_CREDENTIALS, DEFAULT_CATEGORY_LIMITS, type RunningEmulator } from '../../emulator';
import { sha256File } from '../../common/plan-file';
import { freePort } from '../../common/temporal-dev-server';
import { deleteTaskQueueFor } from '../../worker/create-worker';
import { cleanupWorkflow } from '../../workflows/cleanup';
import { FAIRNESS_KEY_RATE_SHARE, TASK_QUEUE_RATE_SHARE } from '../../worker/config';
import { busiestSecond, csvInput, seedPools } from '../helpers/cleanup-env';
import { startWorkerProcess, type Finished } from '../helpers/processes';
import { connectClient, temporalAddress, uniqueTaskQueue } from '../helpers/temporal';

const ACCOUNT_DELETE_LIMIT = DEFAULT_CATEGORY_LIMITS.UserPoolResourceUpdate; // 15/s, as in Cognito
const WORKERS = 3;

interface WorkerProcess {
  child: ChildProcess;
  done: Promise<Finished>;
  /** Resolves with the "worker started" log record. */
  started: Promise<Record<string, unknown>>;
}

function startWorker(env: NodeJS.ProcessEnv): WorkerProcess {
  const worker = startWorkerProcess(env);
  const started = new Promise<Record<string, unknown>>((resolve, reject) => {
    let buffered = '';
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString();
      for (const line of buffered.split('\n').slice(0, -1)) {
        const record = parseJson(line);
        if (record?.msg === 'worker started') {
          worker.child.stdout?.off('data', onData);
          resolve(record);
        }
      }
      buffered = buffered.slice(buffered.lastIndexOf('\n') + 1);
    };
    worker.child.stdout?.on('data', onData);
    void worker.done.then((f) => reject(new Error(`worker exited (${f.code}) before it started:\n${f.stderr}`)));
  });
  started.catch(() => undefined);
  return { ...worker, started };
}

function parseJson(line: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** The value of one sample of a Prometheus text exposition, e.g. `rs_cleanup_deletes_total{outcome="deleted"}`. */
function sample(exposition: string, series: string): number | undefined {
  const line = exposition.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function scrape(port: number, route = '/metrics'): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${port}${route}`);
  expect(response.status).toBe(200);
  return response.text();
}

describe('many workers under one account-wide limit', () => {
  let emulator: RunningEmulator;
  let client: Client;
  const workers: WorkerProcess[] = [];
  beforeAll(async () => {
    // Quotas on, at Cognito's defaults (15 deletes/s per account, 5/s per pool).
    emulator = await startEmulator({ port: 0 });
    client = await connectClient();
  });
  afterAll(async () => {
    for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
    await client?.connection.close();
    await emulator?.close();
  });

  it('three worker processes delete 250 servers without ever exceeding 15 deletes/s', { timeout: 600_000 }, async () => {
    // 10 pools x 25 servers, interleaved pool by pool, so the per-pool limit (5/s) is never what holds a run back.
    const { userPools, items } = seedPools('Many', 10, 25);
    await emulator.control.seed({ userPools });
    const interleaved = Array.from({ length: 25 }, (_, s) => userPools.map((_p, p) => items[p * 25 + s]!)).flat();
    expect(new Set(interleaved.map((i) => i.identifier)).size).toBe(250);

    const dir = await mkdtemp(path.join(os.tmpdir(), 'rs-cleanup-many-'));
    const inputPath = path.join(dir, 'many.csv');
    await writeFile(inputPath, csvInput(interleaved));
    const taskQueue = uniqueTaskQueue('many');
    const temporalMetricsPort = await freePort();
    const baseEnv = {
      TEMPORAL_ADDRESS: temporalAddress(),
      TEMPORAL_TASK_QUEUE: taskQueue,
      COGNITO_ENDPOINT: emulator.url,
      AWS_ACCESS_KEY_ID: DEFAULT_TEST_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: DEFAULT_TEST_CREDENTIALS.secretAccessKey,
      RS_CLEANUP_AUDIT_DIR: path.join(dir, 'audit'),
      // Each worker alone would go as fast as the whole account may.
      RS_CLEANUP_RATE: String(ACCOUNT_DELETE_LIMIT),
      RS_CLEANUP_POOL_RATE: '5',
      RS_CLEANUP_METRICS_PORT: '0',
      RS_CLEANUP_METRICS_HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
    };
    for (let i = 0; i < WORKERS; i++) {
      workers.push(startWorker(i === 0 ? { ...baseEnv, TEMPORAL_METRICS_PORT: String(temporalMetricsPort) } : baseEnv));
    }
    const started = await Promise.all(workers.map((w) => w.started));
    const metricsPorts = started.map((record) => record.metricsPort as number);
    expect(new Set(metricsPorts).size).toBe(WORKERS);
    // RS_CLEANUP_TASK_QUEUE_RATE is left at its default: the one limit that holds across workers.
    for (const record of started) {
      expect(record).toMatchObject({
        temporal: { address: temporalAddress(), namespace: 'default', tls: 'off', auth: 'none' },
        deleteTaskQueue: deleteTaskQueueFor(taskQueue),
        deleteTaskQueueRate: ACCOUNT_DELETE_LIMIT * TASK_QUEUE_RATE_SHARE,
        // The server took the per-(account, Region) limit: no fallback to the queue-wide one.
        deleteQueueLimit: { mode: 'fairness-keys', keyRate: ACCOUNT_DELETE_LIMIT * FAIRNESS_KEY_RATE_SHARE },
      });
    }
    await waitForPollers(client, deleteTaskQueueFor(taskQueue), WORKERS);

    const handle = await client.workflow.start(cleanupWorkflow, {
      taskQueue,
      workflowId: `many-workers-${Date.now()}`,
      args: [{
        source: { path: inputPath, sha256: await sha256File(inputPath) },
        execute: true,
        // The run's rate goes to each worker's own limiter: 15/s each, 45/s together but for the server's limit.
        limits: { rate: ACCOUNT_DELETE_LIMIT, poolRate: 5 },
      }],
    });
    const summary = await handle.result();
    expect(summary.status).toBe('completed');
    expect(summary.counts).toMatchObject({ deleted: 250, failed: 0, 'already-absent': 0 });
    expect(summary.missing).toBe(0);

    const stats = await emulator.control.stats();
    expect(stats.deletes).toHaveLength(250);
    const busiestAccepted = busiestSecond(stats.accepted.perSecond, { category: 'UserPoolResourceUpdate' });
    const deleteOutcomes = stats.operations.DeleteResourceServer ?? {};
    const describeOutcomes = stats.operations.DescribeResourceServer ?? {};
    expect(deleteOutcomes.ok).toBe(250);

    console.log(
      `three workers: ${summary.durationMs} ms for 250 deletes; busiest accepted second ${busiestAccepted}; ` +
        `DeleteResourceServer ${JSON.stringify(deleteOutcomes)}; DescribeResourceServer ${JSON.stringify(describeOutcomes)}`,
    );
    // Cognito (quotas on) never accepted more than the account's limit in a second. How close the
    // workers get to it is measured by bench/, not asserted here: a per-second count on the
    // workers' side is a wall-clock measurement that a loaded machine distorts.
    expect(busiestAccepted).toBeLessThanOrEqual(ACCOUNT_DELETE_LIMIT);

    // Every worker did part of the deletes; their counters add up to what the emulator saw.
    const expositions = await Promise.all(metricsPorts.map((port) => scrape(port)));
    const total = (series: string) => expositions.reduce((sum, e) => sum + (sample(e, series) ?? 0), 0);
    const deletedBy = expositions.map((e) => sample(e, 'rs_cleanup_deletes_total{outcome="deleted"}') ?? 0);
    console.log(`deletes per worker: ${deletedBy.join(', ')}`);
    for (const n of deletedBy) expect(n).toBeGreaterThan(0);
    expect(total('rs_cleanup_deletes_total{outcome="deleted"}')).toBe(250);
    expect(total('rs_cleanup_deletes_total{outcome="failed"}')).toBe(0);
    expect(total('rs_cleanup_deletes_total{outcome="already-absent"}')).toBe(0);
    expect(total('rs_cleanup_throttled_total{operation="DeleteResourceServer"}')).toBe(deleteOutcomes.TooManyRequestsException ?? 0);
    expect(total('rs_cleanup_throttled_total{operation="DescribeResourceServer"}')).toBe(describeOutcomes.TooManyRequestsException ?? 0);
    for (const e of expositions) {
      // The run's rate (15), lower for a while after a throttled call.
      const rate = sample(e, 'rs_cleanup_delete_rate_per_second')!;
      expect(rate).toBeGreaterThan(0);
      expect(rate).toBeLessThanOrEqual(ACCOUNT_DELETE_LIMIT);
    }
    expect((await fetch(`http://127.0.0.1:${metricsPorts[0]}/healthz`)).status).toBe(200);

    // The Temporal SDK's own Prometheus endpoint, on the worker that asked for it.
    const runtimeMetrics = await scrape(temporalMetricsPort);
    expect(runtimeMetrics).toMatch(/^temporal_activity_execution_latency\w*\{/m);
    expect(runtimeMetrics).toContain(`task_queue="${deleteTaskQueueFor(taskQueue)}"`);

    // Graceful shutdown of all three.
    for (const w of workers) w.child.kill('SIGTERM');
    const stopped = await Promise.all(workers.map((w) => w.done));
    for (const s of stopped) {
      expect(s.code).toBe(0);
      expect(s.stdout).toContain('worker stopped');
    }
  });
});

/** Waits until `count` distinct workers poll the activity task queue. */
async function waitForPollers(client: Client, taskQueue: string, count: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const response = await client.workflowService.describeTaskQueue({
      namespace: 'default',
      // TASK_QUEUE_KIND_NORMAL, TASK_QUEUE_TYPE_ACTIVITY (@temporalio/proto is not a direct dependency).
      taskQueue: { name: taskQueue, kind: 1 },
      taskQueueType: 2,
    });
    const identities = new Set((response.pollers ?? []).map((p) => p.identity));
    if (identities.size >= count) return;
    if (Date.now() > deadline) throw new Error(`only ${identities.size} of ${count} workers poll ${taskQueue}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * The worker's own metrics: the text exposition, the /metrics and /healthz
 * server, and a real run through createCleanupWorker (both of its Temporal
 * workers) whose counters must match the run's outcomes and the throttled
 * calls the emulator answered.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NativeConnection } from '@temporalio/worker';
import type { Client } from '@temporalio/client';
import { startEmulator, type RunningEmulator } from '../../emulator';
import type { ActivityConfig } from '../../activities';
import { sha256File } from '../../common/plan-file';
import { createCleanupWorker } from '../../worker/create-worker';
import { JobMetrics, startMetricsServer } from '../../worker/metrics';
import { cleanupWorkflow } from '../../workflows/cleanup';
import { csvInput, seedPools, useEmulatorCredentials } from '../helpers/cleanup-env';
import { connectClient, quietRuntime, temporalAddress, uniqueTaskQueue } from '../helpers/temporal';

describe('JobMetrics', () => {
  it('renders every outcome from zero, throttled calls by operation, and the current rate', () => {
    const metrics = new JobMetrics();
    let rate = 15;
    metrics.watchDeleteRate(() => rate);
    metrics.onOutcome('deleted');
    metrics.onOutcome('deleted');
    metrics.onOutcome('already-absent');
    metrics.onThrottled('DeleteResourceServer');
    rate = 10.5;
    const text = metrics.render();
    expect(text).toContain('# TYPE rs_cleanup_deletes_total counter\n');
    expect(text).toContain('rs_cleanup_deletes_total{outcome="deleted"} 2\n');
    expect(text).toContain('rs_cleanup_deletes_total{outcome="already-absent"} 1\n');
    expect(text).toContain('rs_cleanup_deletes_total{outcome="would-delete"} 0\n');
    expect(text).toContain('rs_cleanup_deletes_total{outcome="failed"} 0\n');
    expect(text).toContain('rs_cleanup_throttled_total{operation="DeleteResourceServer"} 1\n');
    expect(text).not.toContain('operation="DescribeResourceServer"');
    expect(text).toContain('# TYPE rs_cleanup_delete_rate_per_second gauge\nrs_cleanup_delete_rate_per_second 10.5\n');
    // Every sample line is `name{labels} value` or `name value`: what Prometheus parses.
    for (const line of text.trim().split('\n').filter((l) => !l.startsWith('#'))) {
      expect(line).toMatch(/^[a-z_]+(\{[a-z_]+="[^"]*"\})? \d+(\.\d+)?$/);
    }
  });

  it('serves /metrics and /healthz, and nothing else', async () => {
    const metrics = new JobMetrics();
    metrics.onOutcome('failed');
    let healthy = true;
    const server = await startMetricsServer({ metrics, host: '127.0.0.1', port: 0, healthy: () => healthy });
    try {
      expect(server.port).toBeGreaterThan(0);
      const base = `http://127.0.0.1:${server.port}`;
      const scraped = await fetch(`${base}/metrics`);
      expect(scraped.status).toBe(200);
      expect(scraped.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
      expect(await scraped.text()).toContain('rs_cleanup_deletes_total{outcome="failed"} 1\n');
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      healthy = false;
      expect((await fetch(`${base}/healthz`)).status).toBe(503);
      expect((await fetch(`${base}/`)).status).toBe(404);
    } finally {
      await server.close();
    }
  });
});

describe('metrics of a real run', () => {
  let emulator: RunningEmulator;
  let client: Client;
  beforeAll(async () => {
    // Retried activities log at WARN; the test reads the outcomes instead.
    quietRuntime();
    useEmulatorCredentials();
    emulator = await startEmulator({ port: 0 });
    client = await connectClient();
  });
  afterAll(async () => {
    await client?.connection.close();
    await emulator?.close();
  });

  it('counts each outcome and each throttled call exactly as the run and Cognito saw them', async () => {
    const { userPools, items } = seedPools('Metrics', 1, 5);
    await emulator.control.seed({ userPools });
    const missing = [0, 1].map((i) => ({ userPoolId: userPools[0]!.id, identifier: `https://api.example.com/gone/${i}` }));
    // Two throttled deletes (retried, then deleted), then one NotAuthorized (failed at once).
    await emulator.control.setConfig({
      faults: {
        failNext: [
          { operation: 'DeleteResourceServer', count: 2, error: 'TooManyRequestsException' },
          { operation: 'DeleteResourceServer', count: 1, error: 'NotAuthorizedException' },
        ],
      },
    });
    const dir = await mkdtemp(path.join(os.tmpdir(), 'rs-cleanup-metrics-'));
    const inputPath = path.join(dir, 'metrics.csv');
    await writeFile(inputPath, csvInput([...items, ...missing]));
    const config: ActivityConfig = {
      cognito: { endpoint: emulator.url },
      deleteRates: { rate: 15, poolRate: 5 },
      readRates: { rate: 20, poolRate: 5 },
      auditDir: path.join(dir, 'audit'),
      retryBaseDelayMs: 100,
      retryMaxDelayMs: 1_000,
    };
    const metrics = new JobMetrics();
    const taskQueue = uniqueTaskQueue('metrics');
    const connection = await NativeConnection.connect({ address: temporalAddress() });
    const worker = await createCleanupWorker({ connection, namespace: 'default', taskQueue, activities: config, metrics });
    const running = worker.run();
    const server = await startMetricsServer({ metrics, host: '127.0.0.1', port: 0, healthy: () => worker.isRunning() });
    try {
      const summary = await client.workflow.execute(cleanupWorkflow, {
        taskQueue,
        workflowId: `metrics-${Date.now()}`,
        args: [{ source: { path: inputPath, sha256: await sha256File(inputPath) }, execute: true }],
      });
      expect(summary.counts).toMatchObject({ deleted: 4, failed: 1, 'already-absent': 2 });

      const text = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
      for (const outcome of ['deleted', 'failed', 'already-absent'] as const) {
        expect(text).toContain(`rs_cleanup_deletes_total{outcome="${outcome}"} ${summary.counts[outcome]}\n`);
      }
      const throttled = (await emulator.control.stats()).operations.DeleteResourceServer?.TooManyRequestsException;
      expect(throttled).toBe(2);
      expect(text).toContain(`rs_cleanup_throttled_total{operation="DeleteResourceServer"} ${throttled}\n`);
      expect((await fetch(`http://127.0.0.1:${server.port}/healthz`)).status).toBe(200);
    } finally {
      worker.shutdown();
      await running;
      await server.close();
      await connection.close();
    }
    // Both Temporal workers stopped: the process would exit.
    expect(worker.worker.getState()).toBe('STOPPED');
    expect(worker.deleteWorker.getState()).toBe('STOPPED');
  });
});

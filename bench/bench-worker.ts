/**
 * A cleanup worker process for the benchmarks: `createCleanupWorker` (the very
 * function worker/main.ts runs) with the benchmark's configuration, in a
 * process of its own so that its CPU time and peak RSS are its own, not the
 * emulator's or the client's.
 *
 * Why not worker/main.ts itself: its environment has no setting for the
 * client-read limiter (ListUserPoolClients, DescribeUserPoolClient), which
 * stays at Cognito's 15/s; with quotas off the dependency check over 4,000
 * pools would then take 4.5 minutes of a run that is meant to measure the
 * workflow.
 *
 *   BENCH_WORKER='{"address":...,"namespace":...,"taskQueue":...,"activities":{...}}' node --import tsx bench/bench-worker.ts
 *
 * Stops gracefully on SIGTERM; prints `ready` on standard output once polling.
 */
import { DefaultLogger, NativeConnection, Runtime, makeTelemetryFilterString } from '@temporalio/worker';
import type { ActivityConfig } from '../activities';
import { createCleanupWorker } from '../worker/create-worker';

export interface BenchWorkerConfig {
  address: string;
  namespace: string;
  taskQueue: string;
  activities: ActivityConfig;
  deleteTaskQueueRate?: number;
  maxConcurrentActivities?: number;
}

async function main(): Promise<void> {
  const config = JSON.parse(process.env.BENCH_WORKER ?? '') as BenchWorkerConfig;
  Runtime.install({
    shutdownSignals: ['SIGINT', 'SIGTERM'],
    // Retried attempts log warnings; the benchmarks read what happened from the emulator and the audit.
    logger: new DefaultLogger('ERROR'),
    telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }), forward: {} } },
  });
  const connection = await NativeConnection.connect({ address: config.address });
  const worker = await createCleanupWorker({
    connection,
    namespace: config.namespace,
    taskQueue: config.taskQueue,
    activities: config.activities,
    ...(config.deleteTaskQueueRate !== undefined ? { deleteTaskQueueRate: config.deleteTaskQueueRate } : {}),
    ...(config.maxConcurrentActivities !== undefined ? { maxConcurrentActivities: config.maxConcurrentActivities } : {}),
  });
  const running = worker.run();
  process.stdout.write('ready\n');
  try {
    await running;
  } finally {
    await connection.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

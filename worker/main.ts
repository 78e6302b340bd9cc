/**
 * The rs-cleanup worker: polls the task queue for cleanup workflows and their
 * bookkeeping activities, and `<task queue>-deletes` for the delete activities
 * (see worker/create-worker.ts). Configured by environment (worker/config.ts,
 * common/temporal-connection.ts, docs/deployment.md); shuts down gracefully on
 * SIGTERM and SIGINT (running activities finish).
 */
import { makeTelemetryFilterString, NativeConnection, Runtime } from '@temporalio/worker';
import type { Logger } from 'pino';
import { readTemporalConnection, TemporalConnectionError } from '../common/temporal-connection';
import { ConfigError, readWorkerConfig } from './config';
import { createCleanupWorker } from './create-worker';
import { coreLogLevel, createWorkerLogger, temporalSdkLogger } from './logger';
import { JobMetrics, startMetricsServer, type MetricsServer } from './metrics';
import { mainHeapLimit, WORKER_NODE_OPTIONS } from './heap';

/** Set once the configuration is read: from then on, every line goes through it. */
let log: Logger | undefined;

async function main(): Promise<void> {
  const config = readWorkerConfig();
  const temporal = readTemporalConnection();
  log = createWorkerLogger(config.logLevel);
  // The worker's Runtime installs SIGINT/SIGTERM handlers that shut it down gracefully.
  Runtime.install({
    shutdownSignals: ['SIGINT', 'SIGTERM'],
    // The SDK's own messages, and its core's (forwarded), in the worker's JSON lines.
    logger: temporalSdkLogger(log),
    telemetryOptions: {
      logging: { filter: makeTelemetryFilterString({ core: coreLogLevel(config.logLevel) }), forward: {} },
      ...(config.metrics.temporalPort !== undefined
        ? { metrics: { prometheus: { bindAddress: `${config.metrics.host}:${config.metrics.temporalPort}` } } }
        : {}),
    },
  });
  const connection = await NativeConnection.connect(temporal.options);
  const metrics = new JobMetrics();
  const worker = await createCleanupWorker({
    connection,
    namespace: temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    activities: config.activities,
    maxConcurrentActivities: config.maxConcurrentActivities,
    deleteTaskQueueRate: config.deleteTaskQueueRate,
    fairnessKeyRate: config.fairnessKeyRate,
    metrics,
  });
  let metricsServer: MetricsServer | undefined;
  if (config.metrics.port !== undefined) {
    metricsServer = await startMetricsServer({
      metrics,
      host: config.metrics.host,
      port: config.metrics.port,
      healthy: () => worker.isRunning(),
    });
  }
  const running = worker.run();
  const heap = mainHeapLimit();
  log.info(
    {
      node: process.version,
      heapLimitMb: heap.limitMb,
      temporal: temporal.describe,
      taskQueue: config.temporal.taskQueue,
      deleteTaskQueue: worker.deleteWorker.options.taskQueue,
      deleteQueueLimit: worker.deleteQueueLimit,
      deleteTaskQueueRate: config.deleteTaskQueueRate,
      deleteRates: config.activities.deleteRates,
      assumeRoleArn: config.activities.roles?.assumeRoleArn ?? null,
      cognitoEndpoint: config.activities.cognito.endpoint ?? 'AWS',
      auditDir: config.activities.auditDir,
      metricsPort: metricsServer?.port ?? null,
      temporalMetricsPort: config.metrics.temporalPort ?? null,
    },
    'worker started',
  );
  if (!heap.bounded) {
    // V8 then lets garbage grow towards the limit: RSS of 0.6-1 GB where 300 MB do (worker/heap.ts).
    log.warn(
      { heapLimitMb: heap.limitMb },
      `the worker's heap limit is ${heap.limitMb} MB: start it with node ${WORKER_NODE_OPTIONS.join(' ')} (as the Dockerfile and npm run worker do) to keep its memory flat`,
    );
  }
  if (worker.deleteQueueLimit.mode === 'queue-wide') {
    // Several Regions or accounts then share one limit, below one key's quota.
    log.warn(
      { deleteQueueLimit: worker.deleteQueueLimit },
      `no per-(account, Region) limit across workers: ${worker.deleteQueueLimit.reason}; using one queue-wide limit of ${worker.deleteQueueLimit.rate}/s for every account and Region`,
    );
  }
  try {
    await running;
  } finally {
    await metricsServer?.close();
    await connection.close();
  }
  log.info('worker stopped');
}

main().catch((err) => {
  // A setting is wrong: one plain line naming it, as the CLI does.
  if (err instanceof ConfigError || err instanceof TemporalConnectionError) {
    console.error(`rs-cleanup worker: ${err.message}`);
    process.exit(2);
  }
  if (log) log.fatal({ err }, 'worker failed');
  else console.error(err);
  process.exit(1);
});

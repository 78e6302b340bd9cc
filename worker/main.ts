/**
 * The rs-cleanup worker: polls the task queue for cleanup workflows and their
 * bookkeeping activities, and `<task queue>-deletes` for the delete activities
 * (see worker/create-worker.ts). Configured by environment (worker/config.ts,
 * common/temporal-connection.ts, docs/deployment.md); shuts down gracefully on
 * SIGTERM and SIGINT (running activities finish).
 */
import { NativeConnection, Runtime } from '@temporalio/worker';
import pino from 'pino';
import { readTemporalConnection, TemporalConnectionError } from '../common/temporal-connection';
import { SECRET_PATHS } from '../activities/audit-log';
import { ConfigError, readWorkerConfig } from './config';
import { createCleanupWorker } from './create-worker';
import { JobMetrics, startMetricsServer, type MetricsServer } from './metrics';

async function main(): Promise<void> {
  const config = readWorkerConfig();
  const temporal = readTemporalConnection();
  // Only `temporal.describe` is ever logged; redact is the second line of defence.
  const log = pino({
    level: config.logLevel,
    base: { service: 'rs-cleanup-worker' },
    redact: {
      paths: [...SECRET_PATHS, 'clientCertPair.key', '*.clientCertPair.key', 'tls.clientCertPair.key', '*.tls.clientCertPair.key'],
      censor: '[redacted]',
    },
  });
  // The worker's Runtime installs SIGINT/SIGTERM handlers that shut it down gracefully.
  Runtime.install({
    shutdownSignals: ['SIGINT', 'SIGTERM'],
    ...(config.metrics.temporalPort !== undefined
      ? { telemetryOptions: { metrics: { prometheus: { bindAddress: `${config.metrics.host}:${config.metrics.temporalPort}` } } } }
      : {}),
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
  log.info(
    {
      temporal: temporal.describe,
      taskQueue: config.temporal.taskQueue,
      deleteTaskQueue: worker.deleteWorker.options.taskQueue,
      deleteTaskQueueRate: config.deleteTaskQueueRate,
      deleteRates: config.activities.deleteRates,
      cognitoEndpoint: config.activities.cognito.endpoint ?? 'AWS',
      auditDir: config.activities.auditDir,
      metricsPort: metricsServer?.port ?? null,
      temporalMetricsPort: config.metrics.temporalPort ?? null,
    },
    'worker started',
  );
  try {
    await running;
  } finally {
    await metricsServer?.close();
    await connection.close();
  }
  log.info('worker stopped');
}

main().catch((err) => {
  if (err instanceof ConfigError || err instanceof TemporalConnectionError) {
    console.error(`rs-cleanup worker: ${err.message}`);
    process.exit(2);
  }
  console.error(err);
  process.exit(1);
});

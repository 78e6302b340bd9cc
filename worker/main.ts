/**
 * The rs-cleanup worker: polls the task queue for cleanup workflows and their
 * delete activities. Configured by environment (see worker/config.ts);
 * shuts down gracefully on SIGTERM and SIGINT (running activities finish).
 */
import { NativeConnection, Runtime } from '@temporalio/worker';
import pino from 'pino';
import { ConfigError, readWorkerConfig } from './config';
import { createCleanupWorker } from './create-worker';

async function main(): Promise<void> {
  const config = readWorkerConfig();
  const log = pino({ level: config.logLevel, base: { service: 'rs-cleanup-worker' } });
  // The worker's Runtime installs SIGINT/SIGTERM handlers that shut it down gracefully.
  Runtime.install({ shutdownSignals: ['SIGINT', 'SIGTERM'] });
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  const worker = await createCleanupWorker({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    activities: config.activities,
    maxConcurrentActivities: config.maxConcurrentActivities,
  });
  log.info(
    {
      address: config.temporal.address,
      namespace: config.temporal.namespace,
      taskQueue: config.temporal.taskQueue,
      deleteRates: config.activities.deleteRates,
      cognitoEndpoint: config.activities.cognito.endpoint ?? 'AWS',
      auditDir: config.activities.auditDir,
    },
    'worker started',
  );
  await worker.run();
  await connection.close();
  log.info('worker stopped');
}

main().catch((err) => {
  if (err instanceof ConfigError) {
    console.error(`rs-cleanup worker: ${err.message}`);
    process.exit(2);
  }
  console.error(err);
  process.exit(1);
});

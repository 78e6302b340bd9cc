/**
 * The CLI's embedded default: with no TEMPORAL_ADDRESS, `run` starts a local
 * Temporal dev server (its database in the project's data directory, so an
 * interrupted run resumes next time) and a worker in the same process.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { NativeConnection } from '@temporalio/worker';
import { startDevServer, type DevServer } from '../common/temporal-dev-server';
import type { ActivityConfig } from '../activities';
import { createCleanupWorker } from '../worker/create-worker';
import { WORKER_DEFAULTS } from '../common/options';

export interface EmbeddedStack {
  address: string;
  namespace: string;
  taskQueue: string;
  stop(): Promise<void>;
}

export function dataDirectory(): string {
  return path.resolve(process.env.RS_CLEANUP_DATA_DIR ?? path.join(__dirname, '..', 'data'));
}

/** One embedded server per data directory: SQLite does not like two. */
function takeLock(dir: string): () => void {
  const lock = path.join(dir, 'temporal.lock');
  try {
    const holder = Number(readFileSync(lock, 'utf8'));
    if (holder && holder !== process.pid && isAlive(holder)) {
      throw new Error(
        `another rs-cleanup process (pid ${holder}) is using the embedded Temporal server in ${dir}; ` +
          'wait for it to finish, or set TEMPORAL_ADDRESS to use a shared server',
      );
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  writeFileSync(lock, String(process.pid));
  return () => rmSync(lock, { force: true });
}

export function embeddedAddressFile(): string {
  return path.join(dataDirectory(), 'temporal.address');
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function startEmbeddedStack(
  activities: ActivityConfig,
  taskQueue: string = WORKER_DEFAULTS.taskQueue,
  withWorker = true,
): Promise<EmbeddedStack> {
  const dir = dataDirectory();
  mkdirSync(dir, { recursive: true });
  const releaseLock = takeLock(dir);
  let server: DevServer | undefined;
  try {
    server = await startDevServer({ dbFile: path.join(dir, 'temporal.db') });
    // Other rs-cleanup commands (status, pause...) find this server here while it runs.
    writeFileSync(embeddedAddressFile(), JSON.stringify({ pid: process.pid, address: server.address }));
    const devServer = server;
    const connection = withWorker ? await NativeConnection.connect({ address: server.address }) : undefined;
    const worker = connection
      ? await createCleanupWorker({ connection, namespace: server.namespace, taskQueue, activities })
      : undefined;
    const running = worker?.run();
    return {
      address: server.address,
      namespace: server.namespace,
      taskQueue,
      async stop() {
        if (worker?.worker.getState() === 'RUNNING') worker.worker.shutdown();
        await running?.catch(() => undefined);
        await connection?.close();
        await devServer.stop();
        rmSync(embeddedAddressFile(), { force: true });
        releaseLock();
      },
    };
  } catch (err) {
    await server?.stop();
    releaseLock();
    throw err;
  }
}

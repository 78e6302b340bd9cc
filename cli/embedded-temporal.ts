/**
 * The CLI's embedded default: with no TEMPORAL_ADDRESS, `run` starts a local
 * Temporal dev server (its database in the project's data directory, so an
 * interrupted run resumes next time) and a worker in the same process.
 *
 * One server per data directory (SQLite takes one writer). The lock file
 * `temporal.lock` records who holds it: the CLI's pid, the server's pid, its
 * port and address. Other rs-cleanup commands find the server there while
 * that CLI runs (status, pause, and `run` of the same input, which attaches).
 * A server whose CLI died (SIGKILL, a crash) is found on the next start by
 * its pid and command line (`temporal server start-dev --db-filename <ours>`)
 * and stopped before a new one starts.
 *
 * Another process that follows a run through this server registers in
 * `followers/<pid>.json`; the holder waits for it before stopping the server
 * at its normal end, so the follower's run is not cut off.
 *
 * At its end the holder does not wait for the server to exit (its frontend
 * drains for a second, whatever it is told): it sends SIGTERM, notes the
 * server's pid in `temporal.stopping` and releases the lock. The next command
 * that starts a server waits for that one to be gone first, as for a server
 * left by a dead CLI, but without calling it left behind. The server's own
 * error output goes to `temporal-server.log`, not to a pipe that would close
 * under it.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { availablePort, devServersOn, processArguments, startDevServer, stopProcess, type DevServer } from '../common/temporal-dev-server';
import type { ActivityConfig } from '../activities';
import type { CleanupWorker } from '../worker/create-worker';
import { CLI_DEFAULTS } from '../common/options';
import { writeFileAtomicallySync } from '../common/files';
import { UNRECORDED, type StartupPhases } from './startup-phases';
import { installWorkerRuntime } from './worker-runtime';

export interface EmbeddedLock {
  cliPid: number;
  dbFile: string;
  /** The holder runs a worker (run, redrive): others may follow a run through its server. */
  worker: boolean;
  serverPid?: number;
  port?: number;
  address?: string;
  namespace?: string;
  /** The Temporal Web UI's base URL, when the server serves it. */
  uiUrl?: string;
}

export interface EmbeddedStack {
  address: string;
  namespace: string;
  taskQueue: string;
  uiUrl?: string;
  /**
   * Stops the worker (in-flight activities finish) and the server. At a
   * normal end (`waitForFollowers`), first waits for other processes that
   * follow a run through this server, unless `signal` is aborted.
   */
  stop(options: { waitForFollowers: boolean; signal?: AbortSignal }): Promise<void>;
}

/** Another live rs-cleanup process holds the embedded server of this data directory. */
export class EmbeddedServerHeld extends Error {
  override name = 'EmbeddedServerHeld';
  constructor(readonly holder: EmbeddedLock, dir: string) {
    super(`rs-cleanup process ${holder.cliPid} runs the embedded Temporal server in ${dir}`);
  }
}

export function dataDirectory(env: NodeJS.ProcessEnv): string {
  return path.resolve(env.RS_CLEANUP_DATA_DIR || path.join(__dirname, '..', 'data'));
}

function lockFile(dir: string): string {
  return path.join(dir, 'temporal.lock');
}

function databaseFile(dir: string): string {
  return path.join(dir, 'temporal.db');
}

function stoppingFile(dir: string): string {
  return path.join(dir, 'temporal.stopping');
}

function followersDir(dir: string): string {
  return path.join(dir, 'followers');
}

/** Alive and not a zombie (a killed child whose parent has not collected it yet). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  return processArguments(pid) !== undefined;
}

export function readLock(dir: string): EmbeddedLock | undefined {
  try {
    const lock = JSON.parse(readFileSync(lockFile(dir), 'utf8')) as EmbeddedLock;
    return typeof lock.cliPid === 'number' ? lock : undefined;
  } catch {
    return undefined;
  }
}

function writeLock(dir: string, lock: EmbeddedLock): void {
  writeFileAtomicallySync(lockFile(dir), JSON.stringify(lock));
}

/** The embedded server another live rs-cleanup process holds in this data directory, with its address once it serves. */
export function heldEmbeddedServer(env: NodeJS.ProcessEnv): EmbeddedLock | undefined {
  return liveHolder(readLock(dataDirectory(env)));
}

/** The lock, when another process that is still alive holds it. */
function liveHolder(lock: EmbeddedLock | undefined): EmbeddedLock | undefined {
  return lock && lock.cliPid !== process.pid && isAlive(lock.cliPid) ? lock : undefined;
}

/**
 * Takes the lock of `dir` for this process. A live holder: EmbeddedServerHeld.
 * A dead holder: its lock is removed. Then every dev server still running on
 * this database (left by a dead CLI) is stopped, so the new one does not
 * meet a locked SQLite file.
 */
async function takeLock(dir: string, worker: boolean, log: (line: string) => void): Promise<() => void> {
  const dbFile = databaseFile(dir);
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(lockFile(dir), JSON.stringify({ cliPid: process.pid, dbFile, worker } satisfies EmbeddedLock), { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (attempt >= 20) throw new Error(`cannot take the lock ${lockFile(dir)}: another rs-cleanup process keeps taking it`);
    }
    const holder = readLock(dir);
    const live = liveHolder(holder);
    if (live) throw new EmbeddedServerHeld(live, dir);
    if (!holder && attempt < 10) {
      // Being written right now by a starting process, or unreadable: look again shortly.
      await new Promise((r) => setTimeout(r, 100));
      continue;
    }
    await stopLeftServers(dir, holder, log);
    rmSync(lockFile(dir), { force: true });
  }
  // A server may also be left from a CLI that died before recording it, or still be stopping after the last command.
  await stopLeftServers(dir, undefined, log);
  rmSync(stoppingFile(dir), { force: true });
  return () => {
    if (readLock(dir)?.cliPid === process.pid) rmSync(lockFile(dir), { force: true });
  };
}

async function stopLeftServers(dir: string, holder: EmbeddedLock | undefined, log: (line: string) => void): Promise<void> {
  const dbFile = databaseFile(dir);
  const stopping = readStoppingPid(dir);
  for (const pid of devServersOn(dbFile, [...(holder?.serverPid ? [holder.serverPid] : []), ...(stopping ? [stopping] : [])])) {
    if (pid === stopping) {
      log(`Waiting for the Temporal dev server of the last rs-cleanup command (pid ${pid}) to finish stopping...`);
    } else {
      log(
        `Stopping the Temporal dev server (pid ${pid}) left running on ${dbFile}` +
          `${holder ? ` by rs-cleanup process ${holder.cliPid}, which ended without stopping it` : ''}...`,
      );
    }
    await stopProcess(pid, CLI_DEFAULTS.staleServerGraceMs);
  }
}

function readStoppingPid(dir: string): number | undefined {
  try {
    const { serverPid } = JSON.parse(readFileSync(stoppingFile(dir), 'utf8')) as { serverPid?: unknown };
    return typeof serverPid === 'number' ? serverPid : undefined;
  } catch {
    return undefined;
  }
}

export async function startEmbeddedStack(options: {
  env: NodeJS.ProcessEnv;
  activities: ActivityConfig;
  taskQueue: string;
  withWorker: boolean;
  log: (line: string) => void;
  /** Serve the Web UI on this port, or on a free one when it is taken; headless when absent. */
  uiPort?: number;
  phases?: StartupPhases;
}): Promise<EmbeddedStack> {
  const phases = options.phases ?? UNRECORDED;
  const dir = dataDirectory(options.env);
  mkdirSync(dir, { recursive: true });
  const releaseLock = await takeLock(dir, options.withWorker, options.log);
  // What the worker needs besides the server (its code, the SDK, the workflow
  // bundle) is made ready while the server starts, in another process: from
  // the moment it is spawned, so that loading modules does not hold up the spawn.
  let preparing: ReturnType<typeof prepareWorker> | undefined;
  const prepare = () => {
    preparing = prepareWorker(phases, options.env);
    preparing.catch(() => undefined); // awaited below; a failed server start must not leave it unhandled
  };
  let server: DevServer | undefined;
  let connection: import('@temporalio/worker').NativeConnection | undefined;
  try {
    const dbFile = databaseFile(dir);
    const uiPort = options.uiPort === undefined ? undefined : await availablePort(options.uiPort);
    server = await phases.time(
      (s) => `Temporal dev server started on ${s.address}${s.uiUrl ? `, Web UI on ${s.uiUrl}` : ''}`,
      () =>
        startDevServer({
          dbFile,
          logFile: path.join(dir, 'temporal-server.log'),
          ...(uiPort === undefined ? {} : { uiPort }),
          ...(options.withWorker ? { onSpawn: prepare } : {}),
          // Ctrl-C reaches the CLI alone: stop() ends the worker first, then the server.
          ownProcessGroup: true,
        }),
    );
    writeLock(dir, {
      cliPid: process.pid,
      dbFile,
      worker: options.withWorker,
      serverPid: server.pid,
      port: server.port,
      address: server.address,
      namespace: server.namespace,
      ...(server.uiUrl ? { uiUrl: server.uiUrl } : {}),
    });
    const devServer = server;
    let worker: CleanupWorker | undefined;
    if (options.withWorker) {
      const prepared = await preparing!;
      const since = performance.now();
      connection = await prepared.sdk.NativeConnection.connect({ address: devServer.address });
      worker = await prepared.createCleanupWorker({
        connection,
        namespace: devServer.namespace,
        taskQueue: options.taskQueue,
        activities: options.activities,
        workflowBundle: prepared.bundle,
      });
      phases.record('worker started', since);
    }
    const workerConnection = connection;
    const running = worker?.run();
    return {
      address: devServer.address,
      namespace: devServer.namespace,
      taskQueue: options.taskQueue,
      ...(devServer.uiUrl ? { uiUrl: devServer.uiUrl } : {}),
      async stop({ waitForFollowers, signal }) {
        if (waitForFollowers) await waitForOtherFollowers(dir, options.log, signal);
        if (worker) {
          await phases.time('worker stopped', async () => {
            worker!.shutdown();
            await running?.catch(() => undefined);
            await workerConnection?.close();
          });
        }
        // It finishes stopping by itself; the next command to start one waits for it (takeLock).
        writeFileSync(stoppingFile(dir), JSON.stringify({ serverPid: devServer.pid }));
        await phases.time('Temporal dev server told to stop', () => devServer.stop({ wait: false }));
        releaseLock();
      },
    };
  } catch (err) {
    await connection?.close().catch(() => undefined);
    await server?.stop();
    releaseLock();
    throw err;
  }
}

/**
 * The worker's modules, the SDK (with the CLI's runtime installed), the
 * workflow code, and the Temporal client the command connects with next.
 */
async function prepareWorker(phases: StartupPhases, env: NodeJS.ProcessEnv) {
  const [sdk, { createCleanupWorker }, { bundle }] = await Promise.all([
    phases.time('Temporal worker SDK loaded', async () => {
      const sdk = await import('@temporalio/worker');
      installWorkerRuntime(sdk);
      return sdk;
    }),
    phases.time('worker code loaded (activities, AWS SDK)', () => import('../worker/create-worker')),
    import('../worker/workflow-bundle').then(({ loadWorkflowBundle }) =>
      phases.time(
        (loaded) => `workflow bundle ${loaded.source === 'cache' ? 'read from the cache' : `built (${loaded.note})`}`,
        () => loadWorkflowBundle({ env }),
      ),
    ),
    phases.time('Temporal client loaded', () => import('@temporalio/client')),
  ]);
  return { sdk, createCleanupWorker, bundle };
}

/**
 * Registers this process as following `workflowId` through the embedded
 * server another process holds; the returned function unregisters it.
 */
export function registerFollower(env: NodeJS.ProcessEnv, workflowId: string): () => void {
  const dir = followersDir(dataDirectory(env));
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${process.pid}.json`);
  writeFileSync(file, JSON.stringify({ pid: process.pid, workflowId }));
  return () => rmSync(file, { force: true });
}

async function waitForOtherFollowers(dir: string, log: (line: string) => void, signal?: AbortSignal): Promise<void> {
  const told = new Set<number>();
  while (!signal?.aborted) {
    const live = liveFollowers(dir);
    if (live.length === 0) return;
    for (const follower of live.filter((f) => !told.has(f.pid))) {
      told.add(follower.pid);
      log(
        `Waiting for rs-cleanup process ${follower.pid}, which follows run ${follower.workflowId} through this embedded server, ` +
          'to see it end (Ctrl-C stops the server now; that run resumes next time).',
      );
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

function liveFollowers(dir: string): { pid: number; workflowId: string }[] {
  const folder = followersDir(dir);
  let names: string[];
  try {
    names = readdirSync(folder);
  } catch {
    return [];
  }
  const live: { pid: number; workflowId: string }[] = [];
  for (const name of names) {
    const file = path.join(folder, name);
    try {
      const follower = JSON.parse(readFileSync(file, 'utf8')) as { pid: number; workflowId: string };
      if (follower.pid !== process.pid && isAlive(follower.pid)) live.push(follower);
      else if (follower.pid !== process.pid) rmSync(file, { force: true });
    } catch {
      rmSync(file, { force: true });
    }
  }
  return live;
}

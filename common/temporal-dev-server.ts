/**
 * Starts and stops a local Temporal dev server (`temporal server start-dev`).
 *
 * Used by the CLI's embedded default and by the test suite. We spawn the
 * server ourselves instead of `TestWorkflowEnvironment.createLocal()` because
 * that downloads a binary (impossible offline) and gives the server only 5 s
 * to come up; a cold SQLite start on a busy 2-core machine can take longer.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';

export interface DevServerOptions {
  /** SQLite file that keeps workflows across restarts; in-memory when absent. */
  dbFile?: string;
  /** gRPC port; a free one when absent. */
  port?: number;
  namespace?: string;
  /** How long to wait for the server to answer; default 60 s. */
  startTimeoutMs?: number;
  /** Extra `--dynamic-config-value` entries, e.g. `frontend.rps=...`. */
  dynamicConfig?: Record<string, string | number | boolean>;
  /** Serve the Temporal Web UI on this port of 127.0.0.1; headless when absent. */
  uiPort?: number;
  /**
   * The server's own error output is appended here instead of piped to this
   * process, so that it can outlive this process: `stop({ wait: false })`.
   */
  logFile?: string;
  /** Called once the process is spawned, before it serves: what the caller does meanwhile runs alongside the server's start. */
  onSpawn?: () => void;
  /**
   * A process group of its own, so a terminal's Ctrl-C reaches only its owner,
   * which stops its worker first and then the server (the CLI's embedded
   * server). In the owner's group, the server went down at the same moment as
   * the worker was told to stop, and the worker's last reports (the activities
   * it cancelled) were retried against it for up to 10 s before the CLI could
   * exit. A server left by an owner that died is found by its database file.
   */
  ownProcessGroup?: boolean;
}

export interface DevServer {
  address: string;
  port: number;
  namespace: string;
  /** The `temporal` process: recorded so a server left by a dead owner can be found and stopped. */
  pid: number;
  /** The Web UI's base URL (http://127.0.0.1:PORT), when it serves one. */
  uiUrl?: string;
  /**
   * SIGTERM, then waits for it to exit (SIGKILL after 10 s). `wait: false`
   * (with `logFile`): returns at once; the server finishes stopping by itself
   * (its frontend drains for a second whatever it is told).
   */
  stop(options?: { wait?: boolean }): Promise<void>;
}

/** The server did not come up; the message says where and why (the end of its own error output). */
export class DevServerStartError extends Error {
  override name = 'DevServerStartError';
}

const repoRoot = path.resolve(__dirname, '..');

/** The path printed by scripts/temporal-bin.sh (which builds the CLI once when needed). */
export function temporalBinary(): string {
  return execFileSync('bash', [path.join(repoRoot, 'scripts', 'temporal-bin.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** `preferred` when nothing listens there on 127.0.0.1, else a free port. */
export async function availablePort(preferred: number): Promise<number> {
  const free = await new Promise<boolean>((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(preferred, '127.0.0.1', () => server.close(() => resolve(true)));
  });
  return free ? preferred : freePort();
}

export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const namespace = options.namespace ?? 'default';
  const port = options.port ?? (await freePort());
  const address = `127.0.0.1:${port}`;
  const args = [
    'server', 'start-dev',
    ...(options.uiPort === undefined ? ['--headless'] : ['--ui-ip', '127.0.0.1', '--ui-port', String(options.uiPort)]),
    '--ip', '127.0.0.1',
    '--port', String(port),
    // The HTTP API and metrics ports default to fixed numbers; two servers on one
    // machine (the demo and the tests) would collide.
    '--http-port', String(await freePort()),
    '--metrics-port', String(await freePort()),
    '--namespace', namespace,
    '--log-level', 'error',
  ];
  if (options.dbFile) args.push('--db-filename', options.dbFile);
  // Task-queue fairness: the deletes queue limits each (account, Region) fairness key (worker/delete-queue-limit.ts).
  for (const [key, value] of Object.entries({ 'matching.enableFairness': true, ...options.dynamicConfig })) {
    args.push('--dynamic-config-value', `${key}=${JSON.stringify(value)}`);
  }

  const log = options.logFile ? openSync(options.logFile, 'a') : undefined;
  const logStart = log === undefined ? 0 : statSync(options.logFile!).size;
  const child = spawn(temporalBinary(), args, { stdio: ['ignore', 'ignore', log ?? 'pipe'], ...(options.ownProcessGroup ? { detached: true } : {}) });
  if (log !== undefined) closeSync(log);
  options.onSpawn?.();
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const errorOutput = () => (options.logFile ? readFileSync(options.logFile).subarray(logStart).toString().slice(-4000) : stderr);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  try {
    await waitUntilServing(address, namespace, options.startTimeoutMs ?? 60_000, exited);
  } catch (err) {
    child.kill('SIGKILL');
    const detail = errorOutput().trim().split('\n').slice(-3).join(' | ');
    throw new DevServerStartError(
      `the Temporal dev server did not start on ${address}${options.dbFile ? ` (database ${options.dbFile})` : ''}: ${(err as Error).message}${detail ? `: ${detail}` : ''}`,
    );
  }
  return {
    address,
    port,
    namespace,
    pid: child.pid!,
    ...(options.uiPort === undefined ? {} : { uiUrl: `http://127.0.0.1:${options.uiPort}` }),
    stop: async ({ wait = true } = {}) => {
      if (wait || !options.logFile) return stopChild(child, exited);
      if (child.exitCode === null) child.kill('SIGTERM');
      child.unref();
    },
  };
}

async function waitUntilServing(
  address: string,
  namespace: string,
  timeoutMs: number,
  exited: Promise<number | null>,
): Promise<void> {
  // Loaded here, not at the top: the CLI's short commands import this module and never start a server.
  const { Connection } = await import('@temporalio/client');
  const deadline = Date.now() + timeoutMs;
  let exitCode: number | null | undefined;
  void exited.then((code) => (exitCode = code));
  for (;;) {
    if (exitCode !== undefined) throw new Error(`the server exited with code ${exitCode}`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1000 });
      try {
        await connection.workflowService.describeNamespace({ namespace });
        return;
      } finally {
        await connection.close();
      }
    } catch (err) {
      if (Date.now() > deadline) throw err;
      // Often: a few tens of milliseconds after the last try (a second of start-up in all).
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

async function stopChild(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (child.exitCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** A process's command line (arguments), or undefined when it is gone or cannot be read. */
export function processArguments(pid: number): string[] | undefined {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (processState(pid) === 'Z') return undefined; // a zombie has exited; only its parent's wait is missing
    return raw.split('\0').filter(Boolean);
  } catch {
    // No /proc (macOS): ask ps.
    try {
      const line = execFileSync('ps', ['-o', 'args=', '-p', String(pid)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
      return line ? line.split(/\s+/) : undefined;
    } catch {
      return undefined;
    }
  }
}

function processState(pid: number): string | undefined {
  try {
    // "pid (comm) S ...": the state follows the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return undefined;
  }
}

/** True when `args` are those of `temporal server start-dev` on the SQLite file `dbFile`. */
function isDevServerOn(args: string[] | undefined, dbFile: string): boolean {
  if (!args) return false;
  const db = args.indexOf('--db-filename');
  return args.includes('start-dev') && args.includes('server') && db >= 0 && args[db + 1] === dbFile;
}

/**
 * The pids of every `temporal server start-dev` on `dbFile` (Linux: from
 * /proc; elsewhere only `candidates` are checked).
 */
export function devServersOn(dbFile: string, candidates: number[] = []): number[] {
  let pids = candidates;
  try {
    pids = [...new Set([...candidates, ...readdirSync('/proc').filter((name) => /^\d+$/.test(name)).map(Number)])];
  } catch {
    // No /proc: only the recorded candidates.
  }
  return pids.filter((pid) => pid !== process.pid && isDevServerOn(processArguments(pid), dbFile));
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone, throws if even SIGKILL does not end it. */
export async function stopProcess(pid: number, graceMs: number): Promise<void> {
  const gone = () => processArguments(pid) === undefined;
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(pid, name);
    } catch {
      // Already gone.
    }
  };
  signal('SIGTERM');
  const killAt = Date.now() + graceMs;
  let killed = false;
  while (!gone()) {
    if (!killed && Date.now() > killAt) {
      signal('SIGKILL');
      killed = true;
    }
    if (killed && Date.now() > killAt + graceMs) throw new Error(`process ${pid} did not exit after SIGTERM and SIGKILL`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

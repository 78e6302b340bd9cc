/** Runs the project's entry points (CLI, worker) as real child processes. */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { WORKER_ENV, WORKER_NODE_OPTIONS } from '../../worker/heap';

export const REPO_ROOT = path.join(__dirname, '..', '..');

export interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], env: NodeJS.ProcessEnv, stdin?: string): Promise<Finished> {
  const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin', 'rs-cleanup.js'), ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  if (stdin !== undefined) child.stdin!.end(stdin);
  else child.stdin!.end();
  return finished(child);
}

export interface StartedCli {
  child: ChildProcess;
  done: Promise<Finished>;
  /** What it wrote to standard error so far. */
  stderr(): string;
  /** Resolves once standard error has matched `pattern`; rejects if the process ends first. */
  stderrMatches(pattern: RegExp): Promise<void>;
}

/** Starts the CLI without waiting for it: for tests that act while it runs. */
export function startCli(args: string[], env: NodeJS.ProcessEnv): StartedCli {
  const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin', 'rs-cleanup.js'), ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = finished(child);
  return {
    child,
    done,
    stderr: () => stderr,
    stderrMatches: (pattern) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (!pattern.test(stderr)) return;
          child.stderr!.off('data', check);
          resolve();
        };
        child.stderr!.on('data', check);
        check();
        void done.then((f) => reject(new Error(`the CLI exited (${f.code}) before its output matched ${pattern}:\n${f.stderr}`)));
      }),
  };
}

export function startWorkerProcess(env: NodeJS.ProcessEnv): { child: ChildProcess; done: Promise<Finished> } {
  // `node --import tsx`, not the tsx wrapper: one process, so a SIGKILL really kills the worker.
  // Started as the Dockerfile starts it: with the worker's heap options and environment.
  const child = spawn(process.execPath, [...WORKER_NODE_OPTIONS, '--import', 'tsx', path.join(REPO_ROOT, 'worker', 'main.ts')], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...WORKER_ENV, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return { child, done: finished(child) };
}

function finished(child: ChildProcess): Promise<Finished> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

/**
 * Runs the CLI in a pseudo-terminal (util-linux `script`), answering its
 * first prompt with `answer`: what an operator at a terminal sees and types.
 */
export function runCliInTerminal(args: string[], env: NodeJS.ProcessEnv, answer: string): Promise<Finished> {
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const command = [process.execPath, path.join(REPO_ROOT, 'bin', 'rs-cleanup.js'), ...args].map(quote).join(' ');
  const child = spawn('script', ['-qec', command, '/dev/null'], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let answered = false;
  child.stdout!.on('data', (d: Buffer) => {
    if (!answered && d.toString().includes(' to go on:')) {
      answered = true;
      child.stdin!.write(`${answer}\n`);
    }
  });
  return finished(child);
}

/**
 * What a command talks to besides its options: where it writes, what it
 * reads, its environment, and the signal that tells it to stop. The process
 * entry (cli/main.ts) passes the real ones; tests pass their own and run a
 * command in-process, capturing its output without spawning a process.
 *
 * A command never calls process.exit, never installs a signal handler and
 * never reads process.env or process.stdin itself: it returns its exit code.
 */
import type { StartupPhases } from './startup-phases';

export interface OutputStream {
  write(text: string): unknown;
  /** A terminal: the progress line redraws itself in place. */
  isTTY?: boolean;
  /** Terminal width, when it is one. */
  columns?: number;
}

export interface InputStream extends NodeJS.ReadableStream {
  /** A terminal an operator can type the confirmation into. */
  isTTY?: boolean;
}

export interface CommandIo {
  stdout: OutputStream;
  stderr: OutputStream;
  stdin: InputStream;
  /** The variables the command reads (TEMPORAL_ADDRESS, RS_CLEANUP_*, COGNITO_ENDPOINT, ...). */
  env: NodeJS.ProcessEnv;
  /**
   * Aborted on Ctrl-C (SIGINT) or SIGTERM: a command that waits stops
   * waiting, cleans up what it started and returns EXIT.interrupted.
   */
  signal: AbortSignal;
  /** The start-up phases, printed with --verbose (cli/startup-phases.ts); absent: not recorded. */
  phases?: StartupPhases;
}

/** The process's own streams and environment; `signal` comes from the entry's SIGINT/SIGTERM handlers. */
export function processIo(signal: AbortSignal): CommandIo {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env, signal };
}

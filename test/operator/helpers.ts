/**
 * Shared setup of the operator-command tests: a cleanup env plus the CLI's
 * environment, and the CLI run in-process (cli/main.ts runCli) with its
 * output captured: the same parsing, commands and exit codes as the binary,
 * without a process to spawn.
 */
import path from 'node:path';
import { beforeEach } from 'vitest';
import { DEFAULT_TEST_CREDENTIALS, type EmulatorConfigPatch } from '../../emulator';
import { useCleanupSuite, type CleanupEnv } from '../helpers/cleanup-env';
import { temporalAddress } from '../helpers/temporal';
import { runCli } from '../../cli/main';
import type { InputStream } from '../../cli/command-io';
import { capturedIo } from '../helpers/cli-io';

export { CapturedOutput, capturedIo } from '../helpers/cli-io';

/** The environment of a CLI that talks to the suite's server, the test's worker and the emulator. */
export function cliEnvironment(env: CleanupEnv): NodeJS.ProcessEnv {
  return {
    TEMPORAL_ADDRESS: temporalAddress(),
    TEMPORAL_TASK_QUEUE: env.worker.taskQueue,
    COGNITO_ENDPOINT: env.emulator.url,
    AWS_ACCESS_KEY_ID: DEFAULT_TEST_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: DEFAULT_TEST_CREDENTIALS.secretAccessKey,
    RS_CLEANUP_DATA_DIR: path.join(env.tmpDir, 'data'),
    RS_CLEANUP_PROTECTED: '',
    RS_CLEANUP_PROTECTED_FILE: '',
  };
}

export interface CliSuite {
  env: CleanupEnv;
  cliEnv: NodeJS.ProcessEnv;
}

/**
 * The usual setup of a describe block that runs the CLI against the suite's
 * server: useCleanupSuite's (emulator quotas off, emptied before each test),
 * with `config` applied before each test. `started` is given the env and the
 * CLI's environment once they exist.
 */
export function useCliSuite(started: (suite: CliSuite) => void, config: EmulatorConfigPatch = {}): void {
  let env: CleanupEnv | undefined;
  useCleanupSuite(
    (cleanupEnv) => {
      env = cleanupEnv;
      started({ env, cliEnv: cliEnvironment(env) });
    },
    { emulator: { quotas: false } },
  );
  beforeEach(async () => {
    await env!.emulator.control.setConfig(config);
  });
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface StartedInProcess {
  done: Promise<CliResult>;
  stderr(): string;
  /** Resolves once standard error has matched `pattern`; rejects if the command ends first. */
  stderrMatches(pattern: RegExp): Promise<void>;
  /** Ctrl-C, as the process entry passes it on. */
  interrupt(): void;
}

/** Starts `rs-cleanup ARGS` in this process without waiting for it. */
export function startCliInProcess(args: string[], env: NodeJS.ProcessEnv, options: { stdin?: InputStream } = {}): StartedInProcess {
  const controller = new AbortController();
  const io = capturedIo({ env, signal: controller.signal, ...(options.stdin ? { stdin: options.stdin } : {}) });
  const done = runCli(args, io).then((code) => ({ code, stdout: io.stdout.text, stderr: io.stderr.text }));
  return {
    done,
    stderr: () => io.stderr.text,
    stderrMatches: async (pattern) => {
      let ended = false;
      void done.then(() => (ended = true));
      for (;;) {
        if (pattern.test(io.stderr.text)) return;
        if (ended) throw new Error(`the command ended before its output matched ${pattern}:\n${io.stderr.text}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    interrupt: () => controller.abort(),
  };
}

/** Runs `rs-cleanup ARGS` in this process and returns its exit code and output. */
export function cliInProcess(args: string[], env: NodeJS.ProcessEnv, options: { stdin?: InputStream } = {}): Promise<CliResult> {
  return startCliInProcess(args, env, options).done;
}

/** The emulator's state without dates, servers sorted: what a restore must bring back. */
export function comparableState(state: { userPools: { id: string; resourceServers: { identifier: string }[]; clients: { clientId: string; allowedOAuthScopes: string[] }[] }[] }) {
  return state.userPools.map((pool) => ({
    id: pool.id,
    resourceServers: [...pool.resourceServers].sort((a, b) => a.identifier.localeCompare(b.identifier)),
    clients: pool.clients.map((c) => ({ clientId: c.clientId, allowedOAuthScopes: c.allowedOAuthScopes })),
  }));
}

/**
 * An end-to-end environment for the cleanup job: the suite's Temporal dev
 * server, a Cognito emulator on a free port, and a worker on a unique task
 * queue running the real activities through the unmodified AWS SDK.
 */
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, beforeEach, expect } from 'vitest';
import { startEmulator, DEFAULT_TEST_CREDENTIALS, type EmulatorOptions, type RunningEmulator } from '../../emulator';
import { closeActivityDeps, createActivities, createActivityDeps, deleteActivities, type ActivityConfig } from '../../activities';
import type { LimiterKey } from '../../cognito/access';
import { DEFAULT_GUARD_MS, type LimiterStart } from '../../cognito/rate-limiter';
import { sha256File } from '../../common/plan-file';
import { cleanupWorkflow, type CleanupInput, type CleanupSummary } from '../../workflows/cleanup';
import { deleteTaskQueueFor, WORKER_TUNING } from '../../worker/create-worker';
import { connectClient, startWorker, type RunningWorker } from './temporal';

export const WORKFLOWS = path.join(__dirname, '..', '..', 'workflows', 'index.ts');

export interface CleanupEnv {
  emulator: RunningEmulator;
  client: Client;
  worker: RunningWorker;
  /** Polls `<worker.taskQueue>-deletes`, where the workflow sends its delete activities. */
  deleteWorker: RunningWorker;
  auditDir: string;
  tmpDir: string;
  config: ActivityConfig;
  /** Every Cognito call's start, as the worker's limiters recorded it (their own clock): what the windows are checked against. */
  starts: RecordedStart[];
  /** Writes `content` to a file in the test's temp dir and returns its FileRef. */
  inputFile(name: string, content: string): Promise<CleanupInput['source']>;
  start(input: Omit<CleanupInput, 'auditDir'>, workflowId?: string): ReturnType<Client['workflow']['start']>;
  run(input: Omit<CleanupInput, 'auditDir'>, workflowId?: string): Promise<CleanupSummary>;
  /** Empties the emulator and turns its quotas, policies and faults off: a clean slate between tests. */
  resetEmulator(): Promise<void>;
  close(): Promise<void>;
}

export function useEmulatorCredentials(): void {
  process.env.AWS_ACCESS_KEY_ID = DEFAULT_TEST_CREDENTIALS.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = DEFAULT_TEST_CREDENTIALS.secretAccessKey;
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
}

export interface CleanupEnvOptions {
  emulator?: EmulatorOptions;
  activities?: Partial<ActivityConfig>;
}

/**
 * The usual setup of a describe block: a cleanup env started before its tests
 * and closed after them, and the emulator emptied (quotas, policies and faults
 * off) before each test. `started` is given the env once it exists.
 */
export function useCleanupSuite(started: (env: CleanupEnv) => void, options: CleanupEnvOptions = {}): void {
  let env: CleanupEnv | undefined;
  beforeAll(async () => {
    env = await startCleanupEnv(options);
    started(env);
  });
  afterAll(() => env?.close());
  beforeEach(() => env!.resetEmulator());
}

export async function startCleanupEnv(options: CleanupEnvOptions = {}): Promise<CleanupEnv> {
  useEmulatorCredentials();
  const emulator = await startEmulator({ port: 0, ...options.emulator });
  const tmpDir = await mkdtemp(path.join(os.tmpdir(), 'rs-cleanup-test-'));
  const auditDir = path.join(tmpDir, 'audit');
  const config: ActivityConfig = {
    deleteRates: { rate: 15, poolRate: 5 },
    readRates: { rate: 20, poolRate: 5 },
    auditDir,
    // Short backoff keeps retry tests quick; the policy's shape is what matters.
    retryBaseDelayMs: 100,
    retryMaxDelayMs: 1_000,
    ...options.activities,
    cognito: { endpoint: emulator.url, ...options.activities?.cognito },
  };
  const starts: RecordedStart[] = [];
  const deps = createActivityDeps(config, { onStart: (key, start) => starts.push({ ...key, ...start }) });
  const activities = createActivities(config, deps);
  const worker = await startWorker({
    workflowsPath: WORKFLOWS,
    activities,
    maxConcurrentActivityTaskExecutions: 200,
    ...WORKER_TUNING,
  });
  const deleteWorker = await startWorker({
    taskQueue: deleteTaskQueueFor(worker.taskQueue),
    activities: deleteActivities(activities),
    maxConcurrentActivityTaskExecutions: 200,
    ...WORKER_TUNING,
  });
  const client = await connectClient();
  let counter = 0;
  const nextId = () => `cleanup-test-${Date.now()}-${++counter}`;

  const env: CleanupEnv = {
    emulator,
    client,
    worker,
    deleteWorker,
    auditDir,
    tmpDir,
    config,
    starts,
    async inputFile(name, content) {
      const file = path.join(tmpDir, name);
      await writeFile(file, content);
      return { path: file, sha256: await sha256File(file) };
    },
    start(input, workflowId = nextId()) {
      return client.workflow.start(cleanupWorkflow, { taskQueue: worker.taskQueue, workflowId, args: [{ ...input, auditDir }] });
    },
    async run(input, workflowId) {
      const handle = await env.start(input, workflowId);
      return handle.result();
    },
    async resetEmulator() {
      await emulator.control.reset();
      await emulator.control.setConfig({ quotas: false, policies: {}, faults: { operations: {}, failNext: [] } });
    },
    async close() {
      await Promise.all([worker.shutdown(), deleteWorker.shutdown()]);
      await closeActivityDeps(deps);
      await client.connection.close();
      await emulator.close();
    },
  };
  return env;
}

/** Reads a JSON Lines file into objects. */
export async function readJsonLines<T = Record<string, unknown>>(file: string): Promise<T[]> {
  const text = await readFile(file, 'utf8');
  return text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as T);
}

/** Parses a manifest CSV (no quoted newlines in our test data) into rows keyed by header. */
export async function readManifestCsv(file: string): Promise<Record<string, string>[]> {
  const { parse } = await import('csv-parse/sync');
  return parse(await readFile(file, 'utf8'), { columns: true }) as Record<string, string>[];
}

export async function listFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort();
}

/** CSV input for the given pairs, with an optional extra `tenant` column. */
export function csvInput(items: { userPoolId: string; identifier: string; tenant?: string }[]): string {
  return ['userPoolId,identifier,tenant', ...items.map((i) => `${i.userPoolId},${i.identifier},${i.tenant ?? ''}`)].join('\n') + '\n';
}

/** A seed of `pools` user pools with `servers` resource servers each, and the matching items. */
export function seedPools(prefix: string, pools: number, servers: number) {
  const userPools = Array.from({ length: pools }, (_, p) => ({
    id: `us-east-1_${prefix}${p}`,
    name: `${prefix}-${p}`,
    resourceServers: Array.from({ length: servers }, (_, s) => ({
      identifier: `https://api.example.com/${prefix}/p${p}/s${s}`,
      name: `server ${p}-${s}`,
      scopes: [{ ScopeName: 'read', ScopeDescription: `read ${p}-${s}` }],
    })),
  }));
  const items = userPools.flatMap((pool) =>
    pool.resourceServers.map((rs) => ({ userPoolId: pool.id, identifier: rs.identifier, tenant: rs.name.replace(/\s/g, '-') })),
  );
  return { userPools, items };
}

/** Every item ended `deleted`, and the emulator saw each of them deleted exactly once; returns its deletes. */
export async function expectDeletedOnce(env: CleanupEnv, summary: CleanupSummary, count: number) {
  expect(summary.counts).toMatchObject({ deleted: count, failed: 0, cancelled: 0, 'already-absent': 0 });
  const deletes = (await env.emulator.control.stats()).deletes;
  expect(deletes).toHaveLength(count);
  expect(new Set(deletes.map((d) => `${d.userPoolId} ${d.identifier}`)).size).toBe(count);
  return deletes;
}

export type RecordedStart = LimiterKey & LimiterStart;

/**
 * Most starts the limiter recorded in any window of `windowMs` ending at a
 * start: the limiter's promise, checked against its own records (no wall clock
 * in the assertion; the default window is the limiter's: a second and its guard).
 */
export function busiestWindow(starts: RecordedStart[], select: (start: RecordedStart) => boolean, windowMs = 1_000 + DEFAULT_GUARD_MS): number {
  const times = starts.filter(select).map((s) => s.at).sort((a, b) => a - b);
  let max = 0;
  let first = 0;
  for (let i = 0; i < times.length; i++) {
    while (times[first]! <= times[i]! - windowMs) first++;
    max = Math.max(max, i - first + 1);
  }
  return max;
}

/** Largest count in any one-second bucket of the emulator's accepted histogram. */
export function busiestSecond(
  perSecond: { categories: Record<string, number | undefined>; pools: Record<string, Record<string, number>> }[],
  select: { category?: string; pool?: string; operation?: string },
): number {
  let max = 0;
  for (const second of perSecond) {
    let n = 0;
    if (select.category) n = second.categories[select.category] ?? 0;
    else if (select.pool && select.operation) n = second.pools[select.pool]?.[select.operation] ?? 0;
    max = Math.max(max, n);
  }
  return max;
}

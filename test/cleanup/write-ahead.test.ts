/**
 * No delete without its audit record: with the audit directory on a full disk
 * (a 1 MiB tmpfs), the run pauses itself with the reason instead of deleting
 * without a durable intent record; after space is freed and the run resumed,
 * every item ends exactly once and no delete turned into `failed`.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupWorkflow, progressQuery, resumeSignal } from '../../workflows/cleanup';
import { csvInput, expectDeletedOnce, readJsonLines, readManifestCsv, seedPools, startCleanupEnv, type CleanupEnv } from '../helpers/cleanup-env';
import { waitFor } from '../helpers/wait-for';

/** Fills a filesystem to the last byte; returns the filler files to remove later. */
function fillUp(dir: string): string[] {
  const files: string[] = [];
  for (const size of [64 * 1024, 4096, 512, 64, 1]) {
    for (let i = 0; ; i++) {
      const file = path.join(dir, `filler-${size}-${i}`);
      try {
        writeFileSync(file, Buffer.alloc(size, 1));
        files.push(file);
      } catch {
        rmSync(file, { force: true });
        break;
      }
    }
  }
  return files;
}

function tryMountTmpfs(dir: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const mountDir = path.join(os.tmpdir(), `rs-cleanup-fulldisk-${process.pid}`);
mkdirSync(mountDir, { recursive: true });
const mounted = tryMountTmpfs(mountDir);

describe.skipIf(!mounted)('write-ahead audit on a full disk (tmpfs)', () => {
  let env: CleanupEnv;
  let slowEnv: CleanupEnv;
  beforeAll(async () => {
    env = await startCleanupEnv({ emulator: { quotas: false } });
    // A worker whose own budget is 2 deletes/s: a run far above it shares tasks, whose items wait in the limiter.
    slowEnv = await startCleanupEnv({ emulator: { quotas: false }, activities: { deleteRates: { rate: 2, poolRate: 1 } } });
  });
  afterAll(async () => {
    await env?.close();
    await slowEnv?.close();
    // Lazy: the worker process keeps the audit file open.
    execFileSync('umount', ['-l', mountDir]);
  });

  it('pauses instead of deleting without an intent record, and finishes exactly once after space is freed', async () => {
    await fullDiskRun(env, 'Full', { rate: 2, poolRate: 1, window: 3 });
  });

  it('the same with items in shared delete tasks (their journal on the full disk)', async () => {
    await fullDiskRun(slowEnv, 'FullShared', { rate: 1_000, poolRate: 1_000, window: 20 });
  });
});

async function fullDiskRun(env: CleanupEnv, prefix: string, limits: { rate: number; poolRate: number; window: number }) {
  const { userPools, items } = seedPools(prefix, 2, 10);
  await env.emulator.control.seed({ userPools });
  const source = await env.inputFile('full.csv', csvInput(items));
  // The run's directory (audit, backups, outcomes, manifest) on the small tmpfs; the input elsewhere.
  const handle = await env.client.workflow.start(cleanupWorkflow, {
    taskQueue: env.worker.taskQueue,
    workflowId: `full-disk-${prefix}-${Date.now()}`,
    args: [{ source, execute: true, limits, auditDir: path.join(mountDir, 'audit') }],
  });
  // The emulator's count, not the run's progress: the items of a shared task report together, when it ends.
  await waitFor(() => env.emulator.control.stats(), (stats) => stats.deletes.length >= 3, 'a few items deleted');

  const fillers = fillUp(mountDir);
  const paused = await waitFor(() => handle.query(progressQuery), (p) => p.paused && p.inFlight === 0, 'the run to pause itself', 90_000);
  expect(paused.pauseReason).toMatch(/audit/i);
  const deletesWhileFull = (await env.emulator.control.stats()).deletes.length;
  await new Promise((r) => setTimeout(r, 3_000));
  expect((await env.emulator.control.stats()).deletes).toHaveLength(deletesWhileFull);

  for (const file of fillers) rmSync(file);
  await handle.signal(resumeSignal);
  const summary = await handle.result();
  const deletes = await expectDeletedOnce(env, summary, items.length);
  // Every server deleted has a durable intent record with its backup, written before the delete.
  const audit = await readJsonLines<Record<string, any>>(summary.auditFile!);
  const intents = audit.filter((r) => r.event === 'intent');
  for (const d of deletes) {
    const intent = intents.find((r) => r.identifier === d.identifier && r.userPoolId === d.userPoolId);
    expect(intent, d.identifier).toBeDefined();
    expect(intent!.backup).toMatchObject({ identifier: d.identifier });
    expect(Date.parse(intent!.time)).toBeLessThanOrEqual(Date.parse(d.time));
  }
  expect(await readManifestCsv(path.join(summary.manifestDir!, 'deleted.csv'))).toHaveLength(items.length);
}

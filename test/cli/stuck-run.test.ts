/**
 * A stuck run: its workflow task fails on every attempt, so Temporal retries
 * it for ever and the workflow never takes a signal or an update. A worker
 * registers, under the cleanup workflow's type name, a workflow that throws a
 * plain Error (test/cli/fixtures/stuck-workflow.ts). `status` must say so with
 * the error and the next step; pause, resume and set-rate refuse it; `run` of
 * the same input does not attach to it; `cancel` terminates it; `terminate`
 * ends it. Every command runs in-process.
 */
import path from 'node:path';
import os from 'node:os';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@temporalio/client';
import { connectClient, startWorker, temporalAddress, type RunningWorker } from '../helpers/temporal';
import { waitFor } from '../helpers/wait-for';
import { csvInput } from '../helpers/cleanup-env';
import { sha256File } from '../../common/plan-file';
import { cliInProcess } from '../operator/helpers';

const STUCK_WORKFLOWS = path.join(__dirname, 'fixtures', 'stuck-workflow.ts');
const STUCK_ERROR = 'Error: the plan cannot be read: simulated bug in the workflow code';

describe('a stuck run', () => {
  let worker: RunningWorker;
  let client: Client;
  let dir: string;
  let cliEnv: NodeJS.ProcessEnv;
  const cli = (...args: string[]) => cliInProcess(args, cliEnv);

  beforeAll(async () => {
    worker = await startWorker({ workflowsPath: STUCK_WORKFLOWS });
    client = await connectClient();
    dir = await mkdtemp(path.join(os.tmpdir(), 'rs-cleanup-stuck-'));
    cliEnv = { TEMPORAL_ADDRESS: temporalAddress(), TEMPORAL_TASK_QUEUE: worker.taskQueue, RS_CLEANUP_DATA_DIR: path.join(dir, 'data') };
  });
  afterAll(async () => {
    await worker?.shutdown();
    await client?.connection.close();
  });

  /** Starts a run on the stuck worker's queue and waits until its workflow task has failed and is being retried. */
  async function startStuck(workflowId: string) {
    const handle = await client.workflow.start('cleanupWorkflow', { taskQueue: worker.taskQueue, workflowId, args: [{}] });
    await waitFor(async () => (await handle.describe()).raw.pendingWorkflowTask?.attempt ?? 0, (attempt) => attempt > 1, 'a second attempt of its workflow task');
  }

  it('status says it is stuck; pause, resume and set-rate refuse it; run of the same input does not attach; cancel terminates it', async () => {
    const input = path.join(dir, 'stuck.csv');
    await writeFile(input, csvInput([{ userPoolId: 'us-east-1_Stuck1', identifier: 'https://api.example.com/stuck' }]));
    const workflowId = `rs-cleanup-${(await sha256File(input)).slice(0, 12)}-execute`;

    await startStuck(workflowId);
    const json = await cli('status', workflowId, '--json');
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ workflowId, status: 'RUNNING', stuck: { error: STUCK_ERROR } });
    expect(JSON.parse(json.stdout).stuck.attempt).toBeGreaterThan(1);
    const text = await cli('status', workflowId);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(new RegExp(`^Run ${workflowId}: running, but STUCK: its workflow task fails on every attempt \\(\\d+ so far, since [0-9T:.Z-]+\\): `));
    expect(text.stdout).toContain(STUCK_ERROR);
    expect(text.stdout).toContain(`end it with: rs-cleanup terminate ${workflowId}\n`);

    for (const args of [['pause', workflowId], ['resume', workflowId], ['set-rate', workflowId, '--rate', '5']]) {
      const refused = await cli(...args);
      expect(refused.code, args.join(' ')).toBe(2);
      expect(refused.stderr, args.join(' ')).toMatch(new RegExp(`^rs-cleanup: run ${workflowId} cannot .*: it is stuck: .*${STUCK_ERROR}.*\\n$`));
    }

    const again = await cli('run', '--input', input, '--execute', '--yes');
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(
      new RegExp(`^rs-cleanup: the same input's run ${workflowId} is already running but stuck: .*rs-cleanup terminate ${workflowId}, then run this command again\\. Nothing new was started\\.\\n$`),
    );
    expect(again.stderr).not.toContain('Attached');
    expect((await client.workflow.count(`WorkflowId = '${workflowId}'`)).count).toBe(1);

    const cancelled = await cli('cancel', workflowId);
    expect(cancelled.code).toBe(0);
    expect(cancelled.stdout).toContain('could not take a cancel: terminated it instead');
    expect((await client.workflow.getHandle(workflowId).describe()).status.name).toBe('TERMINATED');
    const ended = await cli('status', workflowId);
    expect(ended.code).toBe(3);
    expect(ended.stdout).toContain(`Run ${workflowId}: TERMINATED`);
  });

  it('terminate ends a stuck run once; a run that gets stuck while `run` follows it ends the command with the error', async () => {
    const workflowId = `stuck-terminate-${Date.now()}`;
    await startStuck(workflowId);
    const terminated = await cli('terminate', workflowId, '--reason', 'bad input');
    expect(terminated.code).toBe(0);
    expect(terminated.stdout).toContain(`Terminated ${workflowId} (bad input)`);
    expect((await client.workflow.getHandle(workflowId).describe()).status.name).toBe('TERMINATED');
    const twice = await cli('terminate', workflowId);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toBe(`rs-cleanup: run ${workflowId} is not running: it ended TERMINATED; see it with: rs-cleanup status ${workflowId}\n`);

    // `run` starts a new run on the stuck worker's queue: it notices, says so, and leaves it to terminate.
    const input = path.join(dir, 'followed.csv');
    await writeFile(input, csvInput([{ userPoolId: 'us-east-1_Stuck1', identifier: 'https://api.example.com/followed' }]));
    const followed = await cli('run', '--input', input, '--id', `stuck-followed-${Date.now()}`);
    expect(followed.code).toBe(1);
    expect(followed.stderr).toMatch(/rs-cleanup: run stuck-followed-\d+ is stuck: its workflow task fails on every attempt/);
    expect(followed.stderr).toContain(STUCK_ERROR);
  });
});

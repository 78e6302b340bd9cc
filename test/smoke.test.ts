import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@temporalio/client';
import { connectClient, startWorker, type RunningWorker } from './helpers/temporal';
import * as activities from './fixtures/smoke-activities';

describe('smoke: worker + client + dev server', () => {
  let client: Client;
  let worker: RunningWorker;

  beforeAll(async () => {
    client = await connectClient();
    worker = await startWorker({ workflowsPath: path.join(__dirname, 'fixtures/smoke-workflow.ts'), activities });
  });
  afterAll(async () => {
    await worker?.shutdown();
    await client?.connection.close();
  });

  it('runs a workflow that calls one activity and returns its result', async () => {
    const result = await client.workflow.execute('smokeWorkflow', {
      taskQueue: worker.taskQueue,
      workflowId: `smoke-${Date.now()}`,
      args: ['rs-cleanup'],
    });
    expect(result).toBe(`hello, rs-cleanup (from pid ${process.pid})`);
  });
});

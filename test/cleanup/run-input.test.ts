/**
 * Bad workflow input fails the workflow at once with a clear, non-retryable
 * error: it never leaves a workflow task failing and retrying for ever.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { csvInput, seedPools, startCleanupEnv, type CleanupEnv } from '../helpers/cleanup-env';
import { withTimeout } from '../helpers/wait-for';
import type { CleanupInput } from '../../workflows/cleanup';

describe('workflow input validation', () => {
  let env: CleanupEnv;
  beforeAll(async () => {
    env = await startCleanupEnv({ emulator: { quotas: false } });
  });
  afterAll(() => env?.close());

  const cases: [string, Partial<CleanupInput>, RegExp][] = [
    ['a window above the bound', { limits: { window: 1_000 } }, /window must be .* at most 500, got 1000/],
    ['a rate above the bound', { limits: { rate: 20_000 } }, /rate must be .* at most 1000, got 20000/],
    ['an unknown in-use policy', { inUse: 'maybe' as never }, /inUse must be one of skip, delete, fail, got 'maybe'/],
    ['a zero page size', { pageSize: 0 }, /pageSize must be a whole number of at least 1 and at most 1000, got 0/],
    ['a negative item deadline', { itemDeadlineMinutes: -1 }, /itemDeadlineMinutes must be a number above 0/],
  ];

  it.each(cases)('%s fails the workflow with InvalidRunInput', async (_name, patch, message) => {
    const { userPools, items } = seedPools(`Bad${Math.random().toString(36).slice(2, 7)}`, 1, 1);
    await env.emulator.control.seed({ userPools });
    const source = await env.inputFile(`bad-${Date.now()}.csv`, csvInput(items));
    const handle = await env.start({ source, execute: true, ...patch });

    // A wide safety margin only: a workflow task retried for ever would never settle.
    const error = await withTimeout(handle.result().then(() => undefined, (e: unknown) => e), 90_000, 'the workflow to end');
    expect(error).toBeInstanceOf(WorkflowFailedError);
    const cause = (error as WorkflowFailedError).cause;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    expect((cause as ApplicationFailure).type).toBe('InvalidRunInput');
    expect((cause as ApplicationFailure).nonRetryable).toBe(true);
    expect(cause!.message).toMatch(message);
    expect((await handle.describe()).status.name).toBe('FAILED');
    expect((await env.emulator.control.stats()).deletes).toEqual([]);
  });
});

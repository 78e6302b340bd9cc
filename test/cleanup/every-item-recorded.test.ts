/**
 * Whatever stops a run (cancel, the failure threshold, a refusal after the
 * input was prepared), every plan item gets exactly one outcome record in the
 * audit and exactly one manifest line, and summary.json keeps the run's options.
 */
import path from 'node:path';
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { DEFAULT_TEST_CREDENTIALS } from '../../emulator';
import { OUTCOMES } from '../../common/types';
import { cancelSignal, progressQuery, type CleanupSummary } from '../../workflows/cleanup';
import { csvInput, readJsonLines, readManifestCsv, seedPools, useCleanupSuite, type CleanupEnv } from '../helpers/cleanup-env';
import { waitFor } from '../helpers/wait-for';

async function expectEveryItemOnce(summary: CleanupSummary, items: { userPoolId: string; identifier: string }[]) {
  const key = (r: { userPoolId?: string; identifier?: string }) => `${r.userPoolId} ${r.identifier}`;
  const expected = items.map(key).sort();
  const audit = await readJsonLines<Record<string, any>>(summary.auditFile!);
  expect(audit.filter((r) => r.event === 'outcome').map(key).sort()).toEqual(expected);
  const lines: string[] = [];
  for (const outcome of OUTCOMES) lines.push(...(await readManifestCsv(path.join(summary.manifestDir!, `${outcome}.csv`))).map(key));
  expect(lines.sort()).toEqual(expected);
  expect(summary.missing).toBe(0);
}

describe('every item is recorded once, whatever stops the run', () => {
  let env: CleanupEnv;
  useCleanupSuite((started) => (env = started), { emulator: { quotas: false } });

  it('cancel: the items of plan pages never read get their outcome records too', async () => {
    const { userPools, items } = seedPools('Cancel', 12, 24); // 288 items, pages of 20
    await env.emulator.control.seed({ userPools });
    const source = await env.inputFile('cancel.csv', csvInput(items));
    // Slow by configuration: about 2 items a second, so most pages are unread when the cancel comes.
    const handle = await env.start({ source, execute: true, pageSize: 20, limits: { rate: 2, poolRate: 2, window: 2 }, verify: true });
    await waitFor(() => handle.query(progressQuery), (p) => p.done >= 3, 'a few items done');
    await handle.signal(cancelSignal, 'offboarding postponed');
    const summary = await handle.result();

    expect(summary.status).toBe('cancelled');
    expect(summary.counts.cancelled).toBeGreaterThan(200);
    await expectEveryItemOnce(summary, items);
    const json = JSON.parse(await readFile(summary.summaryFile!, 'utf8'));
    expect(json.options).toMatchObject({
      execute: true,
      inUse: 'skip',
      limits: { rate: 2, poolRate: 2, window: 2 },
      verify: true,
      skipMissingPools: false,
      itemDeadlineMinutes: 30,
    });
  });

  it('failure threshold: the rest of the plan is recorded as cancelled with the reason', async () => {
    const { userPools, items } = seedPools('Stop', 6, 20);
    await env.emulator.control.seed({ userPools });
    await env.emulator.control.setConfig({ policies: { [DEFAULT_TEST_CREDENTIALS.accessKeyId]: { deny: ['DeleteResourceServer'] } } });
    const source = await env.inputFile('threshold.csv', csvInput(items));
    const summary = await env.run({ source, execute: true, pageSize: 10, failureThreshold: { count: 2 }, limits: { window: 1 } });

    expect(summary.status).toBe('stopped');
    await expectEveryItemOnce(summary, items);
    const audit = await readJsonLines<Record<string, any>>(summary.auditFile!);
    const cancelled = audit.filter((r) => r.event === 'outcome' && r.outcome === 'cancelled');
    expect(cancelled.length).toBe(items.length - summary.counts.failed);
    expect(cancelled.every((r) => /failure threshold reached/.test(r.reason))).toBe(true);
  });

  it('a refusal after preparation (--max-deletes) still records every item and writes the manifest', async () => {
    const { userPools, items } = seedPools('Refuse', 3, 10);
    await env.emulator.control.seed({ userPools });
    const source = await env.inputFile('refuse.csv', csvInput(items));
    const summary = await env.run({ source, execute: true, maxDeletes: 5, pageSize: 7 });

    expect(summary.status).toBe('refused');
    await expectEveryItemOnce(summary, items);
    expect(summary.counts.cancelled).toBe(items.length);
    expect((await env.emulator.control.stats()).deletes).toEqual([]);
  });
});

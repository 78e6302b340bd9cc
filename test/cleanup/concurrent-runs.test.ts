/**
 * Two runs at once on one worker, with different rates, do not fight: both
 * finish with their items exact (each server deleted once, each manifest exact).
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OUTCOMES } from '../../common/types';
import { pauseUpdate, progressQuery, resumeSignal } from '../../workflows/cleanup';
import { csvInput, readJsonLines, readManifestCsv, seedPools, startCleanupEnv, type CleanupEnv } from '../helpers/cleanup-env';
import { waitFor } from '../helpers/wait-for';

describe('concurrent runs on one worker', () => {
  let env: CleanupEnv;
  beforeAll(async () => {
    env = await startCleanupEnv({ emulator: { quotas: false } });
  });
  afterAll(() => env?.close());

  it('both finish exact, with a pause of one of them in the middle', async () => {
    const a = seedPools('RunA', 3, 10);
    const b = seedPools('RunB', 2, 10);
    await env.emulator.control.seed({ userPools: [...a.userPools, ...b.userPools] });
    const sourceA = await env.inputFile('run-a.csv', csvInput(a.items));
    const sourceB = await env.inputFile('run-b.csv', csvInput(b.items));
    const slow = await env.start({ source: sourceA, execute: true, limits: { rate: 3, poolRate: 1, window: 6 } });
    const fast = await env.start({ source: sourceB, execute: true, limits: { rate: 20, poolRate: 5, window: 10 } });
    await waitFor(() => slow.query(progressQuery), (p) => p.done >= 2, 'the slow run under way');
    // Pausing one run cancels its queued deletes; the other run's must go on untouched.
    await slow.executeUpdate(pauseUpdate, { args: [{}] });
    const fastSummary = await fast.result();
    await slow.signal(resumeSignal);
    const slowSummary = await slow.result();

    const deletes = (await env.emulator.control.stats()).deletes.map((d) => d.identifier);
    expect(new Set(deletes).size).toBe(deletes.length);
    expect(deletes).toHaveLength(a.items.length + b.items.length);
    for (const [summary, items] of [[slowSummary, a.items], [fastSummary, b.items]] as const) {
      expect(summary.counts).toMatchObject({ deleted: items.length, failed: 0, cancelled: 0 });
      const lines: string[] = [];
      for (const outcome of OUTCOMES) lines.push(...(await readManifestCsv(path.join(summary.manifestDir!, `${outcome}.csv`))).map((r) => r.identifier!));
      expect(lines.sort()).toEqual(items.map((i) => i.identifier).sort());
      const audit = await readJsonLines<Record<string, any>>(summary.auditFile!);
      expect(audit.filter((r) => r.event === 'outcome')).toHaveLength(items.length);
    }
  });
});

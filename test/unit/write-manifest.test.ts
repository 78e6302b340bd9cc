/**
 * writeManifest reads the plan and the recorded outcome pages in step, one page
 * at a time (activities/write-manifest.ts), instead of loading every outcome:
 * each item still gets its own recorded outcome, a page that was never recorded
 * makes its items `missing` (and only those), and a key twice in the plan gets
 * each of its outcomes in turn.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeManifest, type ManifestResult } from '../../activities/write-manifest';
import { writePlanFile } from '../../common/plan-file';
import { outcomePageFile, runFiles } from '../../common/run-files';
import type { CleanupItem, ItemResult, Outcome } from '../../common/types';

let tempDir: string;
let runCount = 0;

beforeAll(async () => {
  tempDir = await fs.mkdtemp(path.join(os.tmpdir(), 'rs-cleanup-manifest-'));
});
afterAll(async () => {
  await fs.rm(tempDir, { recursive: true, force: true });
});

const PAGE_SIZE = 4;

function result(item: CleanupItem, outcome: Outcome, reason?: string): ItemResult {
  return { ...item, outcome, attempts: 1, ...(reason ? { reason } : {}), finishedAt: '2026-01-01T00:00:00.000Z' };
}

/** A run directory with the plan and the given outcome pages (page index -> results). */
async function run(items: CleanupItem[], pages: Map<number, ItemResult[]>) {
  const runDir = path.join(tempDir, `run-${++runCount}`);
  const plan = await writePlanFile(path.join(runDir, 'plan.jsonl'), items);
  await fs.mkdir(runFiles(runDir).outcomesDir, { recursive: true });
  for (const [index, results] of pages) {
    await fs.writeFile(outcomePageFile(runDir, index), results.map((r) => JSON.stringify(r)).join('\n') + '\n');
  }
  const manifest: ManifestResult = await new MockActivityEnvironment().run(writeManifest, { runDir, plan: { path: plan.path, sha256: plan.sha256 }, summary: {} });
  const csv = async (outcome: Outcome) => (await fs.readFile(path.join(manifest.manifestDir, `${outcome}.csv`), 'utf8')).trim().split('\n').slice(1);
  return { manifest, csv };
}

function items(count: number): CleanupItem[] {
  return Array.from({ length: count }, (_, i) => ({ userPoolId: `us-east-1_Pool${i % 3}`, identifier: `https://api.example.com/rs/${i}`, row: i + 2 }));
}

/** The plan's pages as the workflow records them: PAGE_SIZE items each, in plan order. */
function pagesOf(results: ItemResult[]): Map<number, ItemResult[]> {
  const pages = new Map<number, ItemResult[]>();
  for (let i = 0; i < results.length; i += PAGE_SIZE) pages.set(i / PAGE_SIZE, results.slice(i, i + PAGE_SIZE));
  return pages;
}

describe('writeManifest', () => {
  it('gives every item its own recorded outcome, page after page', async () => {
    const plan = items(10);
    const outcomes: Outcome[] = ['deleted', 'failed', 'already-absent'];
    const results = plan.map((item, i) => result(item, outcomes[i % 3]!, `reason ${i}`));
    const { manifest, csv } = await run(plan, pagesOf(results));
    expect(manifest).toMatchObject({ total: 10, missing: 0 });
    expect(manifest.counts).toMatchObject({ deleted: 4, failed: 3, 'already-absent': 3 });
    const failed = await csv('failed');
    expect(failed.map((line) => line.split(',')[1])).toEqual(['https://api.example.com/rs/1', 'https://api.example.com/rs/4', 'https://api.example.com/rs/7']);
    expect(failed.map((line) => line.split(',')[3])).toEqual(['reason 1', 'reason 4', 'reason 7']);
  });

  it('counts as missing the items of a page never recorded, and only those', async () => {
    const plan = items(12);
    const pages = pagesOf(plan.map((item) => result(item, 'deleted')));
    pages.delete(1); // items 4-7
    const { manifest, csv } = await run(plan, pages);
    expect(manifest).toMatchObject({ total: 12, missing: 4 });
    expect(manifest.counts).toMatchObject({ deleted: 8, cancelled: 4 });
    expect((await csv('cancelled')).map((line) => line.split(',')[1])).toEqual([4, 5, 6, 7].map((i) => `https://api.example.com/rs/${i}`));
  });

  it('counts as missing an item left out of its page, and finds the pages after it', async () => {
    const plan = items(8);
    const pages = pagesOf(plan.map((item) => result(item, 'deleted')));
    pages.set(0, pages.get(0)!.filter((r) => r.identifier !== 'https://api.example.com/rs/2'));
    const { manifest } = await run(plan, pages);
    expect(manifest).toMatchObject({ total: 8, missing: 1 });
    expect(manifest.counts).toMatchObject({ deleted: 7, cancelled: 1 });
  });

  it('gives a key listed twice (another account, other columns) each of its outcomes in turn', async () => {
    const base = items(3);
    const plan: CleanupItem[] = [...base, { ...base[1]!, row: 9, accountId: '111122223333', extra: { ticket: 'T-9' } }];
    const results = [result(plan[0]!, 'deleted'), result(plan[1]!, 'failed'), result(plan[2]!, 'deleted'), result(plan[3]!, 'skipped-protected')];
    const { manifest, csv } = await run(plan, pagesOf(results));
    expect(manifest).toMatchObject({ total: 4, missing: 0 });
    expect(manifest.counts).toMatchObject({ deleted: 2, failed: 1, 'skipped-protected': 1 });
    const header = (await fs.readFile(path.join(manifest.manifestDir, 'failed.csv'), 'utf8')).split('\n')[0]!;
    expect(header.split(',')).toEqual(expect.arrayContaining(['ticket', 'accountId']));
    expect((await csv('skipped-protected'))[0]).toContain('T-9');
  });
});

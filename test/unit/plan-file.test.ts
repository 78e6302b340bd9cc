import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CleanupItem, FileRef } from '../../common/types';
import { FairPlanWriter } from '../../common/fair-plan-writer';
import { compareFairPositions, InputChangedError, orderFairly, planItems, readPlanPage, sha256File, writePlanFile, type PlanPage } from '../../common/plan-file';

let tempDir: string;
let fileCount = 0;

beforeAll(async () => {
  tempDir = await fs.mkdtemp(path.join(os.tmpdir(), 'rs-cleanup-plan-'));
});
afterAll(async () => {
  await fs.rm(tempDir, { recursive: true, force: true });
});

function planPath(name = 'plan.jsonl'): string {
  return path.join(tempDir, `${++fileCount}`, name);
}

function item(userPoolId: string, identifier: string, row: number, extra?: Record<string, string>): CleanupItem {
  return extra ? { userPoolId, identifier, row, extra } : { userPoolId, identifier, row };
}

function makeItems(count: number, pools = 7): CleanupItem[] {
  return Array.from({ length: count }, (_, index) =>
    item(`us-east-1_Pool${index % pools}`, `https://api.example.com/rs/${index}`, index + 2, { tenant: `Zürich-${index % 3}`, ticket: `T-${index}` }),
  );
}

/** Reads the whole plan page by page, as the workflow does. */
async function readAllPages(plan: FileRef, limit: number): Promise<PlanPage[]> {
  const pages: PlanPage[] = [];
  let offset = 0;
  for (;;) {
    const page = await readPlanPage(plan, offset, limit);
    pages.push(page);
    if (page.done) return pages;
    expect(page.nextOffset).toBeGreaterThan(offset);
    offset = page.nextOffset;
  }
}

/** Byte offset of the start of each line, and of the end of the file. */
function lineStartOffsets(content: Buffer): number[] {
  const offsets = [0];
  for (let index = content.indexOf(0x0a); index !== -1; index = content.indexOf(0x0a, index + 1)) offsets.push(index + 1);
  return offsets;
}

describe('orderFairly', () => {
  it('spreads each pool evenly over the plan, ties by first appearance, items in input order', () => {
    const items = [
      item('us-east-1_A', 'a1', 1),
      item('us-east-1_A', 'a2', 2),
      item('us-east-1_B', 'b1', 3),
      item('us-east-1_A', 'a3', 4),
      item('us-east-1_C', 'c1', 5),
      item('us-east-1_B', 'b2', 6),
      item('us-east-1_A', 'a4', 7),
    ];
    // (k + f) / n, f = 0.5 for the first pool, then 0.118, 0.736 (the golden-ratio sequence):
    // a: .125 .375 .625 .875; b: .059 .559; c: .736
    expect(orderFairly(items).map((entry) => entry.identifier)).toEqual(['b1', 'a1', 'a2', 'b2', 'a3', 'c1', 'a4']);
  });

  it('takes pools of equal size in rounds, one item of each per round', () => {
    const items = ['A', 'B', 'C'].flatMap((pool) => [1, 2].map((n) => item(`us-east-1_${pool}`, `${pool}${n}`, n)));
    expect(orderFairly(items).map((entry) => entry.identifier)).toEqual(['B1', 'A1', 'C1', 'B2', 'A2', 'C2']);
  });

  it("spreads equal small pools' rounds between a big pool's items: every stretch of a window holds about the big pool's share", () => {
    // P1's shape: a pool of 600 next to 30 pools of 20. Rounds of 30 small items in a row would fill a window
    // of 30 deletes and leave the big pool (the one that takes longest) nothing to delete meanwhile.
    const big = Array.from({ length: 600 }, (_, i) => item('us-east-1_Big', `big-${i}`, i + 2));
    const small = Array.from({ length: 30 }, (_, p) => Array.from({ length: 20 }, (_, i) => item(`us-east-1_Small${p}`, `s${p}-${i}`, 0))).flat();
    for (const ordered of [orderFairly([...big, ...small]), orderFairly([...small, ...big])]) {
      for (let start = 0; start + 30 <= ordered.length; start++) {
        const share = ordered.slice(start, start + 30).filter((entry) => entry.userPoolId === 'us-east-1_Big').length;
        expect(share).toBeGreaterThanOrEqual(14);
        expect(share).toBeLessThanOrEqual(16);
      }
    }
  });

  it('keeps a big pool listed first from being left alone at the end of the plan', () => {
    const big = Array.from({ length: 150 }, (_, i) => item('us-east-1_Big', `big-${i}`, i + 2));
    const small = Array.from({ length: 10 }, (_, p) => Array.from({ length: 15 }, (_, i) => item(`us-east-1_Small${p}`, `s${p}-${i}`, 0))).flat();
    const ordered = orderFairly([...big, ...small]);
    // In every stretch of 30 items (the default window), the big pool has at most about half.
    for (let start = 0; start + 30 <= ordered.length; start += 30) {
      const share = ordered.slice(start, start + 30).filter((entry) => entry.userPoolId === 'us-east-1_Big').length;
      expect(share).toBeLessThanOrEqual(16);
    }
    expect(ordered.slice(0, 150).filter((entry) => entry.userPoolId === 'us-east-1_Big').map((e) => e.identifier)).toEqual(
      Array.from({ length: 75 }, (_, i) => `big-${i}`),
    );
  });

  it('keeps every item exactly once and does not change the input array', () => {
    const items = makeItems(1000, 13).concat(makeItems(200, 1).map((entry) => ({ ...entry, userPoolId: 'eu-west-1_Big' })));
    const copy = structuredClone(items);
    const ordered = orderFairly(items);
    expect(items).toEqual(copy);
    expect(ordered).toHaveLength(items.length);
    expect(new Set(ordered)).toEqual(new Set(items));
    // the first 20 items cover all 14 pools
    expect(new Set(ordered.slice(0, 20).map((entry) => entry.userPoolId)).size).toBe(14);
  });

  it('returns an empty list for no items', () => {
    expect(orderFairly([])).toEqual([]);
  });

  it('compares positions exactly, also past the range of safe integer products', () => {
    // Pool 0's offset is a half, pool 1's 0.118: (0 + 0.5) / 1 after (1 + 0.118) / 3
    expect(compareFairPositions(0, 1, 0, 1, 3, 1)).toBeGreaterThan(0);
    expect(compareFairPositions(1, 3, 1, 0, 1, 0)).toBeLessThan(0);
    // Equal sizes and index: the offsets decide (pool 1 at 0.118, pool 0 at 0.5, pool 2 at 0.736).
    expect(compareFairPositions(0, 2, 1, 0, 2, 0)).toBeLessThan(0);
    expect(compareFairPositions(0, 2, 2, 0, 2, 0)).toBeGreaterThan(0);
    expect(compareFairPositions(3, 5, 0, 3, 5, 0)).toBe(0);
    const big = 80_000_000; // products above 2^53
    expect(compareFairPositions(big - 1, big, 0, big - 2, big, 1)).toBeGreaterThan(0);
    expect(compareFairPositions(big / 2, big + 1, 1, big / 2, big + 1, 0)).toBeLessThan(0);
    expect(compareFairPositions(big / 2, big + 1, 0, big / 2, big + 1, 1)).toBeGreaterThan(0);
  });
});

/** Seeded, so a failure can be replayed. */
function randomItems(count: number, pools: number, seed: number): CleanupItem[] {
  let state = seed;
  const next = () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state / 2 ** 32;
  };
  return Array.from({ length: count }, (_, index) => {
    // Skewed pool sizes: a few big pools, many small ones.
    const pool = Math.floor(next() ** 3 * pools);
    return item(`us-east-1_P${pool}`, `https://api.example.com/${index}`, index + 2, next() < 0.3 ? { note: 'é'.repeat(Math.floor(next() * 40)) } : undefined);
  });
}

describe('FairPlanWriter', () => {
  async function writeFairly(items: CleanupItem[], bucketBytes?: number) {
    const writer = await FairPlanWriter.create(planPath(), bucketBytes ? { bucketBytes } : {});
    for (const [index, entry] of items.entries()) {
      writer.add(entry);
      if (index % 97 === 0) await writer.flush();
    }
    return writer.finish();
  }

  it.each([
    ['no items', 0, 1, undefined],
    ['one item', 1, 1, undefined],
    ['one pool', 500, 1, undefined],
    ['skewed pools in one bucket', 3000, 40, undefined],
    ['skewed pools in many small buckets', 3000, 40, 2048],
    ['every item its own pool, one item per bucket', 300, 100_000, 1],
  ])('writes the same bytes as orderFairly and writePlanFile: %s', async (_name, count, pools, bucketBytes) => {
    const items = randomItems(count, pools, count + pools);
    const expected = await writePlanFile(planPath(), orderFairly(items));
    const written = await writeFairly(items, bucketBytes);
    expect({ ...written, path: '' }).toEqual({ ...expected, path: '' });
    expect(await fs.readFile(written.path)).toEqual(await fs.readFile(expected.path));
    // Only the plan is left: the spill and the buckets are gone.
    expect(await fs.readdir(path.dirname(written.path))).toEqual([path.basename(written.path)]);
  });

  it('removes its temporary files when discarded', async () => {
    const target = planPath();
    const writer = await FairPlanWriter.create(target);
    writer.add(item('us-east-1_A', 'a', 1));
    await writer.flush();
    await writer.discard();
    expect(await fs.readdir(path.dirname(target))).toEqual([]);
  });
});

describe('planItems', () => {
  it('yields every item in order, from a plan larger than one read', async () => {
    const items = makeItems(30_000);
    const written = await writePlanFile(planPath(), items);
    expect(written.bytes).toBeGreaterThan(2 * 1024 * 1024);
    const read: CleanupItem[] = [];
    for await (const entry of planItems(written)) read.push(entry);
    expect(read).toEqual(items);
  });

  it('throws InputChangedError before the first item when the plan is not the pinned one', async () => {
    const written = await writePlanFile(planPath(), makeItems(3));
    const read: CleanupItem[] = [];
    const failure = await (async () => {
      for await (const entry of planItems({ ...written, sha256: 'f'.repeat(64) })) read.push(entry);
    })().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(InputChangedError);
    expect(read).toEqual([]);
  });

  it('throws InputChangedError at the end when the plan is changed while it is read', async () => {
    const items = makeItems(30_000);
    const written = await writePlanFile(planPath(), items);
    let count = 0;
    const failure = await (async () => {
      for await (const _entry of planItems(written)) {
        if (++count === 10) await fs.appendFile(written.path, '{"userPoolId":"us-east-1_Evil","identifier":"x","row":99}\n');
      }
    })().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(InputChangedError);
    expect(count).toBe(30_001);
  });
});

describe('sha256File', () => {
  it('returns the hex sha256 of the file content, for files larger than one read', async () => {
    const file = path.join(tempDir, 'hash-me.bin');
    const content = Buffer.alloc(3 * 1024 * 1024 + 17, 'abc');
    await fs.writeFile(file, content);
    expect(await sha256File(file)).toBe(createHash('sha256').update(content).digest('hex'));
  });

  it('rejects for a missing file', async () => {
    await expect(sha256File(path.join(tempDir, 'missing'))).rejects.toThrow(/ENOENT/);
  });
});

describe('writePlanFile', () => {
  it('writes one JSON object per line, creating parent directories, and returns its checksum, count and size', async () => {
    const target = planPath();
    const items = [item('us-east-1_A', 'https://a', 2, { tenant: 'Zürich' }), item('us-east-1_B', 'urn:b', 3)];
    const written = await writePlanFile(target, items);

    const content = await fs.readFile(target);
    expect(content.toString('utf8')).toBe(
      '{"userPoolId":"us-east-1_A","identifier":"https://a","row":2,"extra":{"tenant":"Zürich"}}\n' +
        '{"userPoolId":"us-east-1_B","identifier":"urn:b","row":3}\n',
    );
    expect(written).toEqual({
      path: target,
      sha256: createHash('sha256').update(content).digest('hex'),
      total: 2,
      bytes: content.length,
    });
    expect(written.sha256).toBe(await sha256File(target));
  });

  it('returns an absolute path for a relative one', async () => {
    const relative = path.relative(process.cwd(), planPath('relative.jsonl'));
    const written = await writePlanFile(relative, [item('us-east-1_A', 'a', 1)]);
    expect(path.isAbsolute(written.path)).toBe(true);
    expect(written.path).toBe(path.resolve(relative));
  });

  it('writes the same bytes for the same items, replaces an existing plan and leaves no temporary file', async () => {
    const target = planPath();
    await writePlanFile(target, [item('us-east-1_A', 'old', 1)]);
    const first = await writePlanFile(target, makeItems(2500));
    const second = await writePlanFile(target, makeItems(2500));
    expect(second.sha256).toBe(first.sha256);
    expect(second.total).toBe(2500);
    expect(await fs.readdir(path.dirname(target))).toEqual([path.basename(target)]);
  });

  it('leaves only the known fields of each item in the plan', async () => {
    const target = planPath();
    const withStrayField = { ...item('us-east-1_A', 'a', 1), secret: 'x' } as CleanupItem;
    await writePlanFile(target, [withStrayField]);
    expect(await fs.readFile(target, 'utf8')).toBe('{"userPoolId":"us-east-1_A","identifier":"a","row":1}\n');
  });

  it('writes an empty file for no items', async () => {
    const target = planPath();
    const written = await writePlanFile(target, []);
    expect(written.total).toBe(0);
    expect(written.bytes).toBe(0);
    expect(await readPlanPage(written, 0, 10)).toEqual({ items: [], nextOffset: 0, done: true });
  });
});

describe('readPlanPage', () => {
  it.each([1, 7, 100, 1000, 5000])('reads the whole plan exactly once, in order, with pages of %i', async (limit) => {
    const items = makeItems(1000);
    const written = await writePlanFile(planPath(), items);
    const lineStarts = lineStartOffsets(await fs.readFile(written.path));

    const pages = await readAllPages(written, limit);
    expect(pages.flatMap((page) => page.items)).toEqual(items);
    expect(pages).toHaveLength(Math.ceil(1000 / limit));
    let linesSoFar = 0;
    for (const [index, page] of pages.entries()) {
      expect(page.items.length).toBe(Math.min(limit, 1000 - linesSoFar));
      linesSoFar += page.items.length;
      // nextOffset is the byte offset of the line after the page (multi-byte 'ü' included)
      expect(page.nextOffset).toBe(lineStarts[linesSoFar]);
      expect(page.done).toBe(index === pages.length - 1);
    }
    expect(pages.at(-1)?.nextOffset).toBe(written.bytes);
  });

  it('says done on a page that ends exactly at the end of the file', async () => {
    const written = await writePlanFile(planPath(), makeItems(10));
    const first = await readPlanPage(written, 0, 5);
    expect(first.done).toBe(false);
    const second = await readPlanPage(written, first.nextOffset, 5);
    expect(second.items).toHaveLength(5);
    expect(second.done).toBe(true);
    expect(await readPlanPage(written, second.nextOffset, 5)).toEqual({ items: [], nextOffset: written.bytes, done: true });
  });

  it('reads lines longer than one read chunk', async () => {
    const items = [
      item('us-east-1_A', 'a', 1, { note: 'x'.repeat(150_000) }),
      item('us-east-1_A', 'b', 2, { note: 'é'.repeat(70_000) }),
      item('us-east-1_A', 'c', 3),
    ];
    const written = await writePlanFile(planPath(), items);
    const pages = await readAllPages(written, 1);
    expect(pages.flatMap((page) => page.items)).toEqual(items);
    expect(pages.map((page) => page.nextOffset)).toEqual(lineStartOffsets(await fs.readFile(written.path)).slice(1));
  });

  it('reads a last line that has no newline', async () => {
    const file = planPath();
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, '{"userPoolId":"us-east-1_A","identifier":"a","row":1}\n{"userPoolId":"us-east-1_A","identifier":"b","row":2}');
    const plan = { path: file, sha256: await sha256File(file) };
    const page = await readPlanPage(plan, 0, 10);
    expect(page.items.map((entry) => entry.identifier)).toEqual(['a', 'b']);
    expect(page.done).toBe(true);
    expect(page.nextOffset).toBe((await fs.stat(file)).size);
  });

  it('throws InputChangedError when the plan changed since it was written', async () => {
    const written = await writePlanFile(planPath(), makeItems(20));
    const first = await readPlanPage(written, 0, 5);
    await fs.appendFile(written.path, '{"userPoolId":"us-east-1_Evil","identifier":"x","row":99}\n');
    const changedHash = await sha256File(written.path);

    const failure = await readPlanPage(written, first.nextOffset, 5).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(InputChangedError);
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).name).toBe('InputChangedError');
    expect((failure as Error).message).toBe(
      `the plan file ${written.path} changed since the run started: expected sha256 ${written.sha256}, found ${changedHash}`,
    );
  });

  it('throws InputChangedError for an in-place edit of the same length after pages were read (the remembered check does not hide it)', async () => {
    const written = await writePlanFile(planPath(), makeItems(10));
    const first = await readPlanPage(written, 0, 5);
    expect((await readPlanPage(written, first.nextOffset, 5)).items).toHaveLength(5);
    const content = await fs.readFile(written.path, 'utf8');
    await fs.writeFile(written.path, content.replace('rs/9"', 'rs/X"'));
    await expect(readPlanPage(written, first.nextOffset, 5)).rejects.toThrow(InputChangedError);
    // and a plan replaced by another file under the same name
    await fs.writeFile(`${written.path}.new`, content);
    await fs.rename(`${written.path}.new`, written.path);
    expect((await readPlanPage(written, first.nextOffset, 5)).items).toHaveLength(5);
  });

  it('throws InputChangedError for an in-place edit of the same length', async () => {
    const written = await writePlanFile(planPath(), [item('us-east-1_A', 'aaaa', 1)]);
    await fs.writeFile(written.path, (await fs.readFile(written.path, 'utf8')).replace('aaaa', 'bbbb'));
    await expect(readPlanPage(written, 0, 5)).rejects.toThrow(InputChangedError);
  });

  it('refuses an offset in the middle of a line or past the end, and a page size below 1', async () => {
    const written = await writePlanFile(planPath(), makeItems(3));
    await expect(readPlanPage(written, 5, 1)).rejects.toThrow(`cannot read the plan file ${written.path} at byte offset 5: that offset is in the middle of a line`);
    await expect(readPlanPage(written, written.bytes + 1, 1)).rejects.toThrow(`the file is ${written.bytes} bytes long`);
    await expect(readPlanPage(written, -1, 1)).rejects.toThrow('at byte offset -1');
    await expect(readPlanPage(written, 0, 0)).rejects.toThrow('the page size must be a whole number of at least 1, got 0');
  });

  it('throws a clear error naming the plan when it is missing', async () => {
    const missing = path.join(tempDir, 'gone.jsonl');
    await expect(readPlanPage({ path: missing, sha256: 'x' }, 0, 1)).rejects.toThrow(`cannot open the plan file ${missing}: it does not exist on this worker`);
  });
});

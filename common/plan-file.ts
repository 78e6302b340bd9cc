/**
 * The plan: the validated, deduplicated, fairly ordered input, written as JSON
 * Lines (one CleanupItem per line) so that workers read it in pages by byte
 * offset. A 100,000-row input must never travel whole through workflow
 * history; only a FileRef and an offset do.
 *
 * The plan is pinned by its sha256: every page read checks it, so a plan edited
 * or replaced during a run fails clearly instead of deleting the wrong things.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CleanupItem, FileRef } from './types';

/** What writing a plan produced: the pinned file, its items and its size in bytes. */
export type WrittenPlan = FileRef & { total: number; bytes: number };

export interface PlanPage {
  items: CleanupItem[];
  /** Byte offset just after the last returned line: the offset of the next page. */
  nextOffset: number;
  /** True when the page reaches the end of the plan: there is no next page. */
  done: boolean;
}

/** The plan file no longer has the checksum it had when the run started. */
export class InputChangedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputChangedError';
  }
}

const LINE_FEED = 0x0a;
const READ_CHUNK_BYTES = 64 * 1024;
const HASH_CHUNK_BYTES = 1024 * 1024;
const LINES_PER_WRITE = 1000;

/**
 * Spreads each user pool's items evenly over the whole plan: item k of a pool
 * of n items goes at relative position (k + f) / n, where f, the pool's offset
 * within its spacing, is 0.5 for the first pool and spread over (0, 1) for the
 * others (a golden-ratio sequence over the pools' order); within a pool, input
 * order is kept. Pools of equal size come out in rounds, one item each, but
 * their rounds are spread between the other pools' items instead of coming in
 * one clump: thirty pools of 20 next to a pool of 600 would otherwise put 30
 * small-pool items in a row every 30 items of the big pool, fill the window of
 * deletes with them and leave the big pool nothing to delete meanwhile.
 *
 * Why: Cognito allows 5 deletes/s per pool but 15/s per account. Round-robin
 * alone runs the small pools out first and leaves a big pool alone at the end,
 * held to its 5/s; spread evenly, the big pool runs at its 5/s from start to
 * end while the others use the rest of the account's budget, which is the
 * shortest possible run.
 *
 * In memory, for small lists; FairPlanWriter gives the same order for a plan
 * of any size without holding its items.
 */
export function orderFairly(items: CleanupItem[]): CleanupItem[] {
  const pools = new Map<string, CleanupItem[]>();
  for (const item of items) {
    const pool = pools.get(item.userPoolId);
    if (pool) pool.push(item);
    else pools.set(item.userPoolId, [item]);
  }
  const placed: { item: CleanupItem; index: number; count: number; pool: number }[] = [];
  let poolOrder = 0;
  for (const poolItems of pools.values()) {
    poolItems.forEach((item, index) => placed.push({ item, index, count: poolItems.length, pool: poolOrder }));
    poolOrder += 1;
  }
  placed.sort((a, b) => compareFairPositions(a.index, a.count, a.pool, b.index, b.count, b.pool));
  return placed.map((p) => p.item);
}

/** A pool's offset within its spacing, in 65,536ths: 32,768 (a half) for the first pool, then a golden-ratio sequence. */
const OFFSET_UNITS = 65_536;
function poolOffset(pool: number): number {
  // 40,503 / 65,536 is the golden ratio's fraction: consecutive pools land far apart, and any number of them spread evenly.
  return (pool * 40_503 + OFFSET_UNITS / 2) % OFFSET_UNITS;
}

/**
 * Negative when item `indexA` of pool A (of `countA` items, `poolA`-th to
 * appear) comes before item `indexB` of pool B: compares (k + f) / n exactly,
 * with f = (offset + 0.5) / 65,536, as integers, then the pools' order. Within
 * one pool positions differ, so no further tie-break is needed.
 */
export function compareFairPositions(indexA: number, countA: number, poolA: number, indexB: number, countB: number, poolB: number): number {
  const a = 2 * OFFSET_UNITS * indexA + 2 * poolOffset(poolA) + 1;
  const b = 2 * OFFSET_UNITS * indexB + 2 * poolOffset(poolB) + 1;
  const left = a * countB;
  const right = b * countA;
  if (left <= Number.MAX_SAFE_INTEGER && right <= Number.MAX_SAFE_INTEGER) return left - right || poolA - poolB;
  // Only for pools of hundreds of thousands of items; exact all the same.
  const bigLeft = BigInt(a) * BigInt(countB);
  const bigRight = BigInt(b) * BigInt(countA);
  return bigLeft < bigRight ? -1 : bigLeft > bigRight ? 1 : poolA - poolB;
}

/** The file's sha256 as lowercase hex, read in chunks so large files do not fill memory. */
export async function sha256File(filePath: string): Promise<string> {
  const handle = await fs.promises.open(filePath, 'r');
  try {
    return await sha256OfOpenFile(handle);
  } finally {
    await handle.close();
  }
}

async function sha256OfOpenFile(handle: fs.promises.FileHandle): Promise<string> {
  const hash = createHash('sha256');
  const buffer = Buffer.allocUnsafe(HASH_CHUNK_BYTES);
  let position = 0;
  for (;;) {
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
    if (bytesRead === 0) break;
    hash.update(buffer.subarray(0, bytesRead));
    position += bytesRead;
  }
  return hash.digest('hex');
}

/**
 * Writes the items as JSON Lines, one object per line, in the given order.
 * Creates the parent directories. Atomic: the plan appears whole under its
 * name (temporary file in the same directory, fsync, rename) or not at all,
 * so a worker crash mid-write never leaves a truncated plan behind.
 * Deterministic: the same items give the same bytes and checksum.
 * The returned path is absolute, because workers may run from another directory.
 * Takes an array or any (async) iterable, such as planItems(...) piped
 * through a transformation, so a plan is rewritten without being held.
 */
export async function writePlanFile(filePath: string, items: Iterable<CleanupItem> | AsyncIterable<CleanupItem>): Promise<WrittenPlan> {
  const writer = await AtomicPlanFile.create(filePath);
  try {
    let lines: string[] = [];
    for await (const item of items) {
      lines.push(toPlanLine(item));
      writer.total++;
      if (lines.length >= LINES_PER_WRITE) {
        await writer.write(Buffer.from(lines.join(''), 'utf8'));
        lines = [];
      }
    }
    if (lines.length > 0) await writer.write(Buffer.from(lines.join(''), 'utf8'));
    return await writer.commit();
  } catch (error) {
    await writer.discard();
    throw error;
  }
}

/** A plan file being written: a temporary file next to the final one, hashed as it grows, renamed when complete. */
export class AtomicPlanFile {
  total = 0;
  private bytes = 0;
  private readonly hash = createHash('sha256');

  private constructor(
    private readonly finalPath: string,
    private readonly temporaryPath: string,
    private readonly handle: fs.promises.FileHandle,
  ) {}

  static async create(filePath: string): Promise<AtomicPlanFile> {
    const finalPath = path.resolve(filePath);
    await fs.promises.mkdir(path.dirname(finalPath), { recursive: true });
    const temporaryPath = `${finalPath}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    return new AtomicPlanFile(finalPath, temporaryPath, await fs.promises.open(temporaryPath, 'wx'));
  }

  async write(chunk: Buffer): Promise<void> {
    await this.handle.write(chunk);
    this.hash.update(chunk);
    this.bytes += chunk.length;
  }

  async commit(): Promise<WrittenPlan> {
    await this.handle.sync();
    await this.handle.close();
    await fs.promises.rename(this.temporaryPath, this.finalPath);
    return { path: this.finalPath, sha256: this.hash.digest('hex'), total: this.total, bytes: this.bytes };
  }

  async discard(): Promise<void> {
    await this.handle.close().catch(() => undefined);
    await fs.promises.rm(this.temporaryPath, { force: true });
  }
}

/**
 * Only the CleanupItem fields, in a fixed order, so the plan is the same
 * whatever objects came in. Written field by field (the same text as
 * JSON.stringify of such an object) because a million-row plan calls it a
 * million times.
 */
export function toPlanLine(item: CleanupItem): string {
  let line = `{"userPoolId":${JSON.stringify(item.userPoolId)},"identifier":${JSON.stringify(item.identifier)},"row":${JSON.stringify(item.row)}`;
  if (item.accountId !== undefined) line += `,"accountId":${JSON.stringify(item.accountId)}`;
  if (item.extra !== undefined) line += `,"extra":${JSON.stringify(item.extra)}`;
  if (item.protectedBy !== undefined) line += `,"protectedBy":${JSON.stringify(item.protectedBy)}`;
  if (item.inUseBy !== undefined) line += `,"inUseBy":${JSON.stringify(item.inUseBy)}`;
  return `${line}}\n`;
}

/**
 * Up to `limit` items starting at byte `offset` (0, or a `nextOffset` from the
 * previous page). Verifies the plan's sha256 first and throws InputChangedError
 * when it differs. Reads only the bytes the page needs, apart from the hash.
 */
export async function readPlanPage(plan: FileRef, offset: number, limit: number): Promise<PlanPage> {
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new Error(`cannot read a page of the plan file ${plan.path}: the page size must be a whole number of at least 1, got ${limit}`);
  }
  const handle = await openPlanFile(plan.path);
  try {
    // Hash and page come from the same open file, so a rename over the plan between the two cannot mix versions.
    await verifyPlanChecksum(handle, plan);
    const { size } = await handle.stat();
    await checkOffsetIsALineStart(handle, plan.path, offset, size);
    return await readLinesFrom(handle, plan.path, offset, limit, size);
  } finally {
    await handle.close();
  }
}

/**
 * Every item of the plan in order, read a chunk at a time:
 * `for await (const item of planItems(plan))`. The checksum is verified
 * before the first item (InputChangedError when it differs) and again over
 * the bytes actually read, after the last one: a plan edited while it is
 * read fails the loop at its end, so do nothing irreversible per item
 * before the loop completes.
 */
export async function* planItems(plan: FileRef): AsyncGenerator<CleanupItem> {
  const handle = await openPlanFile(plan.path);
  try {
    await verifyPlanChecksum(handle, plan);
    const hash = createHash('sha256');
    const buffer = Buffer.allocUnsafe(READ_CHUNK_BYTES * 16);
    let partial: Buffer[] = [];
    let position = 0;
    let lineStart = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
      if (bytesRead === 0) break;
      const chunk = buffer.subarray(0, bytesRead);
      hash.update(chunk);
      let start = 0;
      for (let end = chunk.indexOf(LINE_FEED); end !== -1; end = chunk.indexOf(LINE_FEED, start)) {
        const line = partial.length === 0 ? chunk.subarray(start, end) : Buffer.concat([...partial, chunk.subarray(start, end)]);
        partial = [];
        const item = parsePlanLine(line, plan.path, lineStart);
        lineStart = position + end + 1;
        start = end + 1;
        yield item;
      }
      // The buffer is reused for the next read: keep a copy of an unfinished line.
      if (start < chunk.length) partial.push(Buffer.from(chunk.subarray(start)));
      position += bytesRead;
    }
    const rest = Buffer.concat(partial);
    if (rest.length > 0) yield parsePlanLine(rest, plan.path, lineStart);
    const actual = hash.digest('hex');
    if (actual !== plan.sha256) throw planChanged(plan, actual);
  } finally {
    await handle.close();
  }
}

function planChanged(plan: FileRef, actual: string): InputChangedError {
  return new InputChangedError(`the plan file ${plan.path} changed since the run started: expected sha256 ${plan.sha256}, found ${actual}`);
}

/** What a verified plan file looked like, to skip hashing it again while it stays the same file, unchanged. */
interface VerifiedPlanFile {
  sha256: string;
  dev: bigint;
  ino: bigint;
  size: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
}

/** Plans verified by this process, by path; a worker runs few plans, so a small map is enough. */
const verifiedPlanFiles = new Map<string, VerifiedPlanFile>();
const MAX_VERIFIED_PLAN_FILES = 64;

/**
 * Throws InputChangedError unless the open plan has the pinned sha256.
 * Hashing a plan of a million items takes a good part of a second; a run
 * reads thousands of pages, so the result is remembered with the file's
 * identity and change times (device, inode, size, mtime and ctime in
 * nanoseconds): any write or rename over the file changes one of them (ctime
 * cannot be set back), and then the file is hashed again.
 */
async function verifyPlanChecksum(handle: fs.promises.FileHandle, plan: FileRef): Promise<void> {
  const before = await handle.stat({ bigint: true });
  const known = verifiedPlanFiles.get(plan.path);
  if (known !== undefined && known.sha256 === plan.sha256 && sameFile(known, before)) return;
  const actual = await sha256OfOpenFile(handle);
  if (actual !== plan.sha256) {
    verifiedPlanFiles.delete(plan.path);
    throw planChanged(plan, actual);
  }
  const after = await handle.stat({ bigint: true });
  if (!sameFile(identityOf(plan.sha256, before), after)) return; // changed while hashed: verify again next time
  if (verifiedPlanFiles.size >= MAX_VERIFIED_PLAN_FILES) verifiedPlanFiles.delete(verifiedPlanFiles.keys().next().value!);
  verifiedPlanFiles.set(plan.path, identityOf(plan.sha256, before));
}

function identityOf(sha256: string, stats: fs.BigIntStats): VerifiedPlanFile {
  return { sha256, dev: stats.dev, ino: stats.ino, size: stats.size, mtimeNs: stats.mtimeNs, ctimeNs: stats.ctimeNs };
}

function sameFile(known: VerifiedPlanFile, stats: fs.BigIntStats): boolean {
  return (
    known.dev === stats.dev && known.ino === stats.ino && known.size === stats.size && known.mtimeNs === stats.mtimeNs && known.ctimeNs === stats.ctimeNs
  );
}

async function openPlanFile(planPath: string): Promise<fs.promises.FileHandle> {
  try {
    return await fs.promises.open(planPath, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? `it does not exist on this worker (host ${os.hostname()}); was it deleted, or is the audit directory not shared with this worker?`
      : code === 'EACCES' || code === 'EPERM' ? `permission denied on this worker (host ${os.hostname()})`
      : (error as Error).message;
    throw new Error(`cannot open the plan file ${planPath}: ${why}`, { cause: error });
  }
}

/** A page must start where a line starts; any other offset would read half a line as an item. */
async function checkOffsetIsALineStart(handle: fs.promises.FileHandle, planPath: string, offset: number, size: number): Promise<void> {
  if (!Number.isSafeInteger(offset) || offset < 0 || offset > size) {
    throw new Error(`cannot read the plan file ${planPath} at byte offset ${offset}: the file is ${size} bytes long`);
  }
  if (offset === 0) return;
  const previous = Buffer.alloc(1);
  await handle.read(previous, 0, 1, offset - 1);
  if (previous[0] !== LINE_FEED) {
    throw new Error(`cannot read the plan file ${planPath} at byte offset ${offset}: that offset is in the middle of a line, not at the start of one`);
  }
}

async function readLinesFrom(handle: fs.promises.FileHandle, planPath: string, offset: number, limit: number, size: number): Promise<PlanPage> {
  const items: CleanupItem[] = [];
  const buffer = Buffer.allocUnsafe(READ_CHUNK_BYTES);
  /** Bytes of a line that continues in the next chunk. */
  let partialLine: Buffer[] = [];
  let lineStart = offset;
  let position = offset;

  while (items.length < limit && position < size) {
    const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, size - position), position);
    if (bytesRead === 0) break;
    const chunk = buffer.subarray(0, bytesRead);
    let start = 0;
    for (let end = chunk.indexOf(LINE_FEED, start); end !== -1 && items.length < limit; end = chunk.indexOf(LINE_FEED, start)) {
      const line = Buffer.concat([...partialLine, chunk.subarray(start, end)]);
      items.push(parsePlanLine(line, planPath, lineStart));
      partialLine = [];
      lineStart = position + end + 1;
      start = end + 1;
    }
    if (items.length < limit) partialLine.push(Buffer.from(chunk.subarray(start)));
    position += bytesRead;
  }

  // writePlanFile ends every line with '\n'; a last line without one is still a line.
  const rest = Buffer.concat(partialLine);
  if (items.length < limit && rest.length > 0 && lineStart + rest.length === size) {
    items.push(parsePlanLine(rest, planPath, lineStart));
    lineStart = size;
  }
  return { items, nextOffset: lineStart, done: lineStart >= size };
}

function parsePlanLine(line: Buffer, planPath: string, offset: number): CleanupItem {
  let value: unknown;
  try {
    value = JSON.parse(line.toString('utf8'));
  } catch (error) {
    throw new Error(`the plan file ${planPath} has a line at byte offset ${offset} that is not valid JSON: ${(error as Error).message}`);
  }
  if (!isCleanupItem(value)) {
    throw new Error(`the plan file ${planPath} has a line at byte offset ${offset} that is not an item ({"userPoolId", "identifier", "row"}): ${line.toString('utf8').slice(0, 200)}`);
  }
  return value;
}

function isCleanupItem(value: unknown): value is CleanupItem {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return typeof candidate.userPoolId === 'string' && typeof candidate.identifier === 'string' && typeof candidate.row === 'number';
}

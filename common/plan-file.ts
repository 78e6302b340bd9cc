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
 * of n items goes at relative position (k + 0.5) / n; ties go to the pool
 * that appears first in the input; within a pool, input order is kept. Pools
 * of equal size come out round-robin.
 *
 * Why: Cognito allows 5 deletes/s per pool but 15/s per account. Round-robin
 * alone runs the small pools out first and leaves a big pool alone at the end,
 * held to its 5/s; spread evenly, the big pool runs at its 5/s from start to
 * end while the others use the rest of the account's budget, which is the
 * shortest possible run.
 */
export function orderFairly(items: CleanupItem[]): CleanupItem[] {
  const pools = new Map<string, CleanupItem[]>();
  for (const item of items) {
    const pool = pools.get(item.userPoolId);
    if (pool) pool.push(item);
    else pools.set(item.userPoolId, [item]);
  }
  const placed: { item: CleanupItem; position: number; pool: number; index: number }[] = [];
  let poolOrder = 0;
  for (const poolItems of pools.values()) {
    poolItems.forEach((item, index) => placed.push({ item, position: (index + 0.5) / poolItems.length, pool: poolOrder, index }));
    poolOrder += 1;
  }
  placed.sort((a, b) => a.position - b.position || a.pool - b.pool || a.index - b.index);
  return placed.map((p) => p.item);
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
 */
export async function writePlanFile(filePath: string, items: CleanupItem[]): Promise<FileRef & { total: number; bytes: number }> {
  const finalPath = path.resolve(filePath);
  await fs.promises.mkdir(path.dirname(finalPath), { recursive: true });
  const temporaryPath = `${finalPath}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const hash = createHash('sha256');
  let bytes = 0;

  const handle = await fs.promises.open(temporaryPath, 'wx');
  try {
    for (let start = 0; start < items.length; start += LINES_PER_WRITE) {
      const chunk = Buffer.from(items.slice(start, start + LINES_PER_WRITE).map(toPlanLine).join(''), 'utf8');
      await handle.write(chunk);
      hash.update(chunk);
      bytes += chunk.length;
    }
    await handle.sync();
    await handle.close();
    await fs.promises.rename(temporaryPath, finalPath);
  } catch (error) {
    await handle.close().catch(() => undefined);
    await fs.promises.rm(temporaryPath, { force: true });
    throw error;
  }
  return { path: finalPath, sha256: hash.digest('hex'), total: items.length, bytes };
}

/** Only the CleanupItem fields, in a fixed order, so the plan is the same whatever objects came in. */
function toPlanLine(item: CleanupItem): string {
  const line: CleanupItem = { userPoolId: item.userPoolId, identifier: item.identifier, row: item.row };
  if (item.extra !== undefined) line.extra = item.extra;
  if (item.protectedBy !== undefined) line.protectedBy = item.protectedBy;
  if (item.inUseBy !== undefined) line.inUseBy = item.inUseBy;
  return `${JSON.stringify(line)}\n`;
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
    const actual = await sha256OfOpenFile(handle);
    if (actual !== plan.sha256) {
      throw new InputChangedError(`the plan file ${plan.path} changed since the run started: expected sha256 ${plan.sha256}, found ${actual}`);
    }
    const { size } = await handle.stat();
    await checkOffsetIsALineStart(handle, plan.path, offset, size);
    return await readLinesFrom(handle, plan.path, offset, limit, size);
  } finally {
    await handle.close();
  }
}

/**
 * Every item of the plan, for the activities that need all of them at once
 * (the dependency check, the manifest): one read and one checksum, instead of
 * a checksum per page. Throws InputChangedError like readPlanPage.
 */
export async function readWholePlan(plan: FileRef): Promise<CleanupItem[]> {
  const handle = await openPlanFile(plan.path);
  let content: Buffer;
  try {
    content = await handle.readFile();
  } finally {
    await handle.close();
  }
  const actual = createHash('sha256').update(content).digest('hex');
  if (actual !== plan.sha256) {
    throw new InputChangedError(`the plan file ${plan.path} changed since the run started: expected sha256 ${plan.sha256}, found ${actual}`);
  }
  return content
    .toString('utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as CleanupItem);
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

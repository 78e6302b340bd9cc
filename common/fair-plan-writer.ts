/**
 * Writes a plan in fair order (orderFairly: each user pool's items spread
 * evenly over the plan) while the input is still being read, without holding
 * the items: a 10-million-row input needs about 12 bytes per item in memory,
 * plus one bucket of at most 8 MiB of plan lines.
 *
 * How, in three steps:
 * 1. add(): each item's plan line is appended to a spill file, in input order.
 *    Memory keeps per item only its line's length and the next item of the same
 *    pool (one linked list per pool), and per pool its count and list ends.
 * 2. finish(), ranks: each pool's list is already in fair order (item k of n
 *    sits at (k + 0.5) / n, growing with k), so a k-way merge of the lists by
 *    a heap over the pools gives every item its place in the plan (its rank)
 *    without comparing all items with each other.
 * 3. finish(), output: the spill is read once and each line is appended to the
 *    bucket file of its rank range (ranges of about 8 MiB of lines); then each
 *    bucket is read, its lines put in rank order and appended to the plan.
 * The plan bytes are written three times and read twice, all sequentially.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { CleanupItem } from './types';
import { DigestSet } from './digest-set';
import { AtomicPlanFile, compareFairPositions, toPlanLine, type WrittenPlan } from './plan-file';

/** Plan lines per bucket, in bytes: the memory step 3 needs for one bucket at a time. */
const BUCKET_BYTES = 8 * 1024 * 1024;
const SPILL_FLUSH_CHARACTERS = 1024 * 1024;
/** Each bucket file's write buffer: a 1 GiB input makes a few hundred buckets. */
const BUCKET_BUFFER_BYTES = 64 * 1024;
const READ_CHUNK_BYTES = 1024 * 1024;
const NONE = 0xffffffff;
const LINE_FEED = 0x0a;
/** Each bucket record: rank and length (two little-endian uint32), then the line with its line feed. */
const RECORD_HEADER_BYTES = 8;

/** A Uint32Array that grows as values are pushed. */
class GrowingUint32Array {
  values = new Uint32Array(1024);
  length = 0;

  push(value: number): void {
    if (this.length === this.values.length) {
      const bigger = new Uint32Array(this.values.length * 2);
      bigger.set(this.values);
      this.values = bigger;
    }
    this.values[this.length++] = value;
  }
}

export class FairPlanWriter {
  /** Pool ID -> its ordinal + 1, as digests: an input of a million pools must not hold a million strings. */
  private poolOrdinals = new DigestSet();
  private readonly poolCounts = new GrowingUint32Array();
  private readonly poolHeads = new GrowingUint32Array();
  private readonly poolTails = new GrowingUint32Array();
  /** Per item in input order: the next item of the same pool, or NONE. */
  private readonly nextInPool = new GrowingUint32Array();
  /** Per item in input order: its plan line's length in bytes, line feed included. */
  private readonly lineBytes = new GrowingUint32Array();
  private pending: string[] = [];
  private pendingCharacters = 0;
  /** The spill write in progress: the next chunk of input is parsed meanwhile. */
  private writing: Promise<unknown> = Promise.resolve();
  private finished = false;

  private constructor(
    private readonly planPath: string,
    private readonly workDir: string,
    private readonly spill: fs.promises.FileHandle,
    private readonly bucketBytes: number,
  ) {}

  /**
   * Starts a plan that will be written to `planPath`; temporary files go in a
   * directory beside it. `bucketBytes` is for tests, to get many buckets from few items.
   */
  static async create(planPath: string, options: { bucketBytes?: number } = {}): Promise<FairPlanWriter> {
    const finalPath = path.resolve(planPath);
    await fs.promises.mkdir(path.dirname(finalPath), { recursive: true });
    const workDir = `${finalPath}.${process.pid}.${randomBytes(4).toString('hex')}.parts`;
    await fs.promises.mkdir(workDir);
    const spill = await fs.promises.open(path.join(workDir, 'spill.jsonl'), 'wx');
    return new FairPlanWriter(finalPath, workDir, spill, options.bucketBytes ?? BUCKET_BYTES);
  }

  get total(): number {
    return this.lineBytes.length;
  }

  /** Adds an item at the end of its pool; buffered until the next flush. */
  add(item: CleanupItem): void {
    const line = toPlanLine(item);
    const index = this.lineBytes.length;
    if (index === NONE) throw new RangeError('FairPlanWriter: more than 2^32-1 items');
    this.lineBytes.push(Buffer.byteLength(line, 'utf8'));
    this.nextInPool.push(NONE);
    let pool = this.poolOrdinals.addOrGet(item.userPoolId, this.poolCounts.length + 1) - 1;
    if (pool === -1) {
      pool = this.poolCounts.length;
      this.poolCounts.push(0);
      this.poolHeads.push(index);
      this.poolTails.push(index);
    } else {
      this.nextInPool.values[this.poolTails.values[pool]!] = index;
      this.poolTails.values[pool] = index;
    }
    this.poolCounts.values[pool]!++;
    this.pending.push(line);
    this.pendingCharacters += line.length;
  }

  /**
   * Starts writing the buffered lines to the spill file, after the previous
   * write has completed; returns without waiting for this one, so reading
   * the input goes on while the disk works. finish() waits for the last one.
   */
  async flush(): Promise<void> {
    await this.writing;
    if (this.pendingCharacters < SPILL_FLUSH_CHARACTERS) return;
    this.startWrite();
  }

  private startWrite(): void {
    if (this.pending.length === 0) return;
    const text = this.pending.join('');
    this.pending = [];
    this.pendingCharacters = 0;
    this.writing = this.spill.write(text, null, 'utf8');
  }

  /** Orders the items fairly, writes the plan atomically and removes the temporary files. */
  async finish(): Promise<WrittenPlan> {
    this.finished = true;
    try {
      await this.writing;
      this.startWrite();
      await this.writing;
      await this.spill.close();
      // No more items: let the pools' digests go before the memory of the ordering is taken.
      this.poolOrdinals = new DigestSet();
      const ranks = this.rankItems();
      const buckets = this.bucketBoundaries(ranks);
      const bucketFiles = await this.distribute(ranks, buckets);
      const plan = await AtomicPlanFile.create(this.planPath);
      try {
        plan.total = this.total;
        for (let bucket = 0; bucket < bucketFiles.length; bucket++) {
          await this.copyBucketInOrder(bucketFiles[bucket]!, buckets[bucket]!, (buckets[bucket + 1] ?? this.total) - buckets[bucket]!, plan);
        }
        return await plan.commit();
      } catch (error) {
        await plan.discard();
        throw error;
      }
    } finally {
      await this.removeWorkDir();
    }
  }

  /** Drops everything written so far. */
  async discard(): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    await this.writing.catch(() => undefined);
    await this.spill.close().catch(() => undefined);
    await this.removeWorkDir();
  }

  private async removeWorkDir(): Promise<void> {
    await fs.promises.rm(this.workDir, { recursive: true, force: true });
  }

  /** rank[i]: the place in the plan of the i-th item added. A k-way merge of the pools' lists. */
  private rankItems(): Uint32Array {
    const total = this.total;
    const poolCount = this.poolCounts.length;
    const counts = this.poolCounts.values;
    const next = this.nextInPool.values;
    const ranks = new Uint32Array(total);
    // The lists' heads and tails are not needed any more: their arrays become the merge's cursors.
    const current = this.poolHeads.values;
    const taken = this.poolTails.values.fill(0);
    const before = (a: number, b: number) => compareFairPositions(taken[a]!, counts[a]!, a, taken[b]!, counts[b]!, b) < 0;
    const heap = new MinHeap(poolCount, before);
    for (let pool = 0; pool < poolCount; pool++) heap.push(pool);
    for (let rank = 0; rank < total; rank++) {
      const pool = heap.peek();
      const item = current[pool]!;
      ranks[item] = rank;
      taken[pool]!++;
      current[pool] = next[item]!;
      if (current[pool] === NONE) heap.pop();
      else heap.replaceTop(pool);
    }
    return ranks;
  }

  /** The first rank of each bucket: consecutive ranks whose lines add up to about BUCKET_BYTES. */
  private bucketBoundaries(ranks: Uint32Array): number[] {
    const total = this.total;
    // The pools' lists were used up by rankItems: their array holds the lengths by rank now.
    const lengthByRank = this.nextInPool.values;
    const lengths = this.lineBytes.values;
    for (let item = 0; item < total; item++) lengthByRank[ranks[item]!] = lengths[item]!;
    const starts = total > 0 ? [0] : [];
    let bytes = 0;
    for (let rank = 0; rank < total; rank++) {
      const length = lengthByRank[rank]! + RECORD_HEADER_BYTES;
      if (bytes > 0 && bytes + length > this.bucketBytes) {
        starts.push(rank);
        bytes = 0;
      }
      bytes += length;
    }
    return starts;
  }

  /** Reads the spill once, appending each line to its bucket's file. */
  private async distribute(ranks: Uint32Array, bucketStarts: number[]): Promise<string[]> {
    const files = bucketStarts.map((_, bucket) => path.join(this.workDir, `bucket-${bucket}.bin`));
    const writers = await Promise.all(files.map((file) => BufferedFile.open(file)));
    try {
      let item = 0;
      for await (const line of readLines(path.join(this.workDir, 'spill.jsonl'))) {
        const rank = ranks[item++]!;
        const bucket = bucketOf(rank, bucketStarts);
        await writers[bucket]!.writeRecord(rank, line);
      }
    } finally {
      for (const writer of writers) await writer.close();
    }
    return files;
  }

  /** Appends one bucket's lines to the plan in rank order. */
  private async copyBucketInOrder(file: string, firstRank: number, count: number, plan: AtomicPlanFile): Promise<void> {
    const content = await fs.promises.readFile(file);
    const lines: Buffer[] = new Array<Buffer>(count);
    for (let offset = 0; offset < content.length; ) {
      const rank = content.readUInt32LE(offset);
      const length = content.readUInt32LE(offset + 4);
      const start = offset + RECORD_HEADER_BYTES;
      lines[rank - firstRank] = content.subarray(start, start + length);
      offset = start + length;
    }
    let batch: Buffer[] = [];
    let batchBytes = 0;
    for (const line of lines) {
      batch.push(line);
      batchBytes += line.length;
      if (batchBytes >= READ_CHUNK_BYTES) {
        await plan.write(Buffer.concat(batch, batchBytes));
        batch = [];
        batchBytes = 0;
      }
    }
    if (batchBytes > 0) await plan.write(Buffer.concat(batch, batchBytes));
  }
}

function bucketOf(rank: number, starts: number[]): number {
  let low = 0;
  let high = starts.length - 1;
  while (low < high) {
    const middle = (low + high + 1) >> 1;
    if (starts[middle]! <= rank) low = middle;
    else high = middle - 1;
  }
  return low;
}

/** The lines of a file, line feed included, a chunk at a time. */
async function* readLines(file: string): AsyncGenerator<Buffer> {
  const handle = await fs.promises.open(file, 'r');
  try {
    let partial: Buffer | undefined;
    for (;;) {
      const buffer = Buffer.allocUnsafe(READ_CHUNK_BYTES);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      const chunk = partial === undefined ? buffer.subarray(0, bytesRead) : Buffer.concat([partial, buffer.subarray(0, bytesRead)]);
      partial = undefined;
      let start = 0;
      for (let end = chunk.indexOf(LINE_FEED); end !== -1; end = chunk.indexOf(LINE_FEED, start)) {
        yield chunk.subarray(start, end + 1);
        start = end + 1;
      }
      if (start < chunk.length) partial = chunk.subarray(start);
    }
    if (partial !== undefined) throw new Error(`${file}: the last line has no line feed; the spill file was cut short`);
  } finally {
    await handle.close();
  }
}

/** A file written through a buffer of BUCKET_BUFFER_BYTES. */
class BufferedFile {
  private buffer = Buffer.allocUnsafe(BUCKET_BUFFER_BYTES);
  private used = 0;

  private constructor(private readonly handle: fs.promises.FileHandle) {}

  static async open(file: string): Promise<BufferedFile> {
    return new BufferedFile(await fs.promises.open(file, 'wx'));
  }

  async writeRecord(rank: number, line: Buffer): Promise<void> {
    const size = RECORD_HEADER_BYTES + line.length;
    if (this.used + size > this.buffer.length) await this.flush();
    if (size > this.buffer.length) {
      const header = Buffer.allocUnsafe(RECORD_HEADER_BYTES);
      header.writeUInt32LE(rank, 0);
      header.writeUInt32LE(line.length, 4);
      await this.handle.write(Buffer.concat([header, line]));
      return;
    }
    this.buffer.writeUInt32LE(rank, this.used);
    this.buffer.writeUInt32LE(line.length, this.used + 4);
    line.copy(this.buffer, this.used + RECORD_HEADER_BYTES);
    this.used += size;
  }

  async close(): Promise<void> {
    await this.flush();
    await this.handle.close();
  }

  private async flush(): Promise<void> {
    if (this.used === 0) return;
    await this.handle.write(this.buffer.subarray(0, this.used));
    // The write has completed; the buffer can be reused.
    this.used = 0;
  }
}

/** A binary min-heap of small integers under a given order. */
class MinHeap {
  private readonly items: Uint32Array;
  private size = 0;

  constructor(
    capacity: number,
    private readonly before: (a: number, b: number) => boolean,
  ) {
    this.items = new Uint32Array(Math.max(1, capacity));
  }

  push(value: number): void {
    let index = this.size++;
    this.items[index] = value;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (!this.before(this.items[index]!, this.items[parent]!)) break;
      this.swap(index, parent);
      index = parent;
    }
  }

  peek(): number {
    return this.items[0]!;
  }

  pop(): void {
    this.size--;
    if (this.size > 0) {
      this.items[0] = this.items[this.size]!;
      this.siftDown();
    }
  }

  /** The top's order changed (its pool moved on to its next item): move it down to its place. */
  replaceTop(value: number): void {
    this.items[0] = value;
    this.siftDown();
  }

  private siftDown(): void {
    let index = 0;
    for (;;) {
      const left = 2 * index + 1;
      const right = left + 1;
      let smallest = index;
      if (left < this.size && this.before(this.items[left]!, this.items[smallest]!)) smallest = left;
      if (right < this.size && this.before(this.items[right]!, this.items[smallest]!)) smallest = right;
      if (smallest === index) return;
      this.swap(index, smallest);
      index = smallest;
    }
  }

  private swap(a: number, b: number): void {
    const value = this.items[a]!;
    this.items[a] = this.items[b]!;
    this.items[b] = value;
  }
}

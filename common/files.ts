/** Small file helpers shared by the activities and the CLI. */
import { createWriteStream, renameSync, rmSync, writeFileSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { mkdir, open, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { SharedSync } from './shared-sync';

function tempFor(file: string): string {
  return `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
}

/**
 * Writes the file, making its directory only when it is missing: one call
 * instead of a mkdir per file, for the per-item files of a run.
 */
async function writeFileInDirectory(file: string, content: string): Promise<void> {
  try {
    await writeFile(file, content);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, content);
  }
}

/** Temp file + rename: a reader never sees half a file, and a retry simply overwrites. */
export async function writeFileAtomically(file: string, content: string): Promise<void> {
  const temp = tempFor(file);
  try {
    await writeFileInDirectory(temp, content);
    await rename(temp, file);
  } catch (err) {
    // A full disk must not also keep the half-written temp file.
    await rm(temp, { force: true }).catch(() => undefined);
    throw err;
  }
}

/** writeFileAtomically for synchronous callers (a lock file, the workflow bundle's cache). */
export function writeFileAtomicallySync(file: string, content: string | Buffer): void {
  const temp = tempFor(file);
  try {
    writeFileSync(temp, content);
    renameSync(temp, file);
  } finally {
    rmSync(temp, { force: true });
  }
}

const directorySyncs = new Map<string, SharedSync>();

/**
 * A marker file whose existence is what counts (its content is for a person):
 * written in place, no temp file, and its directory entry made durable by an
 * fsync of the directory that concurrent callers in that directory share.
 */
export async function createFileDurably(file: string, content: string): Promise<void> {
  const directory = path.dirname(file);
  await writeFileInDirectory(file, content);
  let syncs = directorySyncs.get(directory);
  if (syncs === undefined) {
    syncs = new SharedSync(() => syncDirectory(directory));
    directorySyncs.set(directory, syncs);
  }
  try {
    await syncs.request();
  } finally {
    if (syncs.idle && directorySyncs.get(directory) === syncs) directorySyncs.delete(directory);
  }
}

async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * A file written a line at a time: waits while the stream's buffer is full (a
 * slow disk must not pile a whole manifest up in memory), and keeps a stream
 * error (a full disk) for the writer to throw, never an 'error' event that
 * would crash the worker.
 */
export class LineFile {
  private readonly out: WriteStream;
  private error: unknown;

  constructor(readonly file: string) {
    this.out = createWriteStream(file).on('error', (err) => void (this.error ??= err));
  }

  async write(line: string): Promise<void> {
    if (this.error) throw this.error;
    if (!this.out.write(line) && !this.out.closed) await Promise.race([once(this.out, 'drain'), once(this.out, 'close')]);
  }

  /** Ends the file; throws what went wrong while writing it. */
  async close(): Promise<void> {
    if (!this.out.closed) {
      this.out.end();
      await Promise.race([once(this.out, 'finish'), once(this.out, 'close')]);
    }
    if (this.error) throw this.error;
  }
}

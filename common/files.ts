/** Small file helpers shared by the activities and the CLI. */
import { mkdir, open, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

function tempFor(file: string): string {
  return `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
}

/** Temp file + rename: a reader never sees half a file, and a retry simply overwrites. */
export async function writeFileAtomically(file: string, content: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const temp = tempFor(file);
  try {
    await writeFile(temp, content);
    await rename(temp, file);
  } catch (err) {
    // A full disk must not also keep the half-written temp file.
    await rm(temp, { force: true }).catch(() => undefined);
    throw err;
  }
}

/**
 * Like writeFileAtomically, and on the disk itself before it returns: the
 * content is fsync'd before the rename, and the directory after it.
 */
export async function writeFileDurably(file: string, content: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const temp = tempFor(file);
  try {
    const handle = await open(temp, 'w');
    try {
      await handle.writeFile(content);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  } catch (err) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw err;
  }
  const dir = await open(path.dirname(file), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

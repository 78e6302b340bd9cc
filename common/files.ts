/** Small file helpers shared by the activities and the CLI. */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** Temp file + rename: a reader never sees half a file, and a retry simply overwrites. */
export async function writeFileAtomically(file: string, content: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  await writeFile(temp, content);
  await rename(temp, file);
}

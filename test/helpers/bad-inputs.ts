/**
 * The corpus of bad and tricky-but-valid inputs (test/fixtures/bad-inputs/):
 * its manifest, expectations.json, with every entry's path on disk. Entries
 * with `generate` (FIFOs, sockets, devices, links, files too large to commit)
 * are made in a work directory; call `cleanup` when done.
 *
 * Used by test/unit/bad-inputs.test.ts (every entry through the reader) and
 * meant for an end-to-end test as well: run each entry with
 * `rs-cleanup run --input PATH --execute --yes`; every refused entry must exit
 * 2 with nothing deleted, every accepted one must run exactly its pairs.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';

export const BAD_INPUTS_DIR = path.join(__dirname, '..', 'fixtures', 'bad-inputs');

type Generator =
  | { kind: 'fifo' }
  | { kind: 'socket' }
  | { kind: 'directory' }
  | { kind: 'device'; path: string }
  /** target: an absolute path, a name of another entry, or `fixture:` and a file of the corpus. */
  | { kind: 'symlink'; target: string }
  | { kind: 'sparse'; bytes: number }
  | { kind: 'text'; parts: (string | { repeat: string; times: number })[] };

export type BadInputExpectation =
  | {
      refused: true;
      /** Refused before any row is read (the reader throws); otherwise the reader reports errors. */
      unreadable?: true;
      /** A regular expression that the reason of at least one error (or the thrown message) matches. */
      messageMatches: string;
      row?: number;
      column?: string;
    }
  | { accepted: [string, string][] };

export interface BadInput {
  name: string;
  path: string;
  expectation: BadInputExpectation;
}

interface Manifest {
  about: string;
  inputs: Record<string, BadInputExpectation & { generate?: Generator }>;
}

/** Reads the manifest and makes the generated entries under `workDir` (which must exist). */
export async function loadBadInputs(workDir: string): Promise<{ inputs: BadInput[]; cleanup: () => Promise<void> }> {
  const manifest = JSON.parse(await fs.readFile(path.join(BAD_INPUTS_DIR, 'expectations.json'), 'utf8')) as Manifest;
  const servers: net.Server[] = [];
  const inputs: BadInput[] = [];
  const generatedPath = (name: string) => path.join(workDir, name);
  for (const [name, entry] of Object.entries(manifest.inputs)) {
    const { generate, ...expectation } = entry;
    if (generate === undefined) {
      inputs.push({ name, path: path.join(BAD_INPUTS_DIR, name), expectation });
      continue;
    }
    const file = generate.kind === 'device' ? generate.path : generatedPath(name);
    await fs.mkdir(path.dirname(file), { recursive: true });
    switch (generate.kind) {
      case 'fifo':
        execFileSync('mkfifo', [file]);
        break;
      case 'socket':
        servers.push(await listenOnSocket(file));
        break;
      case 'directory':
        await fs.mkdir(file, { recursive: true });
        break;
      case 'device':
        break;
      case 'symlink': {
        const target = generate.target.startsWith('fixture:')
          ? path.join(BAD_INPUTS_DIR, generate.target.slice('fixture:'.length))
          : path.isAbsolute(generate.target) || !(generate.target in manifest.inputs)
            ? generate.target
            : generatedPath(generate.target);
        await fs.symlink(target, file);
        break;
      }
      case 'sparse': {
        const handle = await fs.open(file, 'w');
        await handle.truncate(generate.bytes);
        await handle.close();
        break;
      }
      case 'text':
        await fs.writeFile(file, generate.parts.map((part) => (typeof part === 'string' ? part : part.repeat.repeat(part.times))).join(''));
        break;
    }
    inputs.push({ name, path: file, expectation });
  }
  return {
    inputs,
    async cleanup() {
      await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
    },
  };
}

function listenOnSocket(file: string): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer((socket) => socket.end());
    server.once('error', reject);
    server.listen(file, () => resolve(server));
  });
}

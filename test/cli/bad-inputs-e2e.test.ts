/**
 * The corpus of bad and tricky-but-valid inputs (test/fixtures/bad-inputs/),
 * end to end: each file through `rs-cleanup run --input FILE --execute --yes`
 * against the suite's Temporal server, a worker and the emulator.
 *
 * - A refused file exits 2 with messages that name the file (and its row and
 *   column where the corpus says so), one line each, no control characters,
 *   and deletes nothing: the emulator holds servers the files name, and its
 *   delete log stays empty.
 * - An accepted file deletes exactly its pairs: its run's manifest lists
 *   exactly them, and the emulator's delete log holds each server once.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBadInputs, type BadInput } from '../helpers/bad-inputs';
import { readManifestCsv, startCleanupEnv, type CleanupEnv } from '../helpers/cleanup-env';
import { cliEnvironment, cliInProcess } from '../operator/helpers';

// Control characters (but the line breaks between messages), DEL, C1 controls and bidi controls.
const UNSAFE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

type Pair = [string, string];

describe('the corpus of bad inputs, end to end', () => {
  let env: CleanupEnv;
  let cliEnv: NodeJS.ProcessEnv;
  let workDir: string;
  let corpus: Awaited<ReturnType<typeof loadBadInputs>>;
  let accepted: { input: BadInput; pairs: Pair[] }[];
  let refused: BadInput[];

  beforeAll(async () => {
    env = await startCleanupEnv({ emulator: { quotas: false } });
    cliEnv = cliEnvironment(env);
    workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'rs-cleanup-bad-inputs-e2e-'));
    corpus = await loadBadInputs(workDir);
    accepted = corpus.inputs.flatMap((input) => ('accepted' in input.expectation ? [{ input, pairs: input.expectation.accepted }] : []));
    refused = corpus.inputs.filter((input) => 'refused' in input.expectation);
  });
  afterAll(async () => {
    await corpus?.cleanup();
    await fs.rm(workDir, { recursive: true, force: true });
    await env?.close();
  });

  /** Every server any accepted file names, so that a refused file that slipped through would find something to delete. */
  async function seedEveryNamedServer(): Promise<Pair[]> {
    const byPool = new Map<string, Set<string>>();
    for (const { pairs } of accepted) for (const [pool, identifier] of pairs) byPool.set(pool, (byPool.get(pool) ?? new Set()).add(identifier));
    await env.emulator.control.reset();
    await env.emulator.control.setConfig({ maxResourceServersPerPool: 1_000 });
    await env.emulator.control.seed({
      userPools: [...byPool].map(([id, identifiers]) => ({
        id,
        name: id.replace(/[^\w]/g, '-'),
        resourceServers: [...identifiers].map((identifier) => ({ identifier, name: 'corpus' })),
      })),
    });
    return [...byPool].flatMap(([pool, identifiers]) => [...identifiers].map((identifier): Pair => [pool, identifier]));
  }

  it('refuses every bad file with exit 2, one readable line per problem naming the file, and deletes nothing', { timeout: 600_000 }, async () => {
    await seedEveryNamedServer();
    expect(refused.length).toBeGreaterThanOrEqual(60);
    for (const input of refused) {
      const { expectation } = input;
      if (!('refused' in expectation)) continue;
      const result = await cliInProcess(['run', '--input', input.path, '--execute', '--yes', '--audit-dir', env.auditDir], cliEnv);
      const where = `${input.name}: ${result.stderr.slice(0, 400)}`;
      expect(result.code, where).toBe(2);
      expect(result.stderr, where).not.toMatch(UNSAFE);
      const lines = result.stderr.split('\n').filter(Boolean);
      expect(lines.length, where).toBeGreaterThan(0);
      for (const line of lines) expect(line.length, where).toBeLessThanOrEqual(400);
      // The corpus anchors the reason alone; the CLI prints it after 'file:row: column ...:'.
      expect(result.stderr, where).toMatch(new RegExp(expectation.messageMatches.replace(/^\^/, '').replace(/\$$/, ''), 'm'));
      expect(result.stderr, where).toContain(input.path);
      // Row 0 is the file as a whole: no row number to show.
      if (expectation.row) expect(result.stderr, where).toContain(`${input.path}:${expectation.row}:`);
      if (expectation.column !== undefined && expectation.column.length <= 40) expect(result.stderr, where).toContain(expectation.column);
      expect(result.stdout, where).toBe('');
    }
    const stats = await env.emulator.control.stats();
    expect(stats.deletes).toEqual([]);
    expect(stats.operations.DeleteResourceServer ?? {}).toEqual({});
  });

  it('deletes exactly the pairs of every accepted file, each server once', { timeout: 600_000 }, async () => {
    const seeded = await seedEveryNamedServer();
    expect(accepted.length).toBeGreaterThanOrEqual(15);
    // A few runs at a time: each is a workflow of its own on the test's worker.
    const queue = [...accepted];
    const runOne = async () => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        const { input, pairs } = next;
        const result = await cliInProcess(['run', '--input', input.path, '--execute', '--yes', '--json', '--audit-dir', env.auditDir], cliEnv);
        const where = `${input.name}: ${result.stderr.slice(0, 400)}`;
        expect(result.code, where).toBe(0);
        const summary = JSON.parse(result.stdout);
        // Files naming the same servers (a symlink to another entry, the same pairs in another format)
        // find them deleted already: together the runs delete each server once, each run lists exactly its pairs.
        const listed = [
          ...(await readManifestCsv(path.join(summary.manifestDir, 'deleted.csv'))),
          ...(await readManifestCsv(path.join(summary.manifestDir, 'already-absent.csv'))),
        ].map((row): Pair => [row.userPoolId!, row.identifier!]);
        expect(sortPairs(listed), where).toEqual(sortPairs(uniquePairs(pairs)));
        expect(summary.total, where).toBe(uniquePairs(pairs).length);
      }
    };
    await Promise.all([runOne(), runOne(), runOne(), runOne()]);

    const deletes = (await env.emulator.control.stats()).deletes.map((d): Pair => [d.userPoolId, d.identifier]);
    expect(sortPairs(deletes)).toEqual(sortPairs(seeded));
  });
});

function uniquePairs(pairs: Pair[]): Pair[] {
  return [...new Map(pairs.map((pair) => [pair.join('\n'), pair])).values()];
}

function sortPairs(pairs: Pair[]): string[] {
  return pairs.map((pair) => pair.join(' ')).sort();
}

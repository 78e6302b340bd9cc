/**
 * Every input of the corpus (test/fixtures/bad-inputs/expectations.json)
 * through the reader: refused ones give one-line messages naming file, row and
 * column, without control characters and at most 300 characters long; accepted
 * ones give exactly their pairs and no error.
 */
import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatInputError, readInputFile } from '../../common/input-reader';
import { BAD_INPUTS_DIR, loadBadInputs, type BadInput } from '../helpers/bad-inputs';

// Control characters, DEL, C1 controls, line/paragraph separators and bidi controls must never reach a terminal.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

let workDir: string;
let corpus: Awaited<ReturnType<typeof loadBadInputs>>;

beforeAll(async () => {
  workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'rs-cleanup-bad-inputs-'));
  corpus = await loadBadInputs(workDir);
});
afterAll(async () => {
  await corpus.cleanup();
  await fs.rm(workDir, { recursive: true, force: true });
});

describe('the corpus of bad inputs', () => {
  it('has at least 60 entries, refused and accepted ones, each with a regular expression that compiles', async () => {
    const { inputs, cleanup } = await loadBadInputs(await fs.mkdtemp(path.join(os.tmpdir(), 'rs-cleanup-bad-inputs-count-')));
    await cleanup();
    expect(inputs.length).toBeGreaterThanOrEqual(60);
    expect(inputs.filter((input) => 'accepted' in input.expectation).length).toBeGreaterThanOrEqual(15);
    for (const { expectation } of inputs) if ('refused' in expectation) expect(() => new RegExp(expectation.messageMatches)).not.toThrow();
  });

  // One test per input, named for it; the names are read now, the files made in beforeAll.
  const manifest = JSON.parse(readFileSync(path.join(BAD_INPUTS_DIR, 'expectations.json'), 'utf8')) as { inputs: Record<string, unknown> };

  it.each(Object.keys(manifest.inputs))('%s', async (name) => {
    const input = corpus.inputs.find((entry) => entry.name === name)!;
    await checkInput(input);
  });
});

async function checkInput(input: BadInput): Promise<void> {
  const { expectation } = input;
  if ('accepted' in expectation) {
    const parsed = await readInputFile(input.path);
    expect(parsed.errors.map(formatInputError)).toEqual([]);
    expect(parsed.unusable).toBe(false);
    expect(parsed.items.map((item) => [item.userPoolId, item.identifier])).toEqual(expectation.accepted);
    return;
  }
  const pattern = new RegExp(expectation.messageMatches);
  if (expectation.unreadable) {
    const failure = await readInputFile(input.path).then(
      () => undefined,
      (error: unknown) => error as Error,
    );
    expect(failure, 'the reader should refuse the file before reading rows').toBeInstanceOf(Error);
    const message = failure!.message;
    expect(message).toMatch(pattern);
    expect(message).toContain(input.path);
    expect(message).not.toMatch(UNSAFE);
    expect(message.split('\n')).toHaveLength(1);
    return;
  }
  const parsed = await readInputFile(input.path);
  expect(parsed.errors.length, 'a refused input must have at least one error').toBeGreaterThan(0);
  const matching = parsed.errors.filter((error) => pattern.test(error.reason));
  expect(matching.map((error) => error.reason), `no error matches ${pattern}; errors: ${parsed.errors.map(formatInputError).join(' | ')}`).not.toEqual([]);
  if (expectation.row !== undefined || expectation.column !== undefined) {
    expect(matching).toContainEqual(
      expect.objectContaining({
        ...(expectation.row !== undefined ? { row: expectation.row } : {}),
        ...(expectation.column !== undefined ? { column: expectation.column } : {}),
      }),
    );
  }
  for (const error of parsed.errors) {
    const line = formatInputError(error);
    expect(line.startsWith(error.row > 0 ? `${input.path}:${error.row}:` : `${input.path}:`), line).toBe(true);
    if (error.column !== undefined) expect(line).toContain(` column '${error.column}': `);
    expect(line, 'no control characters').not.toMatch(UNSAFE);
    expect(line.length, line).toBeLessThanOrEqual(300);
  }
}

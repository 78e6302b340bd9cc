import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrepareInput } from '../../activities/prepare-input';
import { formatInputError, readInputFile } from '../../common/input-reader';
import { KEPT_ERRORS, loadPreparedPlan, preparedPlanKey, validateInputToPlan, PREPARED_FILE } from '../../common/input-to-plan';
import { orderFairly, sha256File, writePlanFile } from '../../common/plan-file';
import { runDirectory, runFiles } from '../../common/run-files';

let tempDir: string;
let count = 0;

beforeAll(async () => {
  tempDir = await fs.mkdtemp(path.join(os.tmpdir(), 'rs-cleanup-to-plan-'));
});
afterAll(async () => {
  await fs.rm(tempDir, { recursive: true, force: true });
});

const dir = (name: string) => path.join(tempDir, `${++count}-${name}`);

async function writeInput(name: string, content: string): Promise<string> {
  const file = path.join(tempDir, `${++count}-${name}`);
  await fs.writeFile(file, content);
  return file;
}

/** 40 rows over 3 pools, 2 duplicates, 150 invalid rows, and a protected pool. */
function mixedCsv(): string {
  const lines = ['userPoolId,identifier,ticket'];
  for (let index = 0; index < 40; index++) lines.push(`us-east-1_Pool${index % 3},https://api.example.com/${index},T-${index}`);
  lines.push('us-east-1_Pool0,https://api.example.com/0,again', 'us-east-1_Pool1,https://api.example.com/1,again');
  for (let index = 0; index < 150; index++) lines.push(`us-east-1_Pool1,bad id ${index},x`);
  return `${lines.join('\n')}\n`;
}

describe('validateInputToPlan', () => {
  it('writes the fairly ordered plan, every error and duplicate to the reports, and the result, in one pass', async () => {
    const input = await writeInput('mixed.csv', mixedCsv());
    const out = dir('out');
    const prepared = await validateInputToPlan({ path: input }, out, { protect: ['us-east-1_Pool2'] });

    const files = runFiles(out);
    // The same plan as reading into memory, protecting, ordering and writing.
    const parsed = await readInputFile(input);
    const expected = await writePlanFile(
      dir('expected.jsonl'),
      orderFairly(parsed.items.map((item) => (item.userPoolId === 'us-east-1_Pool2' ? { ...item, protectedBy: 'us-east-1_Pool2' } : item))),
    );
    expect(prepared.plan).toEqual({ path: files.plan, sha256: expected.sha256 });
    expect(await sha256File(files.plan)).toBe(expected.sha256);

    expect(prepared).toMatchObject({
      total: 40,
      rowsRead: 192,
      protectedCount: 13,
      duplicates: 2,
      errors: 150,
      invalid: 150,
      unusable: false,
      invalidReport: files.invalidRows,
      duplicatesReport: files.duplicates,
      input: { path: input, sha256: await sha256File(input), format: 'csv', encoding: 'utf-8' },
      key: preparedPlanKey(await sha256File(input), undefined, ['us-east-1_Pool2']),
    });
    // The first errors in the result, all of them in the report, one formatted line each.
    expect(prepared.firstErrors).toHaveLength(KEPT_ERRORS);
    const report = (await fs.readFile(files.invalidRows, 'utf8')).trimEnd().split('\n');
    expect(report).toHaveLength(150);
    expect(report[0]).toBe(formatInputError(prepared.firstErrors[0]!));
    expect(report[149]).toBe(`${input}:193: column 'identifier': "bad id 149" contains a space at position 4, which Cognito does not allow`);
    expect(await fs.readFile(files.duplicates, 'utf8')).toBe('userPoolId,identifier,row,firstRow\nus-east-1_Pool0,https://api.example.com/0,42,2\nus-east-1_Pool1,https://api.example.com/1,43,3\n');
    expect(JSON.parse(await fs.readFile(path.join(out, PREPARED_FILE), 'utf8'))).toEqual(prepared);
    // Nothing else: no spill or bucket left behind.
    expect((await fs.readdir(out)).sort()).toEqual(['duplicates.csv', 'invalid-rows.txt', 'plan.jsonl', 'prepared.json']);
  });

  it('writes an empty plan for a file that cannot be used, and says so', async () => {
    const input = await writeInput('binary.csv', `userPoolId,identifier\nus-east-1_A,a\nus-east-1_A,b\u0000\n`);
    const out = dir('out');
    const prepared = await validateInputToPlan({ path: input }, out);
    expect(prepared).toMatchObject({ total: 0, unusable: true, errors: 1, protectedCount: 0 });
    expect(await fs.readFile(prepared.plan.path, 'utf8')).toBe('');
  });

  it('leaves no report of an earlier attempt in the same directory', async () => {
    const out = dir('out');
    await validateInputToPlan({ path: await writeInput('bad.csv', 'userPoolId,identifier\nus-east-1_A,bad id\nus-east-1_A,a\nus-east-1_A,a\n') }, out);
    const prepared = await validateInputToPlan({ path: await writeInput('good.csv', 'userPoolId,identifier\nus-east-1_A,a\n') }, out);
    expect(prepared.invalidReport).toBeUndefined();
    expect(prepared.duplicatesReport).toBeUndefined();
    expect((await fs.readdir(out)).sort()).toEqual(['plan.jsonl', 'prepared.json']);
  });

  it('throws for a file that cannot be read, and for a bad protection pattern', async () => {
    await expect(validateInputToPlan({ path: path.join(tempDir, 'missing.csv') }, dir('out'))).rejects.toThrow("cannot read input file");
    const input = await writeInput('ok.csv', 'userPoolId,identifier\nus-east-1_A,a\n');
    await expect(validateInputToPlan({ path: input }, dir('out'), { protect: [','] })).rejects.toThrow('has an empty part');
  });
});

describe('loadPreparedPlan', () => {
  it('returns the prepared plan only for the same key and an unchanged plan', async () => {
    const input = await writeInput('in.csv', 'userPoolId,identifier\nus-east-1_A,a\n');
    const out = dir('out');
    const prepared = await validateInputToPlan({ path: input }, out);
    expect(await loadPreparedPlan(out, prepared.key)).toEqual(prepared);
    expect(await loadPreparedPlan(out, prepared.key, prepared.plan.sha256)).toEqual(prepared);
    expect(await loadPreparedPlan(out, prepared.key, 'f'.repeat(64))).toBeUndefined();
    expect(await loadPreparedPlan(out, preparedPlanKey(prepared.input.sha256, 'csv', []))).toBeUndefined();
    expect(await loadPreparedPlan(out, preparedPlanKey(prepared.input.sha256, undefined, ['us-east-1_A']))).toBeUndefined();
    await fs.appendFile(prepared.plan.path, '{"userPoolId":"us-east-1_Evil","identifier":"x","row":9}\n');
    expect(await loadPreparedPlan(out, prepared.key)).toBeUndefined();
    expect(await loadPreparedPlan(dir('nothing-here'), prepared.key)).toBeUndefined();
  });
});

describe('prepareInput', () => {
  const auditDir = () => dir('audit');
  const request = (source: Parameters<ReturnType<typeof createPrepareInput>>[0]['source'], extra: { protect?: string[] } = {}) => ({
    workflowId: 'wf',
    firstRunId: `run-${++count}`,
    source,
    ...extra,
  });

  it("moves the CLI's staged plan into the run directory after checking both checksums", async () => {
    const input = await writeInput('in.csv', 'userPoolId,identifier\nus-east-1_A,a\nus-east-1_A,bad id\nus-east-1_B,b\nus-east-1_B,b\n');
    const staging = dir('staging');
    const staged = await validateInputToPlan({ path: input }, staging);
    const audit = auditDir();
    const req = request({ path: input, sha256: staged.input.sha256, prepared: { dir: staging, planSha256: staged.plan.sha256 } });

    const result = await createPrepareInput(audit)(req);

    const runDir = runDirectory(audit, 'wf', req.firstRunId);
    const files = runFiles(runDir);
    expect(result).toEqual({
      runDir,
      plan: { path: files.plan, sha256: staged.plan.sha256 },
      total: 2,
      duplicates: 1,
      invalid: 1,
      invalidSample: staged.firstErrors,
      invalidReport: files.invalidRows,
      protectedCount: 0,
    });
    expect(await sha256File(files.plan)).toBe(staged.plan.sha256);
    expect((await fs.readdir(runDir)).sort()).toEqual(['duplicates.csv', 'invalid-rows.txt', 'plan.jsonl', 'prepared.json']);
    await expect(fs.stat(staging)).rejects.toThrow(/ENOENT/);
    // A retry of the activity finds the plan in the run directory.
    expect(await createPrepareInput(audit)(req)).toEqual(result);
  });

  it('prepares the plan itself when the staged one is not there (another machine), with the same bytes', async () => {
    const input = await writeInput('in.csv', 'userPoolId,identifier\nus-east-1_A,a\nus-east-1_B,b\nus-east-1_A,c\n');
    const staged = await validateInputToPlan({ path: input }, dir('elsewhere'));
    const missing = path.join(tempDir, 'not-on-this-worker');
    const result = await createPrepareInput(auditDir())(request({ path: input, sha256: staged.input.sha256, prepared: { dir: missing, planSha256: staged.plan.sha256 } }));
    expect(result.plan.sha256).toBe(staged.plan.sha256);
    expect(result.total).toBe(3);
  });

  it('does not adopt a staged plan made for other protection patterns or with another checksum', async () => {
    const input = await writeInput('in.csv', 'userPoolId,identifier\nus-east-1_A,a\nus-east-1_B,b\n');
    const staging = dir('staging');
    const staged = await validateInputToPlan({ path: input }, staging);
    const protectedRun = await createPrepareInput(auditDir())(
      request({ path: input, sha256: staged.input.sha256, prepared: { dir: staging, planSha256: staged.plan.sha256 } }, { protect: ['us-east-1_A'] }),
    );
    expect(protectedRun.protectedCount).toBe(1);
    expect(protectedRun.plan.sha256).not.toBe(staged.plan.sha256);
    const otherPin = await createPrepareInput(auditDir())(request({ path: input, sha256: staged.input.sha256, prepared: { dir: staging, planSha256: 'f'.repeat(64) } }));
    expect(otherPin.plan.sha256).toBe(staged.plan.sha256);
    // The staging directory was not taken by either.
    expect((await fs.readdir(staging)).sort()).toEqual(['plan.jsonl', 'prepared.json']);
  });

  it('fails without retries when the input changed since the run was started, staged plan or not', async () => {
    const input = await writeInput('in.csv', 'userPoolId,identifier\nus-east-1_A,a\n');
    const staging = dir('staging');
    const staged = await validateInputToPlan({ path: input }, staging);
    await fs.appendFile(input, 'us-east-1_A,b\n');
    for (const prepared of [{ dir: staging, planSha256: staged.plan.sha256 }, undefined]) {
      const failure = await createPrepareInput(auditDir())(request({ path: input, sha256: staged.input.sha256, ...(prepared ? { prepared } : {}) })).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(ApplicationFailure);
      expect(failure).toMatchObject({ type: 'InputChangedError', nonRetryable: true });
      expect((failure as Error).message).toContain(`the input ${input} changed since the run was started: expected sha256 ${staged.input.sha256}`);
    }
  });

  it('reads the file as it is now when nothing pins it (a schedule)', async () => {
    const input = await writeInput('in.csv', 'userPoolId,identifier\nus-east-1_A,a\n');
    expect((await createPrepareInput(auditDir())(request({ path: input }))).total).toBe(1);
  });

  it('fails without retries for an input that is not a regular file, and for a bad protection pattern', async () => {
    const fifo = path.join(tempDir, `${++count}-fifo.csv`);
    execFileSync('mkfifo', [fifo]);
    await expect(createPrepareInput(auditDir())(request({ path: fifo }))).rejects.toMatchObject({ type: 'InputUnreadable', nonRetryable: true });
    const input = await writeInput('in.csv', 'userPoolId,identifier\nus-east-1_A,a\n');
    await expect(createPrepareInput(auditDir())(request({ path: input }, { protect: [','] }))).rejects.toMatchObject({ type: 'InvalidProtectionPattern' });
  });
});

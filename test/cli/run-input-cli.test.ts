/**
 * Where `run` reads its items from, as an operator gives them: standard input
 * (`--input -`, saved into the run's input file first) and `--pair`, whose
 * refusal names the pair as typed and writes no file.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { csvInput, seedPools, startCleanupEnv, type CleanupEnv } from '../helpers/cleanup-env';
import { cliEnvironment, cliInProcess } from '../operator/helpers';

describe('run: standard input and --pair', () => {
  let env: CleanupEnv;
  let cliEnv: NodeJS.ProcessEnv;
  beforeAll(async () => {
    env = await startCleanupEnv({ emulator: { quotas: false } });
    cliEnv = cliEnvironment(env);
  });
  afterAll(() => env?.close());
  beforeEach(async () => {
    await env.emulator.control.reset();
  });

  it('--input - reads the list from standard input, saves it, and runs it', async () => {
    const { userPools, items } = seedPools('Stdin', 1, 3);
    await env.emulator.control.seed({ userPools });

    const result = await cliInProcess(['run', '--input', '-', '--json', '--audit-dir', env.auditDir], cliEnv, { stdin: Readable.from([csvInput(items)]) });

    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).counts['would-delete']).toBe(3);
    const saved = readdirSync(path.join(cliEnv.RS_CLEANUP_DATA_DIR!, 'inputs')).filter((name) => name.startsWith('stdin-'));
    expect(saved).toHaveLength(1);
  });

  it('--input - with nothing on standard input is refused: the file is empty', async () => {
    const result = await cliInProcess(['run', '--input', '-', '--execute', '--yes', '--audit-dir', env.auditDir], cliEnv, { stdin: Readable.from([]) });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('the file is empty');
    expect((await env.emulator.control.stats()).operations).toEqual({});
  });

  it('a refused --pair is named as typed, in one line, and no pairs file is written', async () => {
    const inputs = path.join(cliEnv.RS_CLEANUP_DATA_DIR!, 'inputs');
    const before = existsSync(inputs) ? readdirSync(inputs).filter((name) => name.startsWith('pairs-')) : [];

    const result = await cliInProcess(['run', '--pair', 'us-east-1_AbC123,two words', '--pair', 'no-comma-here', '--execute', '--yes'], cliEnv);

    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain("--pair 'us-east-1_AbC123,two words'");
    expect(result.stderr).toContain("--pair 'no-comma-here'");
    expect(result.stderr).toContain('nothing was deleted');
    const after = existsSync(inputs) ? readdirSync(inputs).filter((name) => name.startsWith('pairs-')) : [];
    expect(after).toEqual(before);
    expect((await env.emulator.control.stats()).operations).toEqual({});
  });
});

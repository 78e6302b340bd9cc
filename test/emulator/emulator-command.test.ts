/**
 * `rs-cleanup emulator`, in-process: the port answers, the printed exports
 * work with the SDK, the sample CSV is a valid input of every seeded server,
 * the pool ids are stable, and a bad seed file or a busy port is a one-line
 * usage error.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CognitoIdentityProviderClient, ListResourceServersCommand, ListUserPoolsCommand } from '@aws-sdk/client-cognito-identity-provider';
import { readInputFile } from '../../common/input-reader';
import { emulatorCommand, type EmulatorCommandOptions } from '../../cli/emulator';
import { UsageError } from '../../cli/exit-codes';
import { startEmulator } from '../../emulator';
import { sleep } from './helpers';
import { capturedIo } from '../helpers/cli-io';

/** Starts the command and waits (with a wide safety margin) until it has printed everything. */
async function startCommand(options: EmulatorCommandOptions) {
  const abort = new AbortController();
  const io = capturedIo({ env: process.env, signal: abort.signal });
  const { stdout, stderr } = io;
  const done = emulatorCommand(options, io);
  let failed: unknown;
  done.catch((error: unknown) => (failed = error));
  for (let i = 0; i < 1200 && !stdout.text.includes('Ctrl-C stops'); i++) {
    if (failed) throw failed;
    await sleep(50);
  }
  if (!stdout.text.includes('Ctrl-C stops')) throw new Error(`the emulator command printed only: ${stdout.text}`);
  const exports = Object.fromEntries([...stdout.text.matchAll(/^export (\w+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]));
  const commands = stdout.text.split('\n').filter((line) => line.startsWith('rs-cleanup '));
  return { stdout, stderr, exports, commands, stop: async () => (abort.abort(), done) };
}

describe('rs-cleanup emulator', () => {
  let directory: string;

  beforeAll(() => {
    directory = mkdtempSync(path.join(tmpdir(), 'emulator-command-'));
  });
  afterAll(() => {
    rmSync(directory, { recursive: true, force: true });
  });

  it('serves the demo seed: the exports work with the SDK, the sample CSV is a valid input of every server, and it stops on abort', async () => {
    const samplePath = path.join(directory, 'demo', 'sample-input.csv');
    const command = await startCommand({ seed: 'demo', port: 0, sample: samplePath });
    const { exports } = command;
    expect(Object.keys(exports)).toEqual(['COGNITO_ENDPOINT', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION']);
    expect(exports.AWS_REGION).toBe('us-east-1');
    expect(command.stdout.text).toContain(`Sample input, one row per resource server: ${samplePath}`);
    expect(command.stdout.text).toContain('unset AWS_SESSION_TOKEN AWS_PROFILE');
    expect(command.commands).toHaveLength(3);
    expect(command.commands[0]).toMatch(/^rs-cleanup discover --all-pools --region us-east-1 --region eu-west-1 -o \S+discovered\.csv$/);
    expect(command.commands[1]).toMatch(new RegExp(`^rs-cleanup run --input ${samplePath}\\s+#`));
    expect(command.commands[2]).toMatch(new RegExp(`^rs-cleanup run --input ${samplePath} --execute\\s+#`));

    const stopped = await (async () => {
      expect((await fetch(`${exports.COGNITO_ENDPOINT}/_emulator/health`)).status).toBe(200);
      // What the SDK sees with exactly the printed environment, in both Regions.
      const listed: { userPoolId: string; identifier: string }[] = [];
      for (const region of [exports.AWS_REGION!, 'eu-west-1']) {
        const cognito = new CognitoIdentityProviderClient({
          region,
          endpoint: exports.COGNITO_ENDPOINT,
          credentials: { accessKeyId: exports.AWS_ACCESS_KEY_ID!, secretAccessKey: exports.AWS_SECRET_ACCESS_KEY! },
        });
        try {
          for (const pool of (await cognito.send(new ListUserPoolsCommand({ MaxResults: 60 }))).UserPools ?? []) {
            const servers = await cognito.send(new ListResourceServersCommand({ UserPoolId: pool.Id!, MaxResults: 50 }));
            for (const server of servers.ResourceServers ?? []) listed.push({ userPoolId: pool.Id!, identifier: server.Identifier! });
          }
        } finally {
          cognito.destroy();
        }
      }
      expect([...new Set(listed.map((s) => s.userPoolId))]).toEqual([
        'us-east-1_Demo00001',
        'us-east-1_Demo00002',
        'us-east-1_Demo00003',
        'eu-west-1_Demo00004',
        'eu-west-1_Demo00005',
      ]);
      expect(listed).toHaveLength(20);

      const sample = await readInputFile(samplePath);
      expect(sample.errors).toEqual([]);
      expect(sample.duplicates).toEqual([]);
      expect(sample.items.map((i) => ({ userPoolId: i.userPoolId, identifier: i.identifier }))).toEqual(listed);
      return command.stop();
    })();
    expect(stopped).toBe(0);
    expect(command.stderr.text).toBe('Cognito emulator stopped.\n');
    await expect(fetch(`${exports.COGNITO_ENDPOINT}/_emulator/health`)).rejects.toThrow();
  });

  it('serves a seed file; pools without ids get the same ids at every start; pools of other accounts stay out of the sample', async () => {
    const seedFile = path.join(directory, 'seed.json');
    writeFileSync(
      seedFile,
      JSON.stringify({
        userPools: [
          { name: 'generated-id', region: 'eu-central-1', resourceServers: [{ identifier: 'https://api.example.com/x', name: 'x' }] },
          { id: 'us-east-1_Elsewhere', name: 'elsewhere', accountId: '111111111111', resourceServers: [{ identifier: 'https://api.example.com/y', name: 'y' }] },
        ],
      }),
    );
    const ids: string[] = [];
    for (const run of [1, 2]) {
      const samplePath = path.join(directory, `file-${run}.csv`);
      const command = await startCommand({ seed: seedFile, port: 0, sample: samplePath });
      try {
        expect(command.exports.AWS_REGION).toBe('eu-central-1');
        expect(command.stdout.text).toContain(`with the seed ${seedFile}: 1 user pool (eu-central-1), 1 resource server, 0 app clients (and 1 pool of other accounts, left out below)`);
        const sample = await readInputFile(samplePath);
        expect(sample.errors).toEqual([]);
        expect(sample.items).toHaveLength(1);
        ids.push(sample.items[0]!.userPoolId);
      } finally {
        expect(await command.stop()).toBe(0);
      }
    }
    expect(ids[0]).toMatch(/^eu-central-1_[0-9a-zA-Z]{9}$/);
    expect(ids[1]).toBe(ids[0]);
  });

  it('refuses a bad seed file or a busy port with a one-line error naming it', async () => {
    const notJson = path.join(directory, 'not-json.json');
    writeFileSync(notJson, '{ "userPools": [');
    const badShape = path.join(directory, 'bad-shape.json');
    writeFileSync(badShape, JSON.stringify({ userPools: [{ name: 'p', resourceServers: [{ identifier: 'has space', name: 'n' }] }] }));
    const missing = path.join(directory, 'missing.json');

    const refusal = async (options: EmulatorCommandOptions) => {
      const io = capturedIo({ env: process.env });
      const { stdout } = io;
      try {
        await emulatorCommand({ ...options, sample: path.join(directory, 'never.csv') }, io);
      } catch (error) {
        expect(error).toBeInstanceOf(UsageError);
        expect(stdout.text).toBe('');
        return (error as Error).message;
      }
      throw new Error('expected a usage error');
    };
    const messages = [
      await refusal({ seed: notJson, port: 0 }),
      await refusal({ seed: badShape, port: 0 }),
      await refusal({ seed: missing, port: 0 }),
    ];
    expect(messages[0]).toMatch(new RegExp(`^--seed ${notJson}: not valid JSON: `));
    expect(messages[1]).toBe(
      `--seed ${badShape}: InvalidParameterException: 1 validation error detected: Value 'has space' at 'userPools.1.member.resourceServers.1.member.identifier' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\x21\\x23-\\x5B\\x5D-\\x7E]+`,
    );
    expect(messages[2]).toBe(`--seed ${missing}: cannot read it (ENOENT)`);

    const busy = await startEmulator({ port: 0 });
    try {
      messages.push(await refusal({ seed: 'demo', port: busy.port }));
    } finally {
      await busy.close();
    }
    expect(messages[3]).toBe(`--port ${busy.port}: the port is in use (--port 0 picks a free one)`);
    for (const message of messages) expect(message).not.toContain('\n');
  });
});

/**
 * `rs-cleanup emulator [--seed demo|FILE] [--port N]`: a local Cognito to try
 * rs-cleanup against. Starts the emulator with Cognito's quotas and a seed
 * (the demo's stable pools, or a JSON seed in the control API's format),
 * writes a sample input CSV of its resource servers, prints the environment
 * and three commands to try, and serves until Ctrl-C (or, in tests, until the
 * given AbortSignal fires). Its state lives only as long as the command.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { toCsv } from '../common/csv';
import { DEFAULT_ACCOUNT_ID, DEFAULT_TEST_CREDENTIALS, demoSeed, startEmulator, type RunningEmulator, type SeedRequest } from '../emulator';
import { CognitoError } from '../emulator/errors';
import { dataDirectory } from './embedded-temporal';
import { EXIT, UsageError } from './exit-codes';
import type { CommandIo } from './command-io';
import { DEFAULT_EMULATOR_PORT } from './usage';

export { DEFAULT_EMULATOR_PORT } from './usage';

export interface EmulatorCommandOptions {
  /** 'demo' (the default) or the path of a JSON seed request. */
  seed?: string;
  /** Default 9229; 0 picks a free port. */
  port?: number;
  /** Where the sample input goes; default <data dir>/emulator/sample-input.csv. */
  sample?: string;
}

export async function emulatorCommand(options: EmulatorCommandOptions, io: CommandIo): Promise<number> {
  const seedName = options.seed ?? 'demo';
  const seed = seedName === 'demo' ? demoSeed() : readSeedFile(seedName);
  const port = options.port ?? DEFAULT_EMULATOR_PORT;
  const emulator = await start(seedName, port, seed);
  try {
    const state = await emulator.control.state();
    // The printed key is the default account's: other accounts' pools are not reachable with it.
    const pools = state.userPools.filter((pool) => (pool.accountId ?? DEFAULT_ACCOUNT_ID) === DEFAULT_ACCOUNT_ID);
    const rows = pools.flatMap((pool) => pool.resourceServers.map((server) => [pool.id, server.identifier, server.name]));
    const sample = path.resolve(options.sample ?? path.join(dataDirectory(io.env), 'emulator', 'sample-input.csv'));
    mkdirSync(path.dirname(sample), { recursive: true });
    writeFileSync(sample, toCsv(['userPoolId', 'identifier', 'name'], rows));

    const regions = [...new Set(pools.map((pool) => pool.region))];
    const clients = pools.reduce((n, pool) => n + pool.clients.length, 0);
    const others = state.userPools.length - pools.length;
    const shown = displayPath(sample);
    const discovered = displayPath(path.join(path.dirname(sample), 'discovered.csv'));
    io.stdout.write(
      [
        `Cognito emulator on ${emulator.url} with the ${seedName === 'demo' ? 'demo seed' : `seed ${seedName}`}: ` +
          `${count(pools.length, 'user pool')} (${regions.join(', ') || 'no Region'}), ${count(rows.length, 'resource server')}, ${count(clients, 'app client')}` +
          `${others > 0 ? ` (and ${count(others, 'pool')} of other accounts, left out below)` : ''}; Cognito's quotas are on.`,
        `Sample input, one row per resource server: ${shown}`,
        '',
        'In another terminal:',
        '',
        `export COGNITO_ENDPOINT=${emulator.url}`,
        `export AWS_ACCESS_KEY_ID=${DEFAULT_TEST_CREDENTIALS.accessKeyId}`,
        `export AWS_SECRET_ACCESS_KEY=${DEFAULT_TEST_CREDENTIALS.secretAccessKey}`,
        `export AWS_REGION=${regions[0] ?? 'us-east-1'}`,
        'unset AWS_SESSION_TOKEN AWS_PROFILE',
        '',
        `rs-cleanup discover --all-pools ${(regions.length > 0 ? regions : ['us-east-1']).map((region) => `--region ${region}`).join(' ')} -o ${discovered}`,
        `rs-cleanup run --input ${shown}             # a dry-run: reads every server, deletes nothing`,
        `rs-cleanup run --input ${shown} --execute   # deletes them (servers still used by app clients are skipped)`,
        '',
        'Ctrl-C stops the emulator; its state is not kept.',
        '',
      ].join('\n'),
    );
    // Serves until Ctrl-C (the entry aborts io.signal on SIGINT and SIGTERM).
    await stopRequested(io.signal);
  } finally {
    await emulator.close();
  }
  io.stderr.write('Cognito emulator stopped.\n');
  return EXIT.ok;
}

function readSeedFile(file: string): SeedRequest {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`--seed ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  try {
    return JSON.parse(text) as SeedRequest;
  } catch (err) {
    throw new UsageError(`--seed ${file}: not valid JSON: ${oneLine((err as Error).message)}`);
  }
}

async function start(seedName: string, port: number, seed: SeedRequest): Promise<RunningEmulator> {
  try {
    // A fixed id seed: pools and clients a seed file leaves without ids get the same ids on every start.
    return await startEmulator({ port, seed, idSeed: 1 });
  } catch (err) {
    if (err instanceof CognitoError) throw new UsageError(`--seed ${seedName}: ${err.type}: ${oneLine(err.message)}`);
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new UsageError(`--port ${port}: the port is in use (--port 0 picks a free one)`);
    throw err;
  }
}

function stopRequested(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

function displayPath(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : file;
}

const count = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? '' : 's'}`;

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ');
}

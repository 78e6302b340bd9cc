/**
 * Standalone emulator:
 *
 *   npm run emulator -- --port 9229 [--seed seed.json|demo] [--state state.json]
 *     [--no-quotas] [--fault-seed N] [--config options.json] ...
 *
 * Prints one JSON line `{"msg":"emulator listening","url":...}` on stdout when
 * ready. With --state, the state is loaded at start (when the file exists) and
 * saved on SIGINT/SIGTERM and on POST /_emulator/state/save.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { demoSeed } from './demo-seed';
import { startEmulator } from './server';
import type { EmulatorOptions, FaultPatch } from './types';

const usage = `Usage: npm run emulator -- [options]
  --port N                     port (default 9229; 0 picks a free one)
  --host ADDR                  address to listen on (default 127.0.0.1)
  --seed FILE|demo             seed request JSON (explicit pools or {"generate": ...}) applied at start,
                               or the demo seed (5 pools in us-east-1 and eu-west-1)
  --state FILE                 load state from FILE at start (if it exists), save it on shutdown
  --config FILE                JSON with any startEmulator options (quotas, faults, policies, credentials, ...)
  --no-quotas                  turn the rate quotas off
  --fault-seed N               seed of the fault PRNG
  --id-seed N                  seed of generated pool/client ids
  --max-resource-servers-per-pool N   (default 25)
  --latency-ms N               fixed latency on every call
  --jitter-ms N                plus uniform jitter
  --throttle-probability P     random TooManyRequestsException on every operation
  --internal-error-probability P      random InternalErrorException (500)
  --drop-probability P         random dropped connections (before processing)
  --verify-signatures          check SigV4 signatures cryptographically
  --help`;

function number(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new Error(`${name} must be a number, got '${value}'`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      seed: { type: 'string' },
      state: { type: 'string' },
      config: { type: 'string' },
      'no-quotas': { type: 'boolean' },
      'fault-seed': { type: 'string' },
      'id-seed': { type: 'string' },
      'max-resource-servers-per-pool': { type: 'string' },
      'latency-ms': { type: 'string' },
      'jitter-ms': { type: 'string' },
      'throttle-probability': { type: 'string' },
      'internal-error-probability': { type: 'string' },
      'drop-probability': { type: 'string' },
      'verify-signatures': { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    console.log(usage);
    return;
  }
  const logger = pino({ name: 'cognito-emulator' });

  const options: EmulatorOptions = values.config ? (JSON.parse(readFileSync(values.config, 'utf8')) as EmulatorOptions) : {};
  options.port = number(values.port, '--port') ?? options.port ?? 9229;
  if (values.host) options.host = values.host;
  if (values.seed) options.seed = values.seed === 'demo' ? demoSeed() : JSON.parse(readFileSync(values.seed, 'utf8'));
  if (values.state) options.stateFile = values.state;
  if (values['no-quotas']) options.quotas = false;
  options.faultSeed = number(values['fault-seed'], '--fault-seed') ?? options.faultSeed;
  options.idSeed = number(values['id-seed'], '--id-seed') ?? options.idSeed;
  options.maxResourceServersPerPool = number(values['max-resource-servers-per-pool'], '--max-resource-servers-per-pool') ?? options.maxResourceServersPerPool;
  if (values['verify-signatures']) options.verifySignatures = true;

  const faults: FaultPatch = options.faults ?? {};
  const fixedMs = number(values['latency-ms'], '--latency-ms');
  const jitterMs = number(values['jitter-ms'], '--jitter-ms');
  if (fixedMs !== undefined || jitterMs !== undefined) faults.latency = { ...faults.latency, ...(fixedMs !== undefined && { fixedMs }), ...(jitterMs !== undefined && { jitterMs }) };
  const throttle = number(values['throttle-probability'], '--throttle-probability');
  const internalError = number(values['internal-error-probability'], '--internal-error-probability');
  const drop = number(values['drop-probability'], '--drop-probability');
  if (throttle !== undefined || internalError !== undefined || drop !== undefined) {
    faults.operations = { ...faults.operations, '*': { ...faults.operations?.['*'], throttle, internalError, dropBeforeProcessing: drop } };
  }
  options.faults = faults;

  const emulator = await startEmulator(options);
  logger.info({ url: emulator.url, port: emulator.port, stateFile: options.stateFile ?? null }, 'emulator listening');

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'emulator stopping');
    emulator.close().then(
      () => {
        logger.info('emulator stopped');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'emulator failed to stop cleanly');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});

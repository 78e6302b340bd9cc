/**
 * The HTTP side: a Node `http` server that speaks AWS JSON 1.1 (Cognito) and
 * the AWS Query protocol (STS AssumeRole) at `POST /` (answered by
 * EmulatorCore) and serves the control API under `/_emulator/`.
 *
 * It must never crash or hang on any input (unless a `hang` fault asks it to
 * leave a request unanswered): bodies are capped (an oversized API body is
 * read to the end and answered 413 so the client sees a response, not a
 * reset), every handler error becomes a JSON error response, and close() ends
 * pending latency waits, unanswered requests and open keep-alive sockets.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ACCOUNT_ID_PATTERN, ConfigStore, DEFAULT_ACCOUNT_ID, DEFAULT_TEST_CREDENTIALS } from './config';
import { CONTROL_PREFIX, handleControl } from './control';
import { EmulatorControl } from './control-client';
import { EmulatorCore, errorAnswer, type ApiAnswer } from './core';
import { CognitoError, cognitoError, internalError, serializationError } from './errors';
import { IdGenerator } from './ids';
import { randomSeed } from './random';
import type { EmulatorConfigPatch, EmulatorOptions, TestCredentials } from './types';

export interface RunningEmulator {
  /** http://127.0.0.1:PORT, for the SDK's `endpoint` option. */
  url: string;
  port: number;
  control: EmulatorControl;
  /** Stops serving; saves the state file when one was given. */
  close(): Promise<void>;
}

/** Cognito's API request limit. */
const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
/** Bigger than any honest control call (a 100k-server state dump is ~20 MB). */
const MAX_CONTROL_BODY_BYTES = 512 * 1024 * 1024;
/** Past this, an oversized body is not worth reading to the end: drop the connection. */
const MAX_DRAINED_BYTES = 64 * 1024 * 1024;

export async function startEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const accountId = options.accountId ?? DEFAULT_ACCOUNT_ID;
  if (!ACCOUNT_ID_PATTERN.test(accountId)) throw cognitoError('InvalidConfigException', `accountId must be 12 digits, got '${accountId}'`);
  const config = new ConfigStore(accountId, options.faultSeed ?? randomSeed());
  for (const credentials of options.credentials ?? ([DEFAULT_TEST_CREDENTIALS] as TestCredentials[])) {
    if (credentials.accountId !== undefined && !ACCOUNT_ID_PATTERN.test(credentials.accountId)) {
      throw cognitoError('InvalidConfigException', `credentials: the accountId of ${credentials.accessKeyId} must be 12 digits, got '${credentials.accountId}'`);
    }
    config.credentials.set(credentials.accessKeyId, { ...credentials });
  }
  config.apply(configPatchOf(options));

  const core = new EmulatorCore(config, new IdGenerator(options.idSeed), options.stateFile);
  if (options.state) core.loadState(options.state);
  if (options.stateFile && existsSync(options.stateFile)) core.loadState(JSON.parse(readFileSync(options.stateFile, 'utf8')));
  if (options.seed) core.seed(options.seed);

  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const server = createServer((req, res) => {
    handleRequest(core, req, res, maxBodyBytes).catch((error) => {
      console.error('emulator: request failed', error);
      send(res, errorAnswer(internalError()));
    });
  });
  // Longer than the SDK's idle sockets live, so the server does not close a
  // socket just as the client reuses it (a spurious ECONNRESET).
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${options.host ?? '127.0.0.1'}:${port}`;

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    control: new EmulatorControl(url),
    close() {
      closing ??= (async () => {
        core.close();
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await stopped;
        if (options.stateFile) await core.saveState();
      })();
      return closing;
    },
  };
}

function configPatchOf(options: EmulatorOptions): EmulatorConfigPatch {
  const { quotas, faults, faultSeed, policies, maxResourceServersPerPool, maxClientsPerPool, verifySignatures } = options;
  const patch: Record<string, unknown> = { quotas, faults, faultSeed, policies, maxResourceServersPerPool, maxClientsPerPool, verifySignatures };
  for (const key of Object.keys(patch)) if (patch[key] === undefined) delete patch[key];
  return patch as EmulatorConfigPatch;
}

async function handleRequest(core: EmulatorCore, req: IncomingMessage, res: ServerResponse, maxBodyBytes: number): Promise<void> {
  const url = req.url ?? '/';
  const isControl = url.startsWith(CONTROL_PREFIX);
  const body = await readBody(req, isControl ? MAX_CONTROL_BODY_BYTES : maxBodyBytes);
  if (body === 'destroyed') return;
  if (body === 'too-large') {
    send(res, errorAnswer(cognitoError('RequestEntityTooLargeException', `The request body exceeds the limit of ${isControl ? MAX_CONTROL_BODY_BYTES : maxBodyBytes} bytes.`)));
    return;
  }

  if (isControl) {
    const path = url.split('?', 1)[0]!;
    try {
      const answer = await handleControl(core, req.method ?? 'GET', path, () => parseControlBody(body));
      sendJson(res, answer.status, answer.body);
    } catch (error) {
      const known = error instanceof CognitoError ? error : cognitoError('InternalErrorException', String(error));
      if (!(error instanceof CognitoError)) console.error('emulator: control call failed', error);
      sendJson(res, known.status, { __type: known.type, message: known.message });
    }
    return;
  }

  const answer = await core.handleApiCall({ method: req.method ?? 'GET', url, headers: req.headers, rawHeaders: req.rawHeaders, body });
  send(res, answer);
}

function parseControlBody(body: Buffer): unknown {
  if (body.length === 0) return {};
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw serializationError(`Malformed JSON: ${(error as Error).message}`);
  }
}

/** Reads the body; past the limit keeps reading (discarding) so the 413 reaches the client. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too-large' | 'destroyed'> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_DRAINED_BYTES && size > limit) {
        req.socket.destroy();
        return;
      }
      if (size <= limit) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > limit ? 'too-large' : Buffer.concat(chunks, size)));
    req.on('error', () => resolve('destroyed'));
    req.on('close', () => {
      if (!req.complete) resolve('destroyed');
    });
  });
}

function send(res: ServerResponse, answer: ApiAnswer): void {
  if (res.headersSent || res.destroyed) return;
  // Left open on purpose: the client gives up, or close() destroys the socket.
  if (answer.kind === 'hang') return;
  if (answer.kind === 'drop') {
    res.socket?.destroy();
    return;
  }
  res.writeHead(answer.status, { ...answer.headers, 'content-length': Buffer.byteLength(answer.body) });
  res.end(answer.body);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

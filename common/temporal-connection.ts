/**
 * How the worker and the CLI reach Temporal: a local dev server, a self-hosted
 * cluster behind (m)TLS, or Temporal Cloud with mTLS or an API key. Read from
 * the environment, with the Temporal CLI's variable names, into options that
 * both `NativeConnection.connect` (worker) and `Connection.connect` (client)
 * accept as they are.
 *
 * Secrets (the API key, the client key) live only in `options`; log `describe`,
 * never `options`.
 */
import { readFileSync } from 'node:fs';
import type { TLSConfig } from '@temporalio/client';

/** Every variable read here, with its default ('' = not set). */
export const TEMPORAL_CONNECTION_ENV = {
  TEMPORAL_ADDRESS: 'localhost:7233',
  TEMPORAL_NAMESPACE: 'default',
  /** `true` turns TLS on with the system's CAs and no client certificate; `false` refuses every TLS setting. */
  TEMPORAL_TLS: '',
  TEMPORAL_TLS_CERT: '',
  TEMPORAL_TLS_KEY: '',
  TEMPORAL_TLS_CA: '',
  TEMPORAL_TLS_SERVER_NAME: '',
  TEMPORAL_API_KEY: '',
} as const;

export type TemporalConnectionEnvName = keyof typeof TEMPORAL_CONNECTION_ENV;

/** A setting is wrong: the message names the variable (and the file, when there is one). */
export class TemporalConnectionError extends Error {
  override name = 'TemporalConnectionError';
}

/** Accepted by NativeConnection.connect and Connection.connect alike. */
export interface TemporalConnectionOptions {
  address: string;
  /** Present when TLS is on. */
  tls?: TLSConfig;
  /** Sent as `Authorization: Bearer ...`; implies TLS. */
  apiKey?: string;
}

/** What may be logged: paths and modes, never a key. */
export interface TemporalConnectionDescription {
  address: string;
  namespace: string;
  tls: 'off' | 'server' | 'mutual';
  auth: 'none' | 'client-certificate' | 'api-key';
  serverName?: string;
  caFile?: string;
  certFile?: string;
}

export interface TemporalConnectionSettings {
  namespace: string;
  options: TemporalConnectionOptions;
  describe: TemporalConnectionDescription;
}

/**
 * Reads TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_TLS, TEMPORAL_TLS_CERT,
 * TEMPORAL_TLS_KEY, TEMPORAL_TLS_CA, TEMPORAL_TLS_SERVER_NAME and
 * TEMPORAL_API_KEY. An empty variable counts as not set (Compose passes
 * `${VAR:-}` as ''). Throws TemporalConnectionError on a bad combination or an
 * unreadable file.
 */
export function readTemporalConnection(env: NodeJS.ProcessEnv = process.env): TemporalConnectionSettings {
  const get = (name: TemporalConnectionEnvName): string => env[name]?.trim() || TEMPORAL_CONNECTION_ENV[name];
  const address = get('TEMPORAL_ADDRESS');
  const namespace = get('TEMPORAL_NAMESPACE');
  const certFile = get('TEMPORAL_TLS_CERT');
  const keyFile = get('TEMPORAL_TLS_KEY');
  const caFile = get('TEMPORAL_TLS_CA');
  const serverName = get('TEMPORAL_TLS_SERVER_NAME');
  const apiKey = get('TEMPORAL_API_KEY');
  const tlsFlag = parseTlsFlag(get('TEMPORAL_TLS'));

  if (!/^[^\s:]+:\d+$/.test(address) && !/^\[[0-9a-fA-F:.]+\]:\d+$/.test(address)) {
    throw new TemporalConnectionError(`TEMPORAL_ADDRESS must be host:port, got '${address}'`);
  }
  if (Boolean(certFile) !== Boolean(keyFile)) {
    const [given, missing] = certFile ? ['TEMPORAL_TLS_CERT', 'TEMPORAL_TLS_KEY'] : ['TEMPORAL_TLS_KEY', 'TEMPORAL_TLS_CERT'];
    throw new TemporalConnectionError(`${given} is set but ${missing} is not: mTLS needs both the client certificate and its key`);
  }
  const tlsSettings = [certFile && 'TEMPORAL_TLS_CERT', caFile && 'TEMPORAL_TLS_CA', serverName && 'TEMPORAL_TLS_SERVER_NAME', apiKey && 'TEMPORAL_API_KEY'].filter(Boolean);
  if (tlsFlag === false && tlsSettings.length > 0) {
    throw new TemporalConnectionError(`TEMPORAL_TLS=false contradicts ${tlsSettings.join(', ')}, which need TLS`);
  }

  const tlsOn = tlsFlag === true || tlsSettings.length > 0;
  const options: TemporalConnectionOptions = { address };
  if (tlsOn) {
    const tls: TLSConfig = {};
    if (serverName) tls.serverNameOverride = serverName;
    if (caFile) tls.serverRootCACertificate = readPem('TEMPORAL_TLS_CA', caFile);
    if (certFile) tls.clientCertPair = { crt: readPem('TEMPORAL_TLS_CERT', certFile), key: readPem('TEMPORAL_TLS_KEY', keyFile) };
    options.tls = tls;
  }
  if (apiKey) options.apiKey = apiKey;

  return {
    namespace,
    options,
    describe: {
      address,
      namespace,
      tls: !tlsOn ? 'off' : certFile ? 'mutual' : 'server',
      auth: apiKey ? 'api-key' : certFile ? 'client-certificate' : 'none',
      ...(serverName ? { serverName } : {}),
      ...(caFile ? { caFile } : {}),
      ...(certFile ? { certFile } : {}),
    },
  };
}

function parseTlsFlag(value: string): boolean | undefined {
  if (value === '') return undefined;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new TemporalConnectionError(`TEMPORAL_TLS must be true or false, got '${value}'`);
}

/** A PEM file's bytes; the error says which variable pointed where, and what is wrong. */
function readPem(name: TemporalConnectionEnvName, file: string): Buffer {
  let content: Buffer;
  try {
    content = readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : (err as Error).message;
    throw new TemporalConnectionError(`${name}: cannot read '${file}' (${why})`);
  }
  // Catches the commonest mix-up (a DER file, or the wrong path) here instead of
  // as an opaque TLS handshake error later. Never echo the content: it may be a key.
  if (!content.includes('-----BEGIN ')) {
    throw new TemporalConnectionError(`${name}: '${file}' is not a PEM file (no '-----BEGIN' line)`);
  }
  return content;
}

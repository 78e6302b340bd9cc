/**
 * How the worker and the CLI reach Temporal: a local dev server, a self-hosted
 * cluster behind (m)TLS, or Temporal Cloud with mTLS or an API key.
 *
 * The settings are the ones the Temporal CLI and SDKs share
 * (@temporalio/envconfig): a profile from a TOML file (TEMPORAL_CONFIG_FILE,
 * else the CLI's own file, ~/.config/temporalio/temporal.toml), chosen by
 * TEMPORAL_PROFILE (else `default`), with TEMPORAL_* variables overriding it.
 * rs-cleanup's earlier names TEMPORAL_TLS_CERT, TEMPORAL_TLS_KEY and
 * TEMPORAL_TLS_CA keep working as aliases of the standard ones.
 *
 * envconfig does the profile selection, the overrides and the mapping to
 * connection options; this module adds what an operator needs on top: an
 * empty variable counts as unset (Compose passes `${VAR:-}` as ''), and every
 * mistake stops with one line naming the variable or the profile and file.
 * Secrets (the API key, the client key, gRPC header values) live only in
 * `options`; log `describe`, never `options`.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TLSConfig } from '@temporalio/client';
import {
  loadClientConfig,
  loadClientConfigProfile,
  toClientOptions,
  type ClientConfigProfile,
  type ConfigDataSource,
} from '@temporalio/envconfig';
import { definedOnly } from './types';

/** Every variable read here, with its default ('' = not set). */
export const TEMPORAL_CONNECTION_ENV = {
  TEMPORAL_ADDRESS: 'localhost:7233',
  TEMPORAL_NAMESPACE: 'default',
  /** The TOML file of profiles; default: the Temporal CLI's ~/.config/temporalio/temporal.toml, when it exists. */
  TEMPORAL_CONFIG_FILE: '',
  /** The profile in that file; default: `default`. */
  TEMPORAL_PROFILE: '',
  /** `true` turns TLS on with the system's CAs and no client certificate; `false` refuses every TLS setting. */
  TEMPORAL_TLS: '',
  TEMPORAL_TLS_CLIENT_CERT_PATH: '',
  TEMPORAL_TLS_CLIENT_KEY_PATH: '',
  TEMPORAL_TLS_SERVER_CA_CERT_PATH: '',
  TEMPORAL_TLS_CLIENT_CERT_DATA: '',
  TEMPORAL_TLS_CLIENT_KEY_DATA: '',
  TEMPORAL_TLS_SERVER_CA_CERT_DATA: '',
  TEMPORAL_TLS_SERVER_NAME: '',
  TEMPORAL_API_KEY: '',
  /** Earlier names of TEMPORAL_TLS_CLIENT_CERT_PATH, TEMPORAL_TLS_CLIENT_KEY_PATH and TEMPORAL_TLS_SERVER_CA_CERT_PATH. */
  TEMPORAL_TLS_CERT: '',
  TEMPORAL_TLS_KEY: '',
  TEMPORAL_TLS_CA: '',
} as const;

export type TemporalConnectionEnvName = keyof typeof TEMPORAL_CONNECTION_ENV;

/** rs-cleanup's earlier variable names, and the standard name each one stands for. */
const ALIASES = {
  TEMPORAL_TLS_CERT: 'TEMPORAL_TLS_CLIENT_CERT_PATH',
  TEMPORAL_TLS_KEY: 'TEMPORAL_TLS_CLIENT_KEY_PATH',
  TEMPORAL_TLS_CA: 'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
} as const satisfies Partial<Record<TemporalConnectionEnvName, TemporalConnectionEnvName>>;

/** A setting is wrong: the message names the variable or the profile (and the file, when there is one). */
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
  /** gRPC headers sent with every call (TEMPORAL_GRPC_META_*, or `grpc_meta` in the profile). */
  metadata?: Record<string, string>;
}

/** What may be logged: paths, names and modes, never a key or a header value. */
export interface TemporalConnectionDescription {
  address: string;
  namespace: string;
  tls: 'off' | 'server' | 'mutual';
  auth: 'none' | 'client-certificate' | 'api-key';
  serverName?: string;
  caFile?: string;
  certFile?: string;
  /** The config file read, and the profile used from it. */
  configFile?: string;
  profile?: string;
  /** Names of the gRPC headers sent. */
  grpcMeta?: string[];
}

export interface TemporalConnectionSettings {
  namespace: string;
  options: TemporalConnectionOptions;
  describe: TemporalConnectionDescription;
}

/**
 * True when the environment names a cluster: TEMPORAL_ADDRESS, TEMPORAL_PROFILE
 * or TEMPORAL_CONFIG_FILE is set. The CLI starts its embedded dev server only
 * when none is, so the Temporal CLI's default profile file alone never turns
 * a laptop run into a cluster run.
 */
export function namesTemporalCluster(env: NodeJS.ProcessEnv = process.env): boolean {
  return ['TEMPORAL_ADDRESS', 'TEMPORAL_PROFILE', 'TEMPORAL_CONFIG_FILE'].some((name) => Boolean(env[name]?.trim()));
}

/**
 * Reads the profile and the TEMPORAL_* variables (see TEMPORAL_CONNECTION_ENV,
 * plus TEMPORAL_GRPC_META_<HEADER>). Throws TemporalConnectionError on a bad
 * combination, a missing profile, or a file that cannot be read.
 */
export function readTemporalConnection(env: NodeJS.ProcessEnv = process.env): TemporalConnectionSettings {
  const variables = temporalVariables(env);
  const tlsFlag = parseTlsFlag(variables.TEMPORAL_TLS);
  const file = readConfigFile(env, variables.TEMPORAL_CONFIG_FILE);
  const profileName = variables.TEMPORAL_PROFILE ?? 'default';
  if (variables.TEMPORAL_PROFILE && !file) {
    throw new TemporalConnectionError(
      `TEMPORAL_PROFILE is '${profileName}', but there is no Temporal config file: set TEMPORAL_CONFIG_FILE, or create ${defaultConfigFile(env) ?? '~/.config/temporalio/temporal.toml'}`,
    );
  }
  if (file) checkProfileExists(file, variables.TEMPORAL_PROFILE);

  // The profile (when a file exists), overridden by the variables: envconfig's own precedence.
  let profile: ClientConfigProfile;
  try {
    profile = loadClientConfigProfile({
      ...(file ? { configSource: { data: file.data } } : { disableFile: true }),
      ...(variables.TEMPORAL_PROFILE ? { profile: variables.TEMPORAL_PROFILE } : {}),
      overrideEnvVars: withoutTlsFlag(variables),
    });
  } catch (err) {
    throw new TemporalConnectionError(`${file ? `profile '${profileName}' in ${file.path}` : 'the TEMPORAL_* variables'}: ${(err as Error).message}`);
  }
  // Where each setting came from, for the error messages: the variable as the operator spelt it, or the profile.
  const from = (names: TemporalConnectionEnvName[], key: string): string => {
    for (const name of names) {
      const alias = Object.entries(ALIASES).find(([, standard]) => standard === name)?.[0];
      if (alias && env[alias]?.trim()) return alias;
      if (variables[name] !== undefined) return name;
    }
    return `${key} of profile '${profileName}' in ${file?.path ?? 'the config file'}`;
  };

  const address = profile.address ?? TEMPORAL_CONNECTION_ENV.TEMPORAL_ADDRESS;
  if (!/^[^\s:/]+:\d+$/.test(address) && !/^\[[0-9a-fA-F:.]+\]:\d+$/.test(address)) {
    throw new TemporalConnectionError(`${from(['TEMPORAL_ADDRESS'], 'address')} must be host:port, got '${address}'`);
  }
  const namespace = profile.namespace ?? TEMPORAL_CONNECTION_ENV.TEMPORAL_NAMESPACE;

  const tls = { ...profile.tls, ...(tlsFlag !== undefined ? { disabled: !tlsFlag } : {}) };
  const kind = (source: ConfigDataSource | undefined) => (source && 'data' in source ? 'data' : 'path');
  const certName = from(['TEMPORAL_TLS_CLIENT_CERT_PATH', 'TEMPORAL_TLS_CLIENT_CERT_DATA'], `tls.client_cert_${kind(tls.clientCert)}`);
  const keyName = from(['TEMPORAL_TLS_CLIENT_KEY_PATH', 'TEMPORAL_TLS_CLIENT_KEY_DATA'], `tls.client_key_${kind(tls.clientKey)}`);
  const caName = from(['TEMPORAL_TLS_SERVER_CA_CERT_PATH', 'TEMPORAL_TLS_SERVER_CA_CERT_DATA'], `tls.server_ca_cert_${kind(tls.serverCACert)}`);
  if (Boolean(tls.clientCert) !== Boolean(tls.clientKey)) {
    const [given, missing] = tls.clientCert ? [certName, partnerOf(certName)] : [keyName, partnerOf(keyName)];
    throw new TemporalConnectionError(`${given} is set but ${missing} is not: mTLS needs both the client certificate and its key`);
  }
  const needTls = [
    tls.clientCert && certName,
    tls.serverCACert && caName,
    tls.serverName && from(['TEMPORAL_TLS_SERVER_NAME'], 'tls.server_name'),
    profile.apiKey && from(['TEMPORAL_API_KEY'], 'api_key'),
  ].filter((name): name is string => Boolean(name));
  if (tls.disabled && needTls.length > 0) {
    const off = tlsFlag === false ? 'TEMPORAL_TLS=false' : `tls.disabled of profile '${profileName}' in ${file?.path}`;
    throw new TemporalConnectionError(`${off} contradicts ${needTls.join(', ')}, which need TLS`);
  }

  // Files are read here, so that a wrong path names its variable; envconfig then gets the bytes.
  const pem = (source: ConfigDataSource | undefined, name: string): ConfigDataSource | undefined =>
    source && { data: 'path' in source ? readPem(name, source.path) : checkPem(name, source.data) };
  const resolved: ClientConfigProfile = {
    ...profile,
    address,
    namespace,
    tls: { ...tls, clientCert: pem(tls.clientCert, certName), clientKey: pem(tls.clientKey, keyName), serverCACert: pem(tls.serverCACert, caName) },
  };
  // As in envconfig: TLS is on for a `tls` table in the profile, any TLS variable, or an API key.
  const tlsOn = !tls.disabled && (tlsFlag === true || profile.tls !== undefined || Boolean(profile.apiKey));
  if (!tlsOn) delete resolved.tls;
  const { connectionOptions } = toClientOptions(resolved);
  const options: TemporalConnectionOptions = { address };
  // envconfig leaves unset TLS fields `undefined`, and gives `true` for "TLS with the system's CAs".
  if (tlsOn) options.tls = connectionOptions.tls === true || !connectionOptions.tls ? {} : definedOnly(connectionOptions.tls);
  if (profile.apiKey) options.apiKey = profile.apiKey;
  if (profile.grpcMeta && Object.keys(profile.grpcMeta).length > 0) options.metadata = profile.grpcMeta;

  const pathOf = (source: ConfigDataSource | undefined) => (source && 'path' in source ? source.path : undefined);
  const caFile = pathOf(tls.serverCACert);
  const certFile = pathOf(tls.clientCert);
  return {
    namespace,
    options,
    describe: {
      address,
      namespace,
      tls: !tlsOn ? 'off' : tls.clientCert ? 'mutual' : 'server',
      auth: profile.apiKey ? 'api-key' : tls.clientCert ? 'client-certificate' : 'none',
      ...(tlsOn && tls.serverName ? { serverName: tls.serverName } : {}),
      ...(tlsOn && caFile ? { caFile } : {}),
      ...(tlsOn && certFile ? { certFile } : {}),
      ...(file ? { configFile: file.path, profile: profileName } : {}),
      ...(options.metadata ? { grpcMeta: Object.keys(options.metadata) } : {}),
    },
  };
}

/**
 * The non-empty TEMPORAL_* variables, each earlier name under its standard
 * one. Empty ones are left out: envconfig would take '' for a value (an empty
 * address, or TEMPORAL_TLS='' as "TLS off").
 */
function temporalVariables(env: NodeJS.ProcessEnv): Record<string, string | undefined> {
  const variables: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('TEMPORAL_') || value === undefined) continue;
    // An empty TEMPORAL_GRPC_META_* removes that header from the profile, as in the Temporal CLI.
    if (name.startsWith('TEMPORAL_GRPC_META_')) variables[name] = value.trim();
    // Inline PEM (*_DATA) is kept as given; other values lose stray spaces.
    else if (value.trim() !== '') variables[name] = name.endsWith('_DATA') ? value : value.trim();
  }
  for (const [alias, standard] of Object.entries(ALIASES)) {
    const earlier = variables[alias];
    if (earlier === undefined) continue;
    if (variables[standard] !== undefined && variables[standard] !== earlier) {
      throw new TemporalConnectionError(`${alias} and ${standard} are both set, to different files: set only ${standard}`);
    }
    variables[standard] = earlier;
    delete variables[alias];
  }
  return variables;
}

/** TEMPORAL_TLS is checked here (envconfig reads any other word as false), then left out of envconfig's input. */
function withoutTlsFlag(variables: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(variables).filter((e): e is [string, string] => e[0] !== 'TEMPORAL_TLS' && e[1] !== undefined));
}

function parseTlsFlag(value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new TemporalConnectionError(`TEMPORAL_TLS must be true or false, got '${value}'`);
}

/** The Temporal CLI's config file, where it and envconfig look when TEMPORAL_CONFIG_FILE is not set. */
function defaultConfigFile(env: NodeJS.ProcessEnv): string | undefined {
  if (process.platform === 'win32') return env.APPDATA ? path.join(env.APPDATA, 'temporalio', 'temporal.toml') : undefined;
  const home = env.HOME;
  if (process.platform === 'darwin') return home ? path.join(home, 'Library', 'Application Support', 'temporalio', 'temporal.toml') : undefined;
  const xdg = env.XDG_CONFIG_HOME;
  if (xdg) return path.isAbsolute(xdg) ? path.join(xdg, 'temporalio', 'temporal.toml') : undefined;
  return home ? path.join(home, '.config', 'temporalio', 'temporal.toml') : undefined;
}

/** TEMPORAL_CONFIG_FILE must be readable; the default file is optional. */
function readConfigFile(env: NodeJS.ProcessEnv, explicit: string | undefined): { path: string; data: string } | undefined {
  const file = explicit ?? defaultConfigFile(env);
  if (!file) return undefined;
  try {
    return { path: file, data: readFileSync(file, 'utf8') };
  } catch (err) {
    if (!explicit && (err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new TemporalConnectionError(`${explicit ? 'TEMPORAL_CONFIG_FILE' : 'the Temporal config file'}: cannot read '${file}' (${whyUnreadable(err)})`);
  }
}

/** A TOML error names the file, line and column; never the line itself, which may hold an API key. */
function checkProfileExists(file: { path: string; data: string }, wanted: string | undefined): void {
  let profiles: string[];
  try {
    profiles = Object.keys(loadClientConfig({ configSource: { data: file.data } }).profiles);
  } catch (err) {
    const { line, column } = err as { line?: number; column?: number };
    const reason = (err as Error).message.split('\n')[0]!.replace(/^Invalid TOML document: /, '');
    throw new TemporalConnectionError(`${file.path}${line ? `:${line}:${column}` : ''}: not a valid Temporal config file (${reason})`);
  }
  if (wanted && !profiles.includes(wanted)) {
    throw new TemporalConnectionError(
      `TEMPORAL_PROFILE: no profile '${wanted}' in ${file.path} (${profiles.length ? `it has ${profiles.map((p) => `'${p}'`).join(', ')}` : 'it has none'})`,
    );
  }
}

/** The variable that goes with a certificate's (or a key's), for "X is set but Y is not". */
function partnerOf(name: string): string {
  const pairs: Record<string, string> = {
    TEMPORAL_TLS_CERT: 'TEMPORAL_TLS_KEY',
    TEMPORAL_TLS_KEY: 'TEMPORAL_TLS_CERT',
    TEMPORAL_TLS_CLIENT_CERT_PATH: 'TEMPORAL_TLS_CLIENT_KEY_PATH',
    TEMPORAL_TLS_CLIENT_KEY_PATH: 'TEMPORAL_TLS_CLIENT_CERT_PATH',
    TEMPORAL_TLS_CLIENT_CERT_DATA: 'TEMPORAL_TLS_CLIENT_KEY_DATA',
    TEMPORAL_TLS_CLIENT_KEY_DATA: 'TEMPORAL_TLS_CLIENT_CERT_DATA',
  };
  return pairs[name] ?? (name.includes('client_cert') ? 'a client key (tls.client_key_path)' : 'a client certificate (tls.client_cert_path)');
}

function whyUnreadable(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : (err as Error).message;
}

/** A PEM file's bytes; the error says which setting pointed where, and what is wrong. */
function readPem(name: string, file: string): Buffer {
  let content: Buffer;
  try {
    content = readFileSync(file);
  } catch (err) {
    throw new TemporalConnectionError(`${name}: cannot read '${file}' (${whyUnreadable(err)})`);
  }
  // Catches the commonest mix-up (a DER file, or the wrong path) here instead of
  // as an opaque TLS handshake error later. Never echo the content: it may be a key.
  if (!content.includes('-----BEGIN ')) {
    throw new TemporalConnectionError(`${name}: '${file}' is not a PEM file (no '-----BEGIN' line)`);
  }
  return content;
}

/** Inline PEM (a `*_data` setting): the same check, and never echoed. */
function checkPem(name: string, data: string | Uint8Array): Buffer {
  const bytes = Buffer.from(data);
  if (!bytes.includes('-----BEGIN ')) throw new TemporalConnectionError(`${name}: not PEM data (no '-----BEGIN' line)`);
  return bytes;
}

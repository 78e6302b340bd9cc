/**
 * The Temporal connection settings: the Temporal CLI's TOML profiles and
 * TEMPORAL_* variables (through @temporalio/envconfig) and rs-cleanup's
 * earlier variable names; what each turns on, and that every mistake names
 * its variable or profile and file without ever echoing a secret. Real files
 * in a temp directory.
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectionOptions } from '@temporalio/client';
import type { NativeConnectionOptions } from '@temporalio/worker';
import { readTemporalConnection, TemporalConnectionError, TEMPORAL_CONNECTION_ENV } from '../../common/temporal-connection';

const CERT = '-----BEGIN CERTIFICATE-----\nMIIBclientcert\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN PRIVATE KEY-----\nMIIEvSECRETKEYMATERIAL\n-----END PRIVATE KEY-----\n';
const CA = '-----BEGIN CERTIFICATE-----\nMIIBserverca\n-----END CERTIFICATE-----\n';
const API_KEY = 'tmprl-api-key-SECRET-0123456789';

describe('readTemporalConnection', () => {
  let dir: string;
  let cert: string;
  let key: string;
  let ca: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'rs-cleanup-tls-'));
    cert = path.join(dir, 'client.pem');
    key = path.join(dir, 'client.key');
    ca = path.join(dir, 'ca.pem');
    await writeFile(cert, CERT);
    await writeFile(key, KEY);
    await writeFile(ca, CA);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const errorOf = (env: NodeJS.ProcessEnv): TemporalConnectionError => {
    try {
      readTemporalConnection(env);
    } catch (err) {
      expect(err).toBeInstanceOf(TemporalConnectionError);
      return err as TemporalConnectionError;
    }
    throw new Error('expected readTemporalConnection to throw');
  };

  it('defaults to a plaintext local server, and treats empty variables as unset', () => {
    const empty = Object.fromEntries(Object.keys(TEMPORAL_CONNECTION_ENV).map((name) => [name, '']));
    for (const env of [{}, empty]) {
      const settings = readTemporalConnection(env);
      expect(settings.namespace).toBe('default');
      expect(settings.options).toEqual({ address: 'localhost:7233' });
      expect(settings.describe).toEqual({ address: 'localhost:7233', namespace: 'default', tls: 'off', auth: 'none' });
    }
  });

  it('gives options that both the worker and the client connection accept', () => {
    const { options } = readTemporalConnection({ TEMPORAL_TLS_CERT: cert, TEMPORAL_TLS_KEY: key, TEMPORAL_API_KEY: API_KEY });
    // Compile-time check: the very same object goes to NativeConnection.connect and Connection.connect.
    const forWorker: NativeConnectionOptions = options;
    const forClient: ConnectionOptions = options;
    expect(forWorker.address).toBe(forClient.address);
  });

  it('reads client certificate, key, CA and server name for mTLS', () => {
    const settings = readTemporalConnection({
      TEMPORAL_ADDRESS: 'temporal.internal.example:7233',
      TEMPORAL_NAMESPACE: 'offboarding',
      TEMPORAL_TLS_CERT: cert,
      TEMPORAL_TLS_KEY: key,
      TEMPORAL_TLS_CA: ca,
      TEMPORAL_TLS_SERVER_NAME: 'temporal.example',
    });
    expect(settings.namespace).toBe('offboarding');
    expect(settings.options.address).toBe('temporal.internal.example:7233');
    expect(settings.options.apiKey).toBeUndefined();
    const tls = settings.options.tls!;
    expect(Buffer.from(tls.clientCertPair!.crt).toString()).toBe(CERT);
    expect(Buffer.from(tls.clientCertPair!.key).toString()).toBe(KEY);
    expect(Buffer.from(tls.serverRootCACertificate!).toString()).toBe(CA);
    expect(tls.serverNameOverride).toBe('temporal.example');
    expect(settings.describe).toEqual({
      address: 'temporal.internal.example:7233',
      namespace: 'offboarding',
      tls: 'mutual',
      auth: 'client-certificate',
      serverName: 'temporal.example',
      caFile: ca,
      certFile: cert,
    });
    expect(JSON.stringify(settings.describe)).not.toContain('SECRETKEYMATERIAL');
  });

  it('turns TLS on for an API key (Temporal Cloud) and never describes the key', () => {
    const settings = readTemporalConnection({
      TEMPORAL_ADDRESS: 'us-east-1.aws.api.temporal.io:7233',
      TEMPORAL_NAMESPACE: 'ns.acct',
      TEMPORAL_API_KEY: API_KEY,
    });
    expect(settings.options).toEqual({ address: 'us-east-1.aws.api.temporal.io:7233', tls: {}, apiKey: API_KEY });
    expect(settings.describe).toMatchObject({ tls: 'server', auth: 'api-key' });
    expect(JSON.stringify(settings.describe)).not.toContain(API_KEY);
  });

  it('turns TLS on with the system CAs for TEMPORAL_TLS=true, or for a CA alone', () => {
    expect(readTemporalConnection({ TEMPORAL_TLS: 'true' }).options.tls).toEqual({});
    const withCa = readTemporalConnection({ TEMPORAL_TLS_CA: ca });
    expect(Buffer.from(withCa.options.tls!.serverRootCACertificate!).toString()).toBe(CA);
    expect(withCa.describe).toMatchObject({ tls: 'server', auth: 'none', caFile: ca });
  });

  it('wants the certificate and the key together', () => {
    expect(errorOf({ TEMPORAL_TLS_CERT: cert }).message).toBe(
      'TEMPORAL_TLS_CERT is set but TEMPORAL_TLS_KEY is not: mTLS needs both the client certificate and its key',
    );
    expect(errorOf({ TEMPORAL_TLS_KEY: key }).message).toMatch(/^TEMPORAL_TLS_KEY is set but TEMPORAL_TLS_CERT is not/);
  });

  it('names the variable and the file that cannot be read', async () => {
    const missing = path.join(dir, 'nope.pem');
    expect(errorOf({ TEMPORAL_TLS_CERT: missing, TEMPORAL_TLS_KEY: key }).message).toBe(
      `TEMPORAL_TLS_CERT: cannot read '${missing}' (no such file)`,
    );
    expect(errorOf({ TEMPORAL_TLS_CERT: cert, TEMPORAL_TLS_KEY: missing }).message).toBe(
      `TEMPORAL_TLS_KEY: cannot read '${missing}' (no such file)`,
    );
    expect(errorOf({ TEMPORAL_TLS_CA: missing }).message).toBe(`TEMPORAL_TLS_CA: cannot read '${missing}' (no such file)`);
    const subdir = path.join(dir, 'a-directory');
    await mkdir(subdir, { recursive: true });
    expect(errorOf({ TEMPORAL_TLS_CA: subdir }).message).toBe(`TEMPORAL_TLS_CA: cannot read '${subdir}' (it is a directory)`);
  });

  it('rejects a file that is not PEM without echoing its content', async () => {
    const notPem = path.join(dir, 'key.der');
    await writeFile(notPem, 'SECRETKEYMATERIAL-in-DER-form');
    const error = errorOf({ TEMPORAL_TLS_CERT: cert, TEMPORAL_TLS_KEY: notPem });
    expect(error.message).toBe(`TEMPORAL_TLS_KEY: '${notPem}' is not a PEM file (no '-----BEGIN' line)`);
    expect(error.message).not.toContain('SECRETKEYMATERIAL');
  });

  it('refuses contradictions and malformed values, naming the variable', () => {
    const noTls = errorOf({ TEMPORAL_TLS: 'false', TEMPORAL_API_KEY: API_KEY });
    expect(noTls.message).toBe('TEMPORAL_TLS=false contradicts TEMPORAL_API_KEY, which need TLS');
    expect(noTls.message).not.toContain(API_KEY);
    expect(errorOf({ TEMPORAL_TLS: 'yes please' }).message).toBe("TEMPORAL_TLS must be true or false, got 'yes please'");
    expect(errorOf({ TEMPORAL_ADDRESS: 'http://temporal:7233' }).message).toBe(
      "TEMPORAL_ADDRESS must be host:port, got 'http://temporal:7233'",
    );
  });

  describe('profiles from a TOML file', () => {
    const PROFILES = [
      '# The Temporal CLI\'s format: one table per profile.',
      '[profile.default]',
      'address = "temporal.default.example:7233"',
      'namespace = "from-default-profile"',
      '',
      '[profile.prod]',
      'address = "prod.a1b2c.tmprl.cloud:7233"',
      'namespace = "offboarding.a1b2c"',
      '',
      '[profile.cloud]',
      'address = "us-east-1.aws.api.temporal.io:7233"',
      'namespace = "offboarding.a1b2c"',
      `api_key = "${API_KEY}"`,
      '[profile.cloud.grpc_meta]',
      'x-tenant = "SECRET-HEADER-VALUE"',
      '',
    ].join('\n');
    let file: string;
    beforeAll(async () => {
      file = path.join(dir, 'temporal.toml');
      await writeFile(file, PROFILES);
    });

    it('selects address and namespace from the profile TEMPORAL_PROFILE names', () => {
      const settings = readTemporalConnection({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'prod' });
      expect(settings.namespace).toBe('offboarding.a1b2c');
      expect(settings.options).toEqual({ address: 'prod.a1b2c.tmprl.cloud:7233' });
      expect(settings.describe).toEqual({
        address: 'prod.a1b2c.tmprl.cloud:7233',
        namespace: 'offboarding.a1b2c',
        tls: 'off',
        auth: 'none',
        configFile: file,
        profile: 'prod',
      });
    });

    it('uses the default profile, and the variables override it', () => {
      expect(readTemporalConnection({ TEMPORAL_CONFIG_FILE: file }).describe).toMatchObject({
        address: 'temporal.default.example:7233',
        namespace: 'from-default-profile',
        profile: 'default',
      });
      const overridden = readTemporalConnection({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'prod', TEMPORAL_NAMESPACE: 'other' });
      expect(overridden.namespace).toBe('other');
      expect(overridden.options.address).toBe('prod.a1b2c.tmprl.cloud:7233');
    });

    it("reads the Temporal CLI's own file when TEMPORAL_CONFIG_FILE is not set", async () => {
      const configHome = path.join(dir, 'xdg');
      await mkdir(path.join(configHome, 'temporalio'), { recursive: true });
      await writeFile(path.join(configHome, 'temporalio', 'temporal.toml'), PROFILES);
      const settings = readTemporalConnection({ XDG_CONFIG_HOME: configHome, TEMPORAL_PROFILE: 'prod' });
      expect(settings.describe).toMatchObject({ address: 'prod.a1b2c.tmprl.cloud:7233', configFile: path.join(configHome, 'temporalio', 'temporal.toml') });
      // No file there: the built-in defaults, as before.
      expect(readTemporalConnection({ XDG_CONFIG_HOME: path.join(dir, 'empty-xdg') }).options).toEqual({ address: 'localhost:7233' });
    });

    it('takes the API key and gRPC headers from the profile, and describes neither value', () => {
      const settings = readTemporalConnection({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'cloud' });
      expect(settings.options).toEqual({
        address: 'us-east-1.aws.api.temporal.io:7233',
        tls: {},
        apiKey: API_KEY,
        metadata: { 'x-tenant': 'SECRET-HEADER-VALUE' },
      });
      expect(settings.describe).toMatchObject({ tls: 'server', auth: 'api-key', grpcMeta: ['x-tenant'] });
      expect(JSON.stringify(settings.describe)).not.toMatch(/SECRET/);
    });

    it('reads mTLS files named in the profile, and names the profile when one is missing', async () => {
      const mtls = path.join(dir, 'mtls.toml');
      await writeFile(mtls, `[profile.default]\naddress = "temporal.internal.example:7233"\n[profile.default.tls]\nclient_cert_path = "${cert}"\nclient_key_path = "${key}"\nserver_ca_cert_path = "${ca}"\nserver_name = "temporal.example"\n`);
      const settings = readTemporalConnection({ TEMPORAL_CONFIG_FILE: mtls });
      expect(Buffer.from(settings.options.tls!.clientCertPair!.key).toString()).toBe(KEY);
      expect(Buffer.from(settings.options.tls!.serverRootCACertificate!).toString()).toBe(CA);
      expect(settings.describe).toMatchObject({ tls: 'mutual', auth: 'client-certificate', certFile: cert, caFile: ca, serverName: 'temporal.example' });

      const broken = path.join(dir, 'broken-mtls.toml');
      const missing = path.join(dir, 'gone.key');
      await writeFile(broken, `[profile.default]\n[profile.default.tls]\nclient_cert_path = "${cert}"\nclient_key_path = "${missing}"\n`);
      expect(errorOf({ TEMPORAL_CONFIG_FILE: broken }).message).toBe(
        `tls.client_key_path of profile 'default' in ${broken}: cannot read '${missing}' (no such file)`,
      );
    });

    it('names the file and the profile when either is wrong, without echoing the file', async () => {
      expect(errorOf({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'staging' }).message).toBe(
        `TEMPORAL_PROFILE: no profile 'staging' in ${file} (it has 'default', 'prod', 'cloud')`,
      );
      const missing = path.join(dir, 'no-such.toml');
      expect(errorOf({ TEMPORAL_CONFIG_FILE: missing }).message).toBe(`TEMPORAL_CONFIG_FILE: cannot read '${missing}' (no such file)`);
      expect(errorOf({ TEMPORAL_PROFILE: 'prod', XDG_CONFIG_HOME: path.join(dir, 'empty-xdg') }).message).toBe(
        `TEMPORAL_PROFILE is 'prod', but there is no Temporal config file: set TEMPORAL_CONFIG_FILE, or create ${path.join(dir, 'empty-xdg', 'temporalio', 'temporal.toml')}`,
      );
      const invalid = path.join(dir, 'invalid.toml');
      await writeFile(invalid, `[profile.default]\naddress = "x:7233"\napi_key = "${API_KEY}\n`);
      const error = errorOf({ TEMPORAL_CONFIG_FILE: invalid });
      expect(error.message).toMatch(new RegExp(`^${invalid.replace(/[.]/g, '\\.')}:3:\\d+: not a valid Temporal config file \\(.+\\)$`));
      expect(error.message).not.toContain(API_KEY);
      const badAddress = path.join(dir, 'bad-address.toml');
      await writeFile(badAddress, '[profile.default]\naddress = "https://temporal.example"\n');
      expect(errorOf({ TEMPORAL_CONFIG_FILE: badAddress }).message).toBe(
        `address of profile 'default' in ${badAddress} must be host:port, got 'https://temporal.example'`,
      );
    });
  });

  describe('the standard TLS variable names', () => {
    it('work like the earlier ones', () => {
      const settings = readTemporalConnection({
        TEMPORAL_TLS_CLIENT_CERT_PATH: cert,
        TEMPORAL_TLS_CLIENT_KEY_PATH: key,
        TEMPORAL_TLS_SERVER_CA_CERT_PATH: ca,
      });
      expect(settings.describe).toMatchObject({ tls: 'mutual', auth: 'client-certificate', certFile: cert, caFile: ca });
      expect(Buffer.from(settings.options.tls!.clientCertPair!.crt).toString()).toBe(CERT);
      expect(errorOf({ TEMPORAL_TLS_CLIENT_CERT_PATH: cert }).message).toBe(
        'TEMPORAL_TLS_CLIENT_CERT_PATH is set but TEMPORAL_TLS_CLIENT_KEY_PATH is not: mTLS needs both the client certificate and its key',
      );
    });

    it('take PEM inline (*_DATA) and check it without echoing it', () => {
      const settings = readTemporalConnection({ TEMPORAL_TLS_CLIENT_CERT_DATA: CERT, TEMPORAL_TLS_CLIENT_KEY_DATA: KEY });
      expect(Buffer.from(settings.options.tls!.clientCertPair!.key).toString()).toBe(KEY);
      expect(settings.describe).toEqual({ address: 'localhost:7233', namespace: 'default', tls: 'mutual', auth: 'client-certificate' });
      const error = errorOf({ TEMPORAL_TLS_CLIENT_CERT_DATA: CERT, TEMPORAL_TLS_CLIENT_KEY_DATA: 'SECRETKEYMATERIAL' });
      expect(error.message).toBe("TEMPORAL_TLS_CLIENT_KEY_DATA: not PEM data (no '-----BEGIN' line)");
    });

    it('refuses an earlier and a standard name that disagree', () => {
      expect(errorOf({ TEMPORAL_TLS_CERT: cert, TEMPORAL_TLS_CLIENT_CERT_PATH: ca, TEMPORAL_TLS_KEY: key }).message).toBe(
        'TEMPORAL_TLS_CERT and TEMPORAL_TLS_CLIENT_CERT_PATH are both set, to different files: set only TEMPORAL_TLS_CLIENT_CERT_PATH',
      );
    });
  });
});

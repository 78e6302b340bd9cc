/**
 * The worker process and its Temporal connection settings: a bad setting stops
 * it at once with exit code 2 and a message naming the variable and the file;
 * a failed connection never prints the API key or the TLS key.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startWorkerProcess } from '../helpers/processes';
import { temporalAddress, uniqueTaskQueue } from '../helpers/temporal';

const API_KEY = 'tmprl-api-key-SECRET-5f9c2a';
const KEY_MATERIAL = 'MIIEvSECRETKEYMATERIAL';

describe('the worker process connecting to Temporal', () => {
  it('stops with exit code 2 naming the variable and the file that is missing', async () => {
    const missing = path.join(os.tmpdir(), 'rs-cleanup-no-such-dir', 'client.pem');
    const { done } = startWorkerProcess({ TEMPORAL_TLS_CERT: missing, TEMPORAL_TLS_KEY: missing, TEMPORAL_TASK_QUEUE: uniqueTaskQueue('tls') });
    const finished = await done;
    expect(finished.code).toBe(2);
    expect(finished.stderr.trim()).toBe(`rs-cleanup worker: TEMPORAL_TLS_CERT: cannot read '${missing}' (no such file)`);
  });

  it('never prints the API key or the client key when the connection fails', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'rs-cleanup-tls-'));
    const cert = path.join(dir, 'client.pem');
    const key = path.join(dir, 'client.key');
    await writeFile(cert, '-----BEGIN CERTIFICATE-----\nMIIBnotarealcert\n-----END CERTIFICATE-----\n');
    await writeFile(key, `-----BEGIN PRIVATE KEY-----\n${KEY_MATERIAL}\n-----END PRIVATE KEY-----\n`);
    // TLS against the suite's plaintext dev server: the handshake fails at once.
    const { done } = startWorkerProcess({
      TEMPORAL_ADDRESS: temporalAddress(),
      TEMPORAL_API_KEY: API_KEY,
      TEMPORAL_TLS_CERT: cert,
      TEMPORAL_TLS_KEY: key,
      TEMPORAL_TASK_QUEUE: uniqueTaskQueue('tls'),
      LOG_LEVEL: 'debug',
    });
    const finished = await done;
    expect(finished.code).toBe(1);
    expect(finished.stderr).toMatch(/TransportError|transport/i);
    const output = finished.stdout + finished.stderr;
    expect(output).not.toContain(API_KEY);
    expect(output).not.toContain(KEY_MATERIAL);
  });
});

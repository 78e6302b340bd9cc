/**
 * The worker process: its Temporal connection settings and its logs. A bad
 * setting stops it at once with exit code 2 and a message naming the variable
 * and the file; a failed connection never prints the API key or the TLS key;
 * everything it prints, the Temporal SDK's own messages included, is one pino
 * JSON line each.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startWorkerProcess } from '../helpers/processes';
import { temporalAddress, uniqueTaskQueue } from '../helpers/temporal';
import { waitFor } from '../helpers/wait-for';

const API_KEY = 'tmprl-api-key-SECRET-5f9c2a';
const KEY_MATERIAL = 'MIIEvSECRETKEYMATERIAL';

interface LogLine {
  level: number;
  msg: string;
  service?: string;
  sdkComponent?: string;
  taskQueue?: string;
  node?: string;
  err?: { type: string; message: string };
}

/** Every line of the output as JSON; fails naming the first line that is not. */
function jsonLines(output: string): LogLine[] {
  return output
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      try {
        return JSON.parse(line) as LogLine;
      } catch {
        throw new Error(`not a JSON log line: ${line}`);
      }
    });
}

describe('the worker process connecting to Temporal', () => {
  it('stops with exit code 2 naming the variable and the file that is missing', async () => {
    const missing = path.join(os.tmpdir(), 'rs-cleanup-no-such-dir', 'client.pem');
    const { done } = startWorkerProcess({ TEMPORAL_TLS_CERT: missing, TEMPORAL_TLS_KEY: missing, TEMPORAL_TASK_QUEUE: uniqueTaskQueue('tls') });
    const finished = await done;
    expect(finished.code).toBe(2);
    expect(finished.stderr.trim()).toBe(`rs-cleanup worker: TEMPORAL_TLS_CERT: cannot read '${missing}' (no such file)`);
  });

  it('stops with exit code 2 naming the profile that is not in the config file', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'rs-cleanup-profile-'));
    const file = path.join(dir, 'temporal.toml');
    await writeFile(file, '[profile.default]\naddress = "localhost:7233"\n');
    const { done } = startWorkerProcess({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'prod', TEMPORAL_TASK_QUEUE: uniqueTaskQueue('profile') });
    const finished = await done;
    expect(finished.code).toBe(2);
    expect(finished.stderr.trim()).toBe(`rs-cleanup worker: TEMPORAL_PROFILE: no profile 'prod' in ${file} (it has 'default')`);
  });

  it('logs a failed connection as one JSON line, and never prints the API key or the client key', async () => {
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
    expect(finished.stderr).toBe('');
    const failed = jsonLines(finished.stdout).find((line) => line.msg === 'worker failed');
    expect(failed).toMatchObject({ level: 60, service: 'rs-cleanup-worker' });
    expect(`${failed!.err!.type}: ${failed!.err!.message}`).toMatch(/TransportError|transport/i);
    const output = finished.stdout + finished.stderr;
    expect(output).not.toContain(API_KEY);
    expect(output).not.toContain(KEY_MATERIAL);
  });

  it("logs the SDK's messages in its own JSON lines, the expected no-workflows warning at debug only", async () => {
    const taskQueue = uniqueTaskQueue('logs');
    const { child, done } = startWorkerProcess({ TEMPORAL_ADDRESS: temporalAddress(), TEMPORAL_TASK_QUEUE: taskQueue, LOG_LEVEL: 'debug' });
    let stdout = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    try {
      await waitFor(
        async () => stdout,
        (out) => out.includes('"msg":"worker started"') && (out.match(/"state":"RUNNING"/g) ?? []).length === 2,
        'both Temporal workers of the process to run',
        90_000,
      );
    } finally {
      child.kill('SIGTERM');
    }
    const finished = await done;
    expect(finished.code).toBe(0);
    expect(finished.stderr).toBe('');

    const lines = jsonLines(finished.stdout);
    expect(lines.every((line) => line.service === 'rs-cleanup-worker')).toBe(true);
    // The SDK's TypeScript side and its Rust core, both through the worker's logger.
    expect(lines.filter((line) => line.sdkComponent === 'worker').length).toBeGreaterThan(0);
    expect(lines.filter((line) => line.sdkComponent === 'core').length).toBeGreaterThan(0);
    // The deletes queue has activities only: the SDK's warning about it is expected, so debug.
    const noWorkflows = lines.filter((line) => line.msg === 'No workflows registered, not polling for workflow tasks');
    expect(noWorkflows).toEqual([expect.objectContaining({ level: 20, taskQueue: `${taskQueue}-deletes` })]);
    expect(lines.filter((line) => line.level >= 40)).toEqual([]);
    expect(lines.find((line) => line.msg === 'worker started')!.node).toMatch(/^v(2[2-9]|[3-9]\d)\./);
    expect(lines.at(-1)!.msg).toBe('worker stopped');
  });
});

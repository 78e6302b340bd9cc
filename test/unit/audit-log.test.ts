/**
 * The audit's file-writing seam: a write the disk refuses throws to the
 * caller (pino's own destination would only emit an 'error' event), so a
 * delete's intent record that cannot be written stops the delete.
 */
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { auditLogger, isWriteUnavailable, writeDurably } from '../../activities/audit-log';

describe('audit log writes', () => {
  it('writes a durable record as one JSON line', async () => {
    const runDir = mkdtempSync(path.join(os.tmpdir(), 'rs-cleanup-audit-'));
    await writeDurably(runDir, { event: 'intent', identifier: 'https://x' }, { backup: { name: 'n' } }, 'about to delete');
    const [line] = readFileSync(path.join(runDir, 'audit.jsonl'), 'utf8').trim().split('\n');
    expect(JSON.parse(line!)).toMatchObject({ event: 'intent', identifier: 'https://x', backup: { name: 'n' }, msg: 'about to delete' });
  });

  it('throws when the audit file cannot be written, for the durable record and for any other record', async () => {
    const runDir = mkdtempSync(path.join(os.tmpdir(), 'rs-cleanup-audit-'));
    mkdirSync(path.join(runDir, 'audit.jsonl')); // a directory where the file should be: every write fails
    let error: unknown;
    try {
      await writeDurably(runDir, { event: 'intent' }, {}, 'about to delete');
    } catch (err) {
      error = err;
    }
    expect((error as NodeJS.ErrnoException).code).toBe('EISDIR');
    expect(isWriteUnavailable(error)).toBe(true);
    expect(() => auditLogger(runDir).info({ event: 'outcome' }, 'deleted')).toThrow(/EISDIR/);
  });
});

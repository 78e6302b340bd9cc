/**
 * The journal of a shared delete task: what a retry of the task (its worker
 * died) and an item's retry in a task of its own read back from it.
 */
import { appendFile, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BackupReader, BatchJournal, readJournalItem } from '../../activities/batch-journal';
import { sharedTaskJournal, type ItemResult } from '../../common/types';

const a = { userPoolId: 'us-east-1_A', identifier: 'https://a' };
const b = { userPoolId: 'us-east-1_A', identifier: 'https://b' };
const backupOf = (item: typeof a) => ({ ...item, name: `name of ${item.identifier}`, scopes: [] });
const resultOf = (item: typeof a, journal: string): ItemResult => ({ ...item, row: 2, outcome: 'deleted', attempts: 1, finishedAt: '2026-11-28T00:00:00.000Z', journal });

describe('batch journal', () => {
  it('gives a retry the backups, the intents not withdrawn and the results, skipping a line torn by a crash', async () => {
    const runDir = await mkdtemp(path.join(os.tmpdir(), 'rs-cleanup-journal-'));
    const name = sharedTaskJournal('0b9a-run', 3);
    const first = await BatchJournal.open(runDir, name);
    first.writeBackup(a, backupOf(a));
    first.writeBackup(b, backupOf(b));
    await first.writeIntent(a);
    await first.writeIntent(b);
    first.withdrawIntent(b); // refused: b's Delete certainly did not apply
    first.writeResult(resultOf(a, name));
    first.close();
    await appendFile(path.join(runDir, name), '{"k":"intent","p":"us-east-1_A","i":"https://'); // the crash

    const retry = await BatchJournal.open(runDir, name);
    expect(retry.hasIntent(a)).toBe(true);
    expect(retry.hasIntent(b)).toBe(false);
    expect(retry.backup(b)).toEqual(backupOf(b));
    expect(retry.result(a)?.outcome).toBe('deleted');
    expect(retry.result(b)).toBeUndefined();
    retry.close();

    expect(await readJournalItem(runDir, name, a)).toEqual({ backup: backupOf(a), intent: true });
    expect(await readJournalItem(runDir, name, b)).toEqual({ backup: backupOf(b), intent: false });
    // A task that never wrote its journal: nothing known, nothing claimed.
    expect(await readJournalItem(runDir, sharedTaskJournal('0b9a-run', 4), a)).toEqual({ intent: false });
  });

  it("the backup reader finds an item's backup in its journal", async () => {
    const runDir = await mkdtemp(path.join(os.tmpdir(), 'rs-cleanup-journal-'));
    const name = sharedTaskJournal('run', 1);
    const journal = await BatchJournal.open(runDir, name);
    journal.writeBackup(a, backupOf(a));
    journal.close();
    const reader = new BackupReader(runDir);
    expect(await reader.read(resultOf(a, name))).toEqual(backupOf(a));
    expect(await reader.read(resultOf(b, name))).toBeUndefined();
  });

  it('refuses a journal name that is not one (a path elsewhere)', async () => {
    const runDir = await mkdtemp(path.join(os.tmpdir(), 'rs-cleanup-journal-'));
    await expect(BatchJournal.open(runDir, '../../etc/passwd')).rejects.toThrow(/not a journal name/);
    await expect(new BackupReader(runDir).read(resultOf(a, 'batches/../x-1.jsonl'))).rejects.toThrow(/not a journal name/);
  });
});

/**
 * Where the delete activities keep an item's backup and intent.
 *
 * An item that has a delete task of its own keeps them in files of its own
 * (common/run-files.ts `backupFile`, `intentFile`). Items that share a task
 * (activities/delete-resource-servers.ts) keep them in the journal of that
 * task: one append-only file, <runDir>/batches/<runId>-<activityId>.jsonl,
 * instead of a backup file (temp file, rename) and an intent marker per item:
 * the file opens, renames and reads that were most of the worker's cost per item.
 *
 * A journal line is one of:
 *   {"k":"backup","p":pool,"i":identifier,"backup":{...}}  the definition, read before deleting
 *   {"k":"intent","p":pool,"i":identifier}                 a Delete is about to be sent (fsync'd before it is)
 *   {"k":"withdrawn","p":pool,"i":identifier}              ... and it certainly did not apply
 *   {"k":"result","p":pool,"i":identifier,"result":{...}}  the item's result in this task
 *
 * The workflow names the journal, so a retried task (its worker died) reads
 * what its earlier attempts wrote, and so does an item's retry in a task of its
 * own: finished items are
 * not tried again, and items with an intent are known to have perhaps been
 * deleted by this run. A line torn by the crash is skipped.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { SHARED_TASK_JOURNAL, type ItemResult, type ResourceServerBackup } from '../common/types';
import { backupFile } from '../common/run-files';
import { AppendFile } from './audit-log';

type JournalLine =
  | { k: 'backup'; p: string; i: string; backup: ResourceServerBackup }
  | { k: 'intent' | 'withdrawn'; p: string; i: string }
  | { k: 'result'; p: string; i: string; result: ItemResult };

interface ItemKey {
  userPoolId: string;
  identifier: string;
}

const keyOf = (item: ItemKey) => `${item.userPoolId}\n${item.identifier}`;

/** A journal's file; its name comes from the workflow, so it must look like one (never a path elsewhere). */
function journalPath(runDir: string, name: string): string {
  // Only a workflow input that was tampered with names anything else: no retry makes it right.
  if (!SHARED_TASK_JOURNAL.test(name)) throw ApplicationFailure.nonRetryable(`not a journal name: ${JSON.stringify(name)}`, 'InvalidJournalName');
  return path.join(runDir, name);
}

/** What a journal says about its items (the last word for each). */
export interface JournalContents {
  backups: Map<string, ResourceServerBackup>;
  /** Items with an intent not withdrawn: a Delete of this run may have applied. */
  intents: Set<string>;
  results: Map<string, ItemResult>;
}

export async function readJournal(file: string): Promise<JournalContents> {
  const contents: JournalContents = { backups: new Map(), intents: new Set(), results: new Map() };
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return contents;
    throw err;
  }
  for (const raw of text.split('\n')) {
    if (!raw) continue;
    let line: JournalLine;
    try {
      line = JSON.parse(raw) as JournalLine;
    } catch {
      continue; // torn by a crash: the record it would have made is made again
    }
    const key = keyOf({ userPoolId: line.p, identifier: line.i });
    if (line.k === 'backup') contents.backups.set(key, line.backup);
    else if (line.k === 'intent') contents.intents.add(key);
    else if (line.k === 'withdrawn') contents.intents.delete(key);
    else if (line.k === 'result') contents.results.set(key, line.result);
  }
  return contents;
}

/** One batch task's journal, open for this attempt. */
export class BatchJournal {
  private readonly file: AppendFile;

  private constructor(
    readonly name: string,
    private readonly contents: JournalContents,
    file: string,
  ) {
    this.file = new AppendFile(file);
  }

  static async open(runDir: string, name: string): Promise<BatchJournal> {
    const file = journalPath(runDir, name);
    return new BatchJournal(name, await readJournal(file), file);
  }

  backup(item: ItemKey): ResourceServerBackup | undefined {
    return this.contents.backups.get(keyOf(item));
  }

  hasIntent(item: ItemKey): boolean {
    return this.contents.intents.has(keyOf(item));
  }

  /** The result an earlier attempt of this task recorded for the item. */
  result(item: ItemKey): ItemResult | undefined {
    return this.contents.results.get(keyOf(item));
  }

  writeBackup(item: ItemKey, backup: ResourceServerBackup): void {
    this.append({ k: 'backup', p: item.userPoolId, i: item.identifier, backup });
    this.contents.backups.set(keyOf(item), backup);
  }

  /** Resolves once the intent is on the disk itself (an fsync shared with the other items' lines). */
  writeIntent(item: ItemKey): Promise<void> {
    this.contents.intents.add(keyOf(item));
    this.append({ k: 'intent', p: item.userPoolId, i: item.identifier });
    return this.file.sync();
  }

  withdrawIntent(item: ItemKey): void {
    this.contents.intents.delete(keyOf(item));
    this.append({ k: 'withdrawn', p: item.userPoolId, i: item.identifier });
  }

  /** Not fsync'd: a result lost with the machine only means the item is tried again, knowing its intent. */
  writeResult(result: ItemResult): void {
    this.append({ k: 'result', p: result.userPoolId, i: result.identifier, result });
  }

  close(): void {
    this.file.close();
  }

  private append(line: JournalLine): void {
    this.file.write(JSON.stringify(line) + '\n');
  }
}

/**
 * Reads the backups of finished items for the outcome records and the
 * manifest, from the item's own file or from its task's journal (read once for
 * all its items: a page's items come from a few journals).
 */
export class BackupReader {
  private readonly journals = new Map<string, Promise<JournalContents>>();

  constructor(private readonly runDir: string) {}

  async read(result: ItemResult): Promise<ResourceServerBackup | undefined> {
    if (!result.journal) return readBackup(this.runDir, result);
    let journal = this.journals.get(result.journal);
    if (!journal) {
      // Items of a page come from the few journals of the page's tasks: keep only the recent ones.
      if (this.journals.size >= 64) this.journals.delete(this.journals.keys().next().value!);
      journal = readJournal(journalPath(this.runDir, result.journal));
      this.journals.set(result.journal, journal);
    }
    return (await journal).backups.get(keyOf(result));
  }
}

/** What a journal says about one item: for its retry in a task of its own. */
export async function readJournalItem(runDir: string, journal: string, item: ItemKey): Promise<{ backup?: ResourceServerBackup; intent: boolean }> {
  const contents = await readJournal(journalPath(runDir, journal));
  const backup = contents.backups.get(keyOf(item));
  return { ...(backup ? { backup } : {}), intent: contents.intents.has(keyOf(item)) };
}

/** An item's backup in its own file (an item that had a delete task of its own). */
export async function readBackup(runDir: string, item: ItemKey): Promise<ResourceServerBackup | undefined> {
  try {
    return JSON.parse(await readFile(backupFile(runDir, item.userPoolId, item.identifier), 'utf8')) as ResourceServerBackup;
  } catch {
    return undefined;
  }
}

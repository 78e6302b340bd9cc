/**
 * `rs-cleanup run`: validates the input locally (nothing starts when a row is
 * invalid), asks for confirmation before a real delete, starts the cleanup
 * workflow (or attaches to the same run when it is already going), shows
 * progress, prints the summary and picks the exit code.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { ActivityFailure, WorkflowFailedError, WorkflowIdConflictPolicy } from '@temporalio/client';
import { formatInputErrors, parsePairs, saveStandardInput, type DuplicateRow, type InputError, type InputFormat } from '../common/input-reader';
import { validateInputToPlan } from '../common/input-to-plan';
import type { StagedPlanRef } from '../activities/prepare-input';
import { toCsv } from '../common/csv';
import { compileProtection, parseProtectionPatterns } from '../common/protection';
import { definedOnly, type InUsePolicy, type Limits } from '../common/types';
import { cleanupWorkflow, progressQuery, type CleanupInput, type CleanupSummary } from '../workflows/cleanup';
import { dataDirectory } from './embedded-temporal';
import { connectTemporal, type TemporalTarget } from './temporal-target';
import { ProgressLine } from './progress';
import { confirmDeletion } from './confirm';
import { EXIT, UsageError } from './exit-codes';

/** Options shared by `run`, `redrive` and `schedule create`: what a cleanup does. */
export interface JobOptions {
  execute: boolean;
  rate?: number;
  poolRate?: number;
  window?: number;
  auditDir?: string;
  skipInvalid: boolean;
  maxFailures?: number;
  maxFailurePercent?: number;
  maxAttempts?: number;
  itemDeadline?: number;
  skipMissingPools?: boolean;
  inUse?: InUsePolicy;
  protect?: string[];
  protectFile?: string;
  maxDeletes?: number;
  verify: boolean;
}

export interface RunOptions extends JobOptions {
  input?: string;
  pair?: string[];
  format?: InputFormat;
  json: boolean;
  yes: boolean;
  id?: string;
  taskQueue?: string;
}

export async function runCommand(options: RunOptions): Promise<number> {
  const protect = protectionPatterns(options);
  const source = await resolveSource(options, protect);
  try {
    const checked = source.checked;
    if (checked.errors > 0) {
      process.stderr.write(`${checked.invalid} invalid row(s) in ${source.path}:\n${formatInputErrors(checked.firstErrors, 20, checked.errors)}\n`);
      if (checked.unusable) {
        process.stderr.write('Nothing was deleted. The file cannot be used as it is (see above); --skip-invalid does not apply to it.\n');
        return EXIT.invalidInput;
      }
      if (!options.skipInvalid) {
        process.stderr.write('Nothing was deleted. Fix the rows above, or pass --skip-invalid to run only the valid ones.\n');
        return EXIT.invalidInput;
      }
    }
    if (checked.duplicates > 0) {
      const first = checked.firstDuplicates[0]!;
      process.stderr.write(`${checked.duplicates} duplicate row(s) will run once (first: row ${first.row} repeats row ${first.firstRow}).\n`);
    }
    const deletable = checked.total - checked.protectedCount;
    if (options.maxDeletes !== undefined && deletable > options.maxDeletes) {
      process.stderr.write(
        `Refusing to start: ${deletable} resource servers would be deleted, more than --max-deletes ${options.maxDeletes}. Nothing was deleted.\n`,
      );
      return EXIT.invalidInput;
    }
    if (options.execute) {
      await confirmDeletion(deletable, {
        yes: options.yes,
        what: `About to delete resource servers listed in ${source.path} (${deletable} after protection; those used by app clients are ${(options.inUse ?? 'skip') === 'skip' ? 'skipped' : options.inUse === 'fail' ? 'a reason to stop' : 'deleted too'}).`,
      });
    }

    const sha256 = checked.inputSha256;
    const input = cleanupInputFrom(
      options,
      { path: source.path, sha256, ...(options.format ? { format: options.format } : {}), prepared: source.staged },
      protect,
    );
    const workflowId = options.id ?? `rs-cleanup-${sha256.slice(0, 12)}-${options.execute ? 'execute' : 'dry-run'}`;
    const target = await connectTemporal({ needsWorker: true, taskQueue: options.taskQueue });
    return await startAndWatch(target, workflowId, input, { json: options.json, count: checked.total });
  } finally {
    // prepareInput has moved the staged plan into the run directory by now, or prepares its own.
    await rm(source.staged.dir, { recursive: true, force: true });
  }
}

/** The workflow input for a cleanup, from the command-line options. */
export function cleanupInputFrom(options: JobOptions, source: CleanupInput['source'], protect: string[]): CleanupInput {
  const limits: Partial<Limits> = definedOnly({ rate: options.rate, poolRate: options.poolRate, window: options.window });
  return {
    source,
    execute: options.execute,
    limits,
    ...(options.auditDir ? { auditDir: path.resolve(options.auditDir) } : {}),
    skipInvalidRows: options.skipInvalid,
    ...(options.maxFailures !== undefined || options.maxFailurePercent !== undefined
      ? { failureThreshold: definedOnly({ count: options.maxFailures, percent: options.maxFailurePercent }) }
      : {}),
    ...(options.maxAttempts !== undefined ? { maxAttempts: options.maxAttempts } : {}),
    ...(options.itemDeadline !== undefined ? { itemDeadlineMinutes: options.itemDeadline } : {}),
    ...(options.skipMissingPools ? { skipMissingPools: true } : {}),
    inUse: options.inUse ?? 'skip',
    ...(protect.length > 0 ? { protect } : {}),
    ...(options.maxDeletes !== undefined ? { maxDeletes: options.maxDeletes } : {}),
    ...(options.verify ? { verify: true } : {}),
  };
}

/**
 * Protection patterns from --protect, --protect-file, RS_CLEANUP_PROTECTED
 * (patterns separated by ';' or newlines) and RS_CLEANUP_PROTECTED_FILE, all
 * of them together. A bad pattern is a usage error: nothing starts.
 */
export function protectionPatterns(options: Pick<JobOptions, 'protect' | 'protectFile'>): string[] {
  const patterns = [...(options.protect ?? []), ...parseProtectionPatterns(process.env.RS_CLEANUP_PROTECTED ?? '')];
  for (const file of [options.protectFile, process.env.RS_CLEANUP_PROTECTED_FILE]) {
    if (!file) continue;
    try {
      patterns.push(...parseProtectionPatterns(readFileSync(file, 'utf8')));
    } catch (err) {
      throw new UsageError(`cannot read the protection file ${file}: ${(err as Error).message}`);
    }
  }
  try {
    compileProtection(patterns);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  return patterns;
}

/** Starts the workflow (attaching when that ID is running), follows it, prints the summary. */
export async function startAndWatch(
  target: TemporalTarget,
  workflowId: string,
  input: CleanupInput,
  options: { json: boolean; count: number },
): Promise<number> {
  let interrupted = false;
  const stopOnSignal = () => {
    interrupted = true;
    process.stderr.write(
      `\nInterrupted. ${target.embedded ? 'Run the same command again to resume' : 'The run goes on in Temporal'} (workflow ID ${workflowId}).\n`,
    );
    void target.interrupt().finally(() => process.exit(EXIT.interrupted));
  };
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);
  try {
    const requestedAt = Date.now();
    const handle = await target.client.workflow.start(cleanupWorkflow, {
      taskQueue: target.taskQueue,
      workflowId,
      args: [input],
      // The same offboarding started twice attaches to the running workflow.
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    });
    const { startTime } = await handle.describe();
    if (target.embedded) await warnAboutOtherRuns(target, workflowId);
    const attached = startTime.getTime() < requestedAt - 1_000;
    process.stderr.write(
      attached
        ? `Attached to the run already going since ${startTime.toISOString()} (workflow ID ${workflowId}); not starting a second one.\n`
        : `${input.execute ? 'EXECUTE: deleting' : 'Dry-run (pass --execute to delete): checking'} ${options.count} resource server(s); workflow ID ${workflowId}\n`,
    );
    let summary: CleanupSummary;
    try {
      summary = await followToEnd(target, workflowId, !options.json);
    } catch (err) {
      // Stopping the embedded server on Ctrl-C fails the wait for the result; that is not an error.
      if (interrupted) return await new Promise<number>(() => undefined); // the signal handler exits
      if (!(err instanceof WorkflowFailedError)) throw err;
      // e.g. the input changed under the run, or the dependency check was denied: say why in one line.
      const cause = err.cause instanceof ActivityFailure && err.cause.cause ? err.cause.cause : err.cause;
      process.stderr.write(`Run ${workflowId} failed: ${cause?.message ?? err.message}\n`);
      return EXIT.failures;
    }
    process.stdout.write(options.json ? JSON.stringify(summary, null, 2) + '\n' : formatSummary(summary));
    return exitCodeOf(summary);
  } finally {
    process.off('SIGINT', stopOnSignal);
    process.off('SIGTERM', stopOnSignal);
    await target.close();
  }
}

/**
 * The embedded worker resumes every interrupted run in its database, not only
 * the one asked for: say so, so nothing goes on unseen.
 */
async function warnAboutOtherRuns(target: TemporalTarget, workflowId: string): Promise<void> {
  const others: string[] = [];
  for await (const run of target.client.workflow.list({ query: `WorkflowType = 'cleanupWorkflow' AND ExecutionStatus = 'Running'` })) {
    if (run.workflowId !== workflowId) others.push(run.workflowId);
  }
  if (others.length > 0) {
    process.stderr.write(
      `Note: ${others.length} earlier interrupted run(s) resume in this process too: ${others.join(', ')}. ` +
        'See them with `rs-cleanup status ID`; stop one with `rs-cleanup cancel ID`.\n',
    );
  }
}

export function exitCodeOf(summary: CleanupSummary): number {
  if (summary.status === 'invalid-input' || summary.status === 'refused') return EXIT.invalidInput;
  // A pool that does not exist is a failure: the operator's list is wrong, nothing was offboarded there.
  if (summary.counts.failed > 0 || summary.counts['pool-not-found'] > 0 || summary.missing > 0) return EXIT.failures;
  if (summary.status !== 'completed') return EXIT.stopped;
  if (summary.counts['skipped-in-use'] > 0 || summary.counts['skipped-protected'] > 0) return EXIT.skipped;
  return EXIT.ok;
}

/** Shows progress (when asked) until the workflow ends, following continue-as-new. */
export async function followToEnd(target: TemporalTarget, workflowId: string, showProgress: boolean): Promise<CleanupSummary> {
  const handle = target.client.workflow.getHandle<typeof cleanupWorkflow>(workflowId);
  const line = new ProgressLine();
  let finished = false;
  const poll = (async () => {
    while (!finished) {
      try {
        if (showProgress) line.update(await handle.query(progressQuery));
      } catch {
        // Between runs of a continue-as-new chain a query can fail; the next poll answers.
      }
      await new Promise((r) => setTimeout(r, 1_000));
    }
  })();
  try {
    return await handle.result();
  } finally {
    finished = true;
    await poll;
    if (showProgress) line.end();
  }
}

export function formatSummary(s: CleanupSummary): string {
  const row = (label: string, value: string | number) => `  ${label.padEnd(18)}${value}`;
  const lines = [
    '',
    `Run ${s.workflowId}: ${s.status}${s.stopReason ? ` (${s.stopReason})` : ''}${s.execute ? '' : ' — dry-run, nothing deleted'}`,
    row('items', `${s.total}${s.duplicates ? ` (+${s.duplicates} duplicate rows run once)` : ''}`),
    ...Object.entries(s.counts).map(([outcome, n]) => row(outcome, n)),
    row('duration', `${(s.durationMs / 1000).toFixed(1)} s`),
  ];
  if (s.status === 'invalid-input') lines.push(row('invalid rows', `${s.invalid}; see ${s.invalidReport}`));
  if (s.inUseReport) lines.push(row('in use', `${s.inUse} used by app clients; see ${s.inUseReport}`));
  if (s.missing > 0) lines.push(row('MISSING', `${s.missing} items have no recorded outcome; see the audit`));
  if (s.auditFile) lines.push(row('audit', s.auditFile));
  if (s.manifestDir) lines.push(row('manifest', s.manifestDir));
  if (s.counts.failed > 0 && s.manifestDir) {
    lines.push('', `Re-run only the failures: rs-cleanup run --input ${path.join(s.manifestDir, 'failed.csv')}${s.execute ? ' --execute' : ''}`);
  }
  return lines.join('\n') + '\n';
}

/** What the local check of the input found: counts, the first errors and duplicates, the input's checksum. */
interface CheckedInput {
  inputSha256: string;
  /** Items in the plan (valid, without duplicates) and how many of them are protected. */
  total: number;
  protectedCount: number;
  errors: number;
  invalid: number;
  firstErrors: InputError[];
  duplicates: number;
  firstDuplicates: DuplicateRow[];
  /** The file as a whole cannot be used: no run, even with --skip-invalid. */
  unusable: boolean;
}

interface ResolvedSource {
  path: string;
  checked: CheckedInput;
  /** The plan prepared from it, for prepareInput to reuse. */
  staged: StagedPlanRef;
}

/**
 * The input file as given (`--input -`: standard input saved to a file), or
 * `--pair` arguments written to a CSV file the workers can read; then one
 * pass over it (validateInputToPlan) that checks every row and prepares the
 * plan into a staging directory.
 */
async function resolveSource(options: RunOptions, protect: string[]): Promise<ResolvedSource> {
  const pairs = options.pair ?? [];
  if (options.input && pairs.length > 0) throw new UsageError('give either --input or --pair, not both');
  const inputsDir = path.join(dataDirectory(), 'inputs');
  let file: string;
  let pairCheck: ReturnType<typeof parsePairs> | undefined;
  if (options.input === '-') {
    try {
      file = await saveStandardInput(path.join(inputsDir, `stdin-${Date.now()}-${process.pid}`));
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  } else if (options.input) {
    file = path.resolve(options.input);
  } else {
    if (pairs.length === 0) throw new UsageError('nothing to do: give --input FILE (- for standard input) or at least one --pair POOL,IDENTIFIER');
    pairCheck = parsePairs(pairs);
    mkdirSync(inputsDir, { recursive: true });
    file = path.join(inputsDir, `pairs-${Date.now()}.csv`);
    writeFileSync(file, toCsv(['userPoolId', 'identifier'], pairCheck.items.map((i) => [i.userPoolId, i.identifier])));
  }

  const stagingRoot = path.join(dataDirectory(), 'staging');
  await removeStaleStagingDirs(stagingRoot);
  const stagingDir = path.join(stagingRoot, `${process.pid}-${randomBytes(4).toString('hex')}`);
  let prepared;
  try {
    prepared = await validateInputToPlan({ path: file, ...(options.format ? { format: options.format } : {}) }, stagingDir, { protect });
  } catch (err) {
    await rm(stagingDir, { recursive: true, force: true });
    throw new UsageError((err as Error).message);
  }
  const pairErrors = pairCheck?.errors ?? [];
  const checked: CheckedInput = {
    inputSha256: prepared.input.sha256,
    total: prepared.total,
    protectedCount: prepared.protectedCount,
    errors: pairErrors.length + prepared.errors,
    invalid: new Set(pairErrors.map((e) => e.row)).size + prepared.invalid,
    firstErrors: [...pairErrors, ...prepared.firstErrors],
    duplicates: (pairCheck?.duplicates.length ?? 0) + prepared.duplicates,
    firstDuplicates: [...(pairCheck?.duplicates ?? []), ...prepared.firstDuplicates],
    unusable: prepared.unusable,
  };
  return { path: file, checked, staged: { dir: stagingDir, planSha256: prepared.plan.sha256 } };
}

/**
 * Staging directories left by a CLI that was interrupted before its run took
 * the plan. A day later nothing should want them; a run that still does
 * prepares its plan again from the input.
 */
async function removeStaleStagingDirs(stagingRoot: string): Promise<void> {
  const dayAgo = Date.now() - 24 * 60 * 60 * 1000;
  const entries = await readdir(stagingRoot, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    const dir = path.join(stagingRoot, entry.name);
    const stats = await stat(dir).catch(() => undefined);
    if (entry.isDirectory() && stats && stats.mtimeMs < dayAgo) await rm(dir, { recursive: true, force: true });
  }
}

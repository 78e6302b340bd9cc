/**
 * `rs-cleanup run`: validates the input locally (nothing starts when a row is
 * invalid), starts the cleanup workflow (or attaches to the same run when it is
 * already going), shows progress, prints the summary and picks the exit code.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client, Connection, WorkflowIdConflictPolicy } from '@temporalio/client';
import { formatInputErrors, parsePairs, readInputFile, type InputFormat, type ParsedInput } from '../common/input-reader';
import { sha256File } from '../common/plan-file';
import { toCsv } from '../common/csv';
import type { Limits } from '../common/types';
import { readWorkerConfig } from '../worker/config';
import {
  cleanupWorkflow,
  progressQuery,
  type CleanupInput,
  type CleanupSummary,
} from '../workflows/cleanup';
import { dataDirectory, startEmbeddedStack, type EmbeddedStack } from './embedded-temporal';
import { ProgressLine } from './progress';
import { EXIT, UsageError } from './exit-codes';

export interface RunOptions {
  input?: string;
  pair?: string[];
  format?: InputFormat;
  execute: boolean;
  rate?: number;
  poolRate?: number;
  window?: number;
  auditDir?: string;
  json: boolean;
  id?: string;
  skipInvalid: boolean;
  maxFailures?: number;
  maxFailurePercent?: number;
  maxAttempts?: number;
  taskQueue?: string;
}

export async function runCommand(options: RunOptions): Promise<number> {
  const source = await resolveSource(options);
  const parsed = source.parsed;
  if (parsed.errors.length > 0) {
    process.stderr.write(
      `${parsed.errors.length} invalid row(s) in ${source.path}:\n${formatInputErrors(parsed.errors)}\n`,
    );
    if (!options.skipInvalid) {
      process.stderr.write('Nothing was deleted. Fix the rows above, or pass --skip-invalid to run only the valid ones.\n');
      return EXIT.invalidInput;
    }
  }
  if (parsed.duplicates.length > 0) {
    process.stderr.write(`${parsed.duplicates.length} duplicate row(s) will run once (first: row ${parsed.duplicates[0]!.row} repeats row ${parsed.duplicates[0]!.firstRow}).\n`);
  }
  if (parsed.items.length === 0) {
    process.stderr.write(`No items to process in ${source.path}.\n`);
  }

  const sha256 = await sha256File(source.path);
  const workflowId = options.id ?? `rs-cleanup-${sha256.slice(0, 12)}-${options.execute ? 'execute' : 'dry-run'}`;
  const limits: Partial<Limits> = definedOnly({ rate: options.rate, poolRate: options.poolRate, window: options.window });
  const input: CleanupInput = {
    source: { path: source.path, sha256, ...(options.format ? { format: options.format } : {}) },
    execute: options.execute,
    limits,
    ...(options.auditDir ? { auditDir: path.resolve(options.auditDir) } : {}),
    skipInvalidRows: options.skipInvalid,
    ...(options.maxFailures !== undefined || options.maxFailurePercent !== undefined
      ? { failureThreshold: definedOnly({ count: options.maxFailures, percent: options.maxFailurePercent }) }
      : {}),
    ...(options.maxAttempts !== undefined ? { maxAttempts: options.maxAttempts } : {}),
  };

  const target = await connectTemporal(options.taskQueue);
  const stopOnSignal = () => {
    process.stderr.write(
      `\nInterrupted. ${target.embedded ? 'Run the same command again to resume' : 'The run goes on in Temporal'} (workflow ID ${workflowId}).\n`,
    );
    void target.close().finally(() => process.exit(130));
  };
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);
  try {
    const handle = await target.client.workflow.start(cleanupWorkflow, {
      taskQueue: target.taskQueue,
      workflowId,
      args: [input],
      // The same offboarding started twice attaches to the running workflow.
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    });
    process.stderr.write(
      `${options.execute ? 'EXECUTE: deleting' : 'Dry-run (pass --execute to delete): checking'} ${parsed.items.length} resource server(s); workflow ID ${workflowId}\n`,
    );
    const summary = await watch(target.client, handle.workflowId, !options.json);
    if (options.json) process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
    else process.stdout.write(formatSummary(summary));
    return exitCodeOf(summary);
  } finally {
    process.off('SIGINT', stopOnSignal);
    process.off('SIGTERM', stopOnSignal);
    await target.close();
  }
}

export function exitCodeOf(summary: CleanupSummary): number {
  if (summary.status === 'invalid-input') return EXIT.invalidInput;
  if (summary.counts.failed > 0 || summary.missing > 0) return EXIT.failures;
  if (summary.status !== 'completed') return EXIT.stopped;
  return EXIT.ok;
}

async function watch(client: Client, workflowId: string, showProgress: boolean): Promise<CleanupSummary> {
  const handle = client.workflow.getHandle<typeof cleanupWorkflow>(workflowId);
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
  const lines = [
    '',
    `Run ${s.workflowId}: ${s.status}${s.stopReason ? ` (${s.stopReason})` : ''}${s.execute ? '' : ' — dry-run, nothing deleted'}`,
    `  items           ${s.total}${s.duplicates ? ` (+${s.duplicates} duplicate rows run once)` : ''}`,
    ...Object.entries(s.counts).map(([outcome, n]) => `  ${outcome.padEnd(16)}${n}`),
    `  duration        ${(s.durationMs / 1000).toFixed(1)} s`,
  ];
  if (s.status === 'invalid-input') {
    lines.push(`  invalid rows    ${s.invalid}; see ${s.invalidReport}`);
  }
  if (s.missing > 0) lines.push(`  MISSING         ${s.missing} items have no recorded outcome; see the audit`);
  if (s.auditFile) lines.push(`  audit           ${s.auditFile}`);
  if (s.manifestDir) lines.push(`  manifest        ${s.manifestDir}`);
  if (s.counts.failed > 0 && s.manifestDir) {
    lines.push('', `Re-run only the failures: rs-cleanup run --input ${path.join(s.manifestDir, 'failed.csv')}${s.execute ? ' --execute' : ''}`);
  }
  return lines.join('\n') + '\n';
}

interface TemporalTarget {
  client: Client;
  taskQueue: string;
  embedded: boolean;
  close(): Promise<void>;
}

/** TEMPORAL_ADDRESS set: only start the workflow there. Unset: the embedded default. */
async function connectTemporal(taskQueueOption?: string): Promise<TemporalTarget> {
  const config = readWorkerConfig();
  const taskQueue = taskQueueOption ?? config.temporal.taskQueue;
  let stack: EmbeddedStack | undefined;
  let address = process.env.TEMPORAL_ADDRESS;
  let namespace = config.temporal.namespace;
  if (!address) {
    process.stderr.write('No TEMPORAL_ADDRESS: starting the embedded Temporal dev server and a worker...\n');
    const activities = {
      ...config.activities,
      auditDir: process.env.RS_CLEANUP_AUDIT_DIR ? config.activities.auditDir : path.join(dataDirectory(), 'audit'),
    };
    stack = await startEmbeddedStack(activities, taskQueue);
    address = stack.address;
    namespace = stack.namespace;
  }
  const connection = await Connection.connect({ address });
  const client = new Client({ connection, namespace });
  return {
    client,
    taskQueue,
    embedded: stack !== undefined,
    async close() {
      await connection.close();
      await stack?.stop();
    },
  };
}

interface ResolvedSource {
  path: string;
  parsed: ParsedInput;
}

/** An input file as given, or `--pair` arguments written to a CSV file the workers can read. */
async function resolveSource(options: RunOptions): Promise<ResolvedSource> {
  const pairs = options.pair ?? [];
  if (options.input && pairs.length > 0) throw new UsageError('give either --input or --pair, not both');
  if (options.input) {
    const file = path.resolve(options.input);
    try {
      return { path: file, parsed: await readInputFile(file, options.format ? { format: options.format } : {}) };
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  }
  if (pairs.length === 0) throw new UsageError('nothing to do: give --input FILE or at least one --pair POOL,IDENTIFIER');
  const parsed = parsePairs(pairs);
  const dir = path.join(dataDirectory(), 'inputs');
  mkdirSync(dir, { recursive: true });
  const csv = toCsv(['userPoolId', 'identifier'], parsed.items.map((i) => [i.userPoolId, i.identifier]));
  const file = path.join(dir, `pairs-${Date.now()}.csv`);
  writeFileSync(file, csv);
  return { path: file, parsed };
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

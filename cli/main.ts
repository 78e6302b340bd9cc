/**
 * The rs-cleanup command line. Each command lives in its own module; this file
 * only declares the commands, their options and their exit codes.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { runCommand } from './run';
import { demoCommand } from './demo';
import { EXIT, UsageError } from './exit-codes';
import { ConfigError } from '../worker/config';

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`expected a positive number, got '${value}'`);
  return n;
}

function positiveInteger(value: string): number {
  const n = positiveNumber(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`expected a whole number, got '${value}'`);
  return n;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

const EXIT_CODES_HELP = `
Exit codes:
  0  every item ended deleted, already-absent or would-delete
  1  at least one item failed (the manifest's failed.csv re-runs them)
  2  invalid input or usage: nothing was deleted
  3  the run was cancelled or stopped early`;

export function buildProgram(): Command {
  const program = new Command()
    .name('rs-cleanup')
    .description('Safe, rate-limited bulk deletion of Amazon Cognito resource servers, as a Temporal workflow.')
    .showHelpAfterError()
    .exitOverride();

  program
    .command('run')
    .description('Delete the resource servers listed in an input file (a dry-run unless --execute).')
    .option('-i, --input <file>', 'CSV (header with userPoolId and identifier), JSON array or JSON Lines')
    .option('--pair <pool,identifier>', 'one item; split at the first comma; repeatable', collect)
    .addOption(new Option('--format <format>', 'input format (default: from the file name or content)').choices(['csv', 'json', 'jsonl']))
    .option('--execute', 'really delete; without it nothing is deleted and items end would-delete', false)
    .option('--rate <n>', 'DeleteResourceServer calls per second across the account (default 15)', positiveNumber)
    .option('--pool-rate <n>', 'DeleteResourceServer calls per second per user pool (default 5)', positiveNumber)
    .option('--window <n>', 'delete activities in flight at once (default 30, at most 500)', positiveInteger)
    .option('--audit-dir <dir>', 'where the audit log and manifest go (default data/audit)')
    .option('--id <workflowId>', 'workflow ID (default: from the input checksum, so a second start attaches)')
    .option('--skip-invalid', 'run the valid rows even when some rows are invalid', false)
    .option('--max-failures <n>', 'stop the run once this many items failed', positiveInteger)
    .option('--max-failure-percent <p>', 'stop once this percentage of finished items failed (after 20 items)', positiveNumber)
    .option('--max-attempts <n>', 'attempts per item on throttling and internal errors (default 8)', positiveInteger)
    .option('--task-queue <name>', 'Temporal task queue (default TEMPORAL_TASK_QUEUE or rs-cleanup)')
    .option('--json', 'print the summary as JSON', false)
    .addHelpText(
      'after',
      `
Examples:
  rs-cleanup run --input offboarding.csv                 # dry-run: reads every server, deletes nothing
  rs-cleanup run --input offboarding.csv --execute --rate 10
  rs-cleanup run --pair us-east-1_AbC123456,https://api.example.com/tenant-a --execute
${EXIT_CODES_HELP}`,
    )
    .action(async (options) => {
      process.exitCode = await runCommand(options);
    });

  program
    .command('demo')
    .description('Seed a local Cognito emulator and run a real --execute cleanup of examples/offboarding.csv against it.')
    .action(async () => {
      process.exitCode = await demoCommand();
    });

  return program;
}

async function main(): Promise<void> {
  // The CLI handles Ctrl-C itself (it tells the operator how to resume). The
  // embedded worker's own logs (each retried attempt is a warning) would bury
  // the progress line; the audit log has every attempt.
  Runtime.install({ shutdownSignals: [], logger: new DefaultLogger('ERROR') });
  try {
    await buildProgram().parseAsync(process.argv);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'commander.helpDisplayed' || code === 'commander.version' || code === 'commander.help') {
      process.exitCode = EXIT.ok;
    } else if (code?.startsWith('commander.')) {
      process.exitCode = EXIT.invalidInput;
    } else if (err instanceof UsageError || err instanceof ConfigError) {
      process.stderr.write(`rs-cleanup: ${err.message}\n`);
      process.exitCode = EXIT.invalidInput;
    } else {
      process.stderr.write(`rs-cleanup: ${(err as Error).stack ?? err}\n`);
      process.exitCode = EXIT.failures;
    }
  }
}

void main();

/**
 * The rs-cleanup command line. Each command lives in its own module; this file
 * only declares the commands, their options and their exit codes.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { DefaultLogger, makeTelemetryFilterString, Runtime } from '@temporalio/worker';
import { runCommand } from './run';
import { definedOnly } from '../common/types';
import { DEFAULT_LIMITS, LIMIT_BOUNDS, RUN_DEFAULTS, WORKER_DEFAULTS } from '../common/options';
import { listCommand, setRateCommand, signalCommand, statusCommand } from './status';
import { redriveCommand, reportCommand } from './report';
import { restoreCommand } from './restore';
import { discoverCommand } from './discover';
import { DEFAULT_EMULATOR_PORT, emulatorCommand } from './emulator';
import {
  scheduleActionCommand,
  scheduleCreateCommand,
  scheduleDescribeCommand,
  scheduleListCommand,
} from './schedule';
import { demoCommand } from './demo';
import { EXIT, UsageError } from './exit-codes';
import { ConfigError } from '../worker/config';
import { TemporalConnectionError } from '../common/temporal-connection';

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

/** A rate flag: a positive number no higher than LIMIT_BOUNDS.maxRate (a higher one is a typo). */
function rateValue(value: string): number {
  const n = positiveNumber(value);
  if (n > LIMIT_BOUNDS.maxRate) throw new InvalidArgumentError(`expected at most ${LIMIT_BOUNDS.maxRate} calls per second, got '${value}'`);
  return n;
}

function windowValue(value: string): number {
  const n = positiveInteger(value);
  if (n > LIMIT_BOUNDS.maxWindow) throw new InvalidArgumentError(`expected at most ${LIMIT_BOUNDS.maxWindow}, got '${value}'`);
  return n;
}

function percentValue(value: string): number {
  const n = positiveNumber(value);
  if (n > 100) throw new InvalidArgumentError(`expected a percentage up to 100, got '${value}'`);
  return n;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

const EXIT_CODES_HELP = `
Exit codes:
  0  every item ended deleted, already-absent or would-delete
  1  at least one item failed (the manifest's failed.csv re-runs them)
  2  invalid input, usage, a refused run or no confirmation: nothing was deleted
  3  the run was cancelled or stopped early
  4  the run finished, but some items were skipped (in use by app clients, or protected)`;

/** What a cleanup does: shared by run, redrive and schedule create. */
function addJobOptions(command: Command): Command {
  return command
    .option('--execute', 'really delete; without it nothing is deleted and items end would-delete', false)
    .option('-y, --yes', 'skip the typed confirmation of --execute (needed when standard input is not a terminal)', false)
    .option('--rate <n>', `DeleteResourceServer calls per second across the account (default ${DEFAULT_LIMITS.rate}, at most ${LIMIT_BOUNDS.maxRate})`, rateValue)
    .option('--pool-rate <n>', `DeleteResourceServer calls per second per user pool (default ${DEFAULT_LIMITS.poolRate}, at most ${LIMIT_BOUNDS.maxRate})`, rateValue)
    .option('--window <n>', `delete activities in flight at once (default ${DEFAULT_LIMITS.window}, at most ${LIMIT_BOUNDS.maxWindow})`, windowValue)
    .addOption(
      new Option('--in-use <policy>', 'servers whose scopes app clients use: skip them, delete them anyway, or fail the run')
        .choices(['skip', 'delete', 'fail'])
        .default('skip'),
    )
    .option('--protect <pattern>', 'never delete: POOL or POOL,IDENTIFIER, * and ? wildcards; repeatable (also RS_CLEANUP_PROTECTED)', collect)
    .option('--protect-file <file>', 'protection patterns, one per line (also RS_CLEANUP_PROTECTED_FILE)')
    .option('--max-deletes <n>', 'refuse to start when more servers than this would be deleted', positiveInteger)
    .option('--verify', 'after each delete, read the server again and expect it gone', false)
    .option('--audit-dir <dir>', `where the audit log and manifest go (default ${WORKER_DEFAULTS.auditDir}, or RS_CLEANUP_AUDIT_DIR on the workers)`)
    .option('--skip-invalid', 'run the valid rows even when some rows are invalid', false)
    .option('--max-failures <n>', 'stop the run once this many items failed', positiveInteger)
    .option('--max-failure-percent <p>', `stop once this percentage of finished items failed (after ${RUN_DEFAULTS.failurePercentMinItems} items)`, percentValue)
    .option('--item-deadline <minutes>', `how long one item may retry throttling and internal errors (default ${RUN_DEFAULTS.itemDeadlineMinutes})`, positiveNumber)
    .option('--max-attempts <n>', 'an optional cap on attempts per item (default: none; --item-deadline bounds retries)', positiveInteger)
    .option('--skip-missing-pools', 'run the rest when some user pools do not exist (their items end pool-not-found); default: refuse to start', false)
    .option('--task-queue <name>', `Temporal task queue (default TEMPORAL_TASK_QUEUE or ${WORKER_DEFAULTS.taskQueue})`);
}

function examples(text: string): string {
  return `\nExamples:\n${text}`;
}

export function buildProgram(): Command {
  const program = new Command()
    .name('rs-cleanup')
    .description('Safe, rate-limited bulk deletion of Amazon Cognito resource servers, as a Temporal workflow.')
    .showHelpAfterError()
    .exitOverride();
  const action = (fn: (...args: any[]) => Promise<number>) => async (...args: any[]) => {
    process.exitCode = await fn(...args);
  };

  addJobOptions(
    program
      .command('run')
      .description('Delete the resource servers listed in an input file (a dry-run unless --execute).')
      .option('-i, --input <file>', 'CSV (header with userPoolId and identifier), JSON array or JSON Lines')
      .option('--pair <pool,identifier>', 'one item; split at the first comma; repeatable', collect)
      .addOption(new Option('--format <format>', 'input format (default: from the file name or content)').choices(['csv', 'json', 'jsonl']))
      .option('--id <workflowId>', 'workflow ID (default: from the input checksum, so a second start attaches)')
      .option('--json', 'print the summary as JSON', false),
  )
    .addHelpText('after', examples(`  rs-cleanup run --input offboarding.csv                 # dry-run: reads every server, deletes nothing
  rs-cleanup run --input offboarding.csv --execute --rate 10 --max-deletes 500
  rs-cleanup run --pair us-east-1_AbC123456,https://api.example.com/tenant-a --execute --yes
${EXIT_CODES_HELP}`))
    .action(action((options) => runCommand(options)));

  program
    .command('status <run>')
    .description('Show the progress of a run (its workflow ID), or its summary when it has ended.')
    .option('--watch', 'follow a running run with a live bar until it ends', false)
    .option('--json', 'print as JSON', false)
    .addHelpText('after', examples('  rs-cleanup status rs-cleanup-1f2e3d4c5b6a-execute --watch'))
    .action(action((run, options) => statusCommand(run, options)));

  program
    .command('list')
    .description('List recent and running runs.')
    .option('--limit <n>', 'how many runs', positiveInteger, 20)
    .option('--json', 'print as JSON', false)
    .addHelpText('after', examples('  rs-cleanup list --limit 5'))
    .action(action((options) => listCommand(options)));

  for (const verb of ['pause', 'resume', 'cancel'] as const) {
    const command = program
      .command(`${verb} <run>`)
      .description(
        {
          pause: 'Pause a run: in-flight items finish, nothing new starts until resume.',
          resume: 'Resume a paused run.',
          cancel: 'Cancel a run: in-flight items finish, the rest is recorded as cancelled.',
        }[verb],
      )
      .addHelpText('after', examples(`  rs-cleanup ${verb} rs-cleanup-1f2e3d4c5b6a-execute`));
    if (verb === 'cancel') command.option('--reason <text>', 'why, for the summary and the audit');
    command.option('--json', 'print as JSON', false).action(action((run, options) => signalCommand(run, verb, options)));
  }

  program
    .command('set-rate <run>')
    .description('Change the rate and window of a running run.')
    .option('--rate <n>', 'DeleteResourceServer calls per second across the account', rateValue)
    .option('--pool-rate <n>', 'DeleteResourceServer calls per second per user pool', rateValue)
    .option('--window <n>', 'delete activities in flight at once', windowValue)
    .option('--json', 'print the new limits as JSON', false)
    .addHelpText('after', examples('  rs-cleanup set-rate rs-cleanup-1f2e3d4c5b6a-execute --rate 5 --window 10'))
    .action(action((run, options) => setRateCommand(run, definedOnly({ rate: options.rate, poolRate: options.poolRate, window: options.window }), options)));

  program
    .command('report <run>')
    .description('Print the outcome table of a finished run from its manifest.')
    .option('--json', 'print the manifest summary as JSON', false)
    .addHelpText('after', examples('  rs-cleanup report rs-cleanup-1f2e3d4c5b6a-execute'))
    .action(action((run, options) => reportCommand(run, options)));

  addJobOptions(
    program
      .command('redrive <run>')
      .description("Run again only the items that failed in a finished run (its manifest's failed.csv).")
      .option('--json', 'print the summary as JSON', false),
  )
    .addHelpText('after', examples(`  rs-cleanup redrive rs-cleanup-1f2e3d4c5b6a-execute --execute\n${EXIT_CODES_HELP}`))
    .action(action((run, options) => redriveCommand(run, options)));

  program
    .command('restore')
    .description('Recreate deleted resource servers from the backups a run recorded (a dry-run unless --execute).')
    .requiredOption('--from <path>', 'a manifest directory, run directory, summary.json, backups.jsonl or audit.jsonl')
    .option('--execute', 'really recreate them', false)
    .option('--json', 'print the results as JSON', false)
    .addHelpText('after', examples(`  rs-cleanup restore --from data/audit/<workflowId>/<runId>/manifest
  rs-cleanup restore --from data/audit/<workflowId>/<runId>/audit.jsonl --execute
Outcomes: restored, would-restore, already-present (same definition), conflict (exists, different; left alone), failed.
Exit codes: 0 no conflict or failure, 1 otherwise, 2 usage.`))
    .action(action((options) => restoreCommand(options)));

  program
    .command('discover')
    .description('Write an input CSV of the resource servers of some pools whose identifiers match a pattern.')
    .option('--pool <userPoolId>', 'a user pool to list; repeatable', collect)
    .option('--all-pools', 'list every user pool of the account in the --region Regions (ListUserPools)', false)
    .option('--region <region>', 'with --all-pools: a Region to list; repeatable (default AWS_REGION)', collect)
    .option('--match <regex>', 'keep identifiers matching this regular expression (default: all)')
    .option('-o, --output <file>', 'write the CSV here (default: standard output)')
    .option('--json', 'print the matching servers as JSON (the CSV still goes to --output)', false)
    .addHelpText('after', examples(`  rs-cleanup discover --pool us-east-1_AbC123456 --match '/tenant-0042$' -o offboard-0042.csv
  rs-cleanup discover --all-pools --region us-east-1 --region eu-west-1 --match '/tenant-0042$' -o offboard-0042.csv`))
    .action(action((options) => discoverCommand({ pools: options.pool ?? [], allPools: options.allPools, regions: options.region ?? [], match: options.match, output: options.output, json: options.json })));

  program
    .command('emulator')
    .description('Run a local Cognito emulator, seeded, to try rs-cleanup against; prints the environment to use.')
    .option('--seed <demo|file>', "'demo' (5 pools in 2 Regions with stable ids) or a JSON seed in the emulator's control API format", 'demo')
    .option('--port <n>', `port (default ${DEFAULT_EMULATOR_PORT}; 0 picks a free one)`, (value: string) => {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError(`expected a port number, got '${value}'`);
      return n;
    })
    .option('--sample <file>', 'where to write the sample input CSV (default data/emulator/sample-input.csv)')
    .addHelpText('after', examples('  rs-cleanup emulator\n  rs-cleanup emulator --seed my-seed.json --port 9300'))
    .action(action((options) => emulatorCommand({ seed: options.seed, port: options.port, sample: options.sample })));

  const schedule = program.command('schedule').description('Temporal Schedules for decommissioning runs (need TEMPORAL_ADDRESS).');
  addJobOptions(
    schedule
      .command('create')
      .description('Create a schedule that runs a cleanup of an input file (overlap policy skip).')
      .requiredOption('--id <scheduleId>', 'schedule ID; each run gets this ID plus a timestamp')
      .option('--cron <expr>', 'cron expression, e.g. "0 3 * * 1"')
      .option('--every <duration>', 'interval, e.g. 6h')
      .requiredOption('--input <file>', 'input file, as the workers see it; read anew at each run')
      .option('--json', 'print as JSON', false),
  )
    .addHelpText('after', examples('  rs-cleanup schedule create --id weekly-offboarding --cron "0 3 * * 1" --input /audit/offboarding.csv --execute --yes --max-deletes 200'))
    .action(action((options) => scheduleCreateCommand(options)));
  schedule
    .command('list')
    .description('List schedules.')
    .option('--json', 'print as JSON', false)
    .action(action((options) => scheduleListCommand(options)));
  schedule
    .command('describe <id>')
    .description('Show a schedule: spec, input, next and recent runs.')
    .option('--json', 'print as JSON', false)
    .action(action((id, options) => scheduleDescribeCommand(id, options)));
  for (const verb of ['pause', 'unpause', 'trigger', 'delete'] as const) {
    const command = schedule
      .command(`${verb} <id>`)
      .description({ pause: 'Pause a schedule.', unpause: 'Unpause a schedule.', trigger: 'Start a run now (skipped if one is running).', delete: 'Delete a schedule (runs already started go on).' }[verb])
      .addHelpText('after', examples(`  rs-cleanup schedule ${verb} weekly-offboarding`));
    if (verb === 'pause' || verb === 'unpause') command.option('--note <text>', 'why');
    command.option('--json', 'print as JSON', false).action(action((id, options) => scheduleActionCommand(id, verb, options)));
  }

  program
    .command('demo')
    .description('Seed a local Cognito emulator and run a real --execute cleanup of examples/offboarding.csv against it.')
    .action(action(() => demoCommand()));

  return program;
}

async function main(): Promise<void> {
  // The CLI handles Ctrl-C itself (it tells the operator how to resume). The
  // embedded worker's own logs (each retried attempt is a warning) would bury
  // the progress line; the audit log has every attempt.
  Runtime.install({
    shutdownSignals: [],
    logger: new DefaultLogger('ERROR'),
    // Core logs straight to the console: forwarding them keeps a timer that holds the process open.
    telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }), console: {} } },
  });
  try {
    await buildProgram().parseAsync(process.argv);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'commander.helpDisplayed' || code === 'commander.version' || code === 'commander.help') {
      process.exitCode = EXIT.ok;
    } else if (code?.startsWith('commander.')) {
      process.exitCode = EXIT.invalidInput;
    } else if (err instanceof UsageError || err instanceof ConfigError || err instanceof TemporalConnectionError) {
      process.stderr.write(`rs-cleanup: ${err.message}\n`);
      process.exitCode = EXIT.invalidInput;
    } else {
      process.stderr.write(`rs-cleanup: ${(err as Error).stack ?? err}\n`);
      process.exitCode = EXIT.failures;
    }
  }
}

void main();

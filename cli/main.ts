/**
 * The rs-cleanup command line. Each command lives in its own module and is
 * an exported function `xCommand(..., io)` that returns its exit code; this
 * file only declares the commands and their options (each value parsed and
 * bounded by cli/usage.ts before anything starts), maps errors to exit codes,
 * and, as the process entry, wires the real streams and Ctrl-C to them.
 *
 * `runCli(argv, io)` runs one command line in-process: the tests use it.
 */
import { Command, Option } from 'commander';
import { DefaultLogger, makeTelemetryFilterString, Runtime } from '@temporalio/worker';
import { definedOnly } from '../common/types';
import { DEFAULT_LIMITS, INPUT_BOUNDS, LIMIT_BOUNDS, OPTION_BOUNDS, RUN_DEFAULTS, WORKER_DEFAULTS } from '../common/options';
import { ConfigError } from '../worker/config';
import { TemporalConnectionError } from '../common/temporal-connection';
import { DevServerStartError } from '../common/temporal-dev-server';
import { EXIT, UsageError } from './exit-codes';
import { processIo, type CommandIo } from './command-io';
import {
  attemptsValue,
  itemDeadlineValue,
  collect,
  portValue,
  cronValue,
  intervalValue,
  itemCount,
  listLimit,
  percentValue,
  rateValue,
  temporalName,
  windowValue,
} from './usage';
import { accountIdValue, externalIdValue, roleArnValue } from './job-options';
import { runCommand } from './run';
import { statusCommand } from './status';
import { listCommand } from './list';
import { pauseCommand } from './pause';
import { resumeCommand } from './resume';
import { cancelCommand } from './cancel';
import { terminateCommand } from './terminate';
import { setRateCommand } from './set-rate';
import { reportCommand } from './report';
import { redriveCommand } from './redrive';
import { restoreCommand } from './restore';
import { discoverCommand } from './discover';
import { DEFAULT_EMULATOR_PORT, emulatorCommand } from './emulator';
import { scheduleCreateCommand } from './schedule/create';
import { scheduleListCommand } from './schedule/list';
import { scheduleDescribeCommand } from './schedule/describe';
import { scheduleChangeCommand } from './schedule/change';
import { demoCommand } from './demo';

const EXIT_CODES_HELP = `
Exit codes:
  0  every item ended deleted, already-absent or would-delete
  1  at least one item failed (the manifest's failed.csv re-runs them), or the run failed or is stuck
  2  invalid input, usage, a refused run, no confirmation or no AWS credentials: nothing was deleted
  3  the run was cancelled or stopped early
  4  the run finished, but some items were skipped (in use by app clients, or protected)
  130  interrupted (Ctrl-C): this command stopped waiting; an embedded run resumes when the same command runs again`;

/** What a cleanup does: shared by run, redrive and schedule create. */
function addJobOptions(command: Command): Command {
  return command
    .option('--execute', 'really delete; without it nothing is deleted and items end would-delete', false)
    .option('-y, --yes', 'skip the typed confirmation of --execute (needed when standard input is not a terminal)', false)
    .option('--rate <n>', `DeleteResourceServer calls per second across the account (default ${DEFAULT_LIMITS.rate}, ${LIMIT_BOUNDS.minRate} to ${LIMIT_BOUNDS.maxRate})`, rateValue)
    .option('--pool-rate <n>', `DeleteResourceServer calls per second per user pool (default ${DEFAULT_LIMITS.poolRate}, ${LIMIT_BOUNDS.minRate} to ${LIMIT_BOUNDS.maxRate})`, rateValue)
    .option('--window <n>', `delete activities in flight at once (default ${DEFAULT_LIMITS.window}, at most ${LIMIT_BOUNDS.maxWindow})`, windowValue)
    .addOption(
      new Option('--in-use <policy>', 'servers whose scopes app clients use: skip them, delete them anyway, or fail the run')
        .choices(['skip', 'delete', 'fail'])
        .default('skip'),
    )
    .option('--protect <pattern>', 'never delete: POOL or POOL,IDENTIFIER, * and ? wildcards; repeatable (also RS_CLEANUP_PROTECTED)', collect)
    .option('--protect-file <file>', 'protection patterns, one per line (also RS_CLEANUP_PROTECTED_FILE)')
    .option('--max-deletes <n>', 'refuse to start when more servers than this would be deleted', itemCount)
    .option('--verify', 'after each delete, read the server again and expect it gone', false)
    .option('--audit-dir <dir>', `where the audit log and manifest go (default ${WORKER_DEFAULTS.auditDir}, or RS_CLEANUP_AUDIT_DIR on the workers)`)
    .option('--skip-invalid', 'run the valid rows even when some rows are invalid', false)
    .option('--max-failures <n>', 'stop the run once this many items failed', itemCount)
    .option('--max-failure-percent <p>', `stop once this percentage of finished items failed (after ${RUN_DEFAULTS.failurePercentMinItems} items)`, percentValue)
    .option('--item-deadline <minutes>', `how long one item may retry throttling, internal and network errors (default ${RUN_DEFAULTS.itemDeadlineMinutes}, at most ${INPUT_BOUNDS.maxItemDeadlineMinutes})`, itemDeadlineValue)
    .option('--max-attempts <n>', `an optional cap on attempts per item (default: none, --item-deadline bounds retries; at most ${OPTION_BOUNDS.maxAttempts})`, attemptsValue)
    .option('--skip-missing-pools', 'run the rest when some user pools do not exist (their items end pool-not-found); default: refuse to start', false)
    .option('--task-queue <name>', `Temporal task queue (default TEMPORAL_TASK_QUEUE or ${WORKER_DEFAULTS.taskQueue})`, temporalName)
    .option('--account <id>', "the AWS account (12 digits) of rows whose input has no accountId column or leaves it empty", accountIdValue)
    .option('--assume-role-arn <arn>', "role to assume in each row's account, e.g. 'arn:aws:iam::{accountId}:role/rs-cleanup' (default: the workers' RS_CLEANUP_ASSUME_ROLE_ARN)", roleArnValue)
    .option('--external-id <id>', "external ID the role's trust policy asks for (default: the workers' RS_CLEANUP_EXTERNAL_ID)", externalIdValue);
}

/** The options the operator typed (not defaults): what a redrive does not take from the original run. */
function optionsSetOnCommandLine(command: Command): Set<string> {
  return new Set(Object.keys(command.opts()).filter((key) => command.getOptionValueSource(key) === 'cli'));
}

function examples(text: string): string {
  return `\nExamples:\n${text}`;
}

/** The command line, writing to `io`; `exitCode` receives the code of the command that ran. */
export function buildProgram(io: CommandIo, exitCode: (code: number) => void): Command {
  const program = new Command()
    .name('rs-cleanup')
    .description('Safe, rate-limited bulk deletion of Amazon Cognito resource servers, as a Temporal workflow.')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => void io.stdout.write(text),
      writeErr: (text) => void io.stderr.write(text),
      // A mistake is one line; --help shows the options.
      outputError: (text, write) => write(`rs-cleanup: ${text.replace(/^error: /, '').trim()}\n`),
    });
  const action = (fn: (...args: any[]) => Promise<number>) => async (...args: any[]) => exitCode(await fn(...args));

  addJobOptions(
    program
      .command('run')
      .description('Delete the resource servers listed in an input file (a dry-run unless --execute).')
      .option('-i, --input <file>', 'CSV (header with userPoolId and identifier), JSON array or JSON Lines')
      .option('--pair <pool,identifier>', 'one item; split at the first comma; repeatable', collect)
      .addOption(new Option('--format <format>', 'input format (default: from the file name or content)').choices(['csv', 'json', 'jsonl']))
      .option('--id <workflowId>', 'workflow ID (default: from the input checksum, so a second start attaches)', temporalName)
      .option('--json', 'print the summary as JSON', false),
  )
    .addHelpText('after', examples(`  rs-cleanup run --input offboarding.csv                 # dry-run: reads every server, deletes nothing
  rs-cleanup run --input offboarding.csv --execute --rate 10 --max-deletes 500
  rs-cleanup run --pair us-east-1_AbC123456,https://api.example.com/tenant-a --execute --yes
The same input run again attaches to its run while it is going (with the embedded default, also from
another terminal, through the first command's server and worker); a stuck run is not attached to.
${EXIT_CODES_HELP}`))
    .action(action((options) => runCommand(options, io)));

  program
    .command('status')
    .argument('<run>', 'the run (its workflow ID)', temporalName)
    .description('Show the progress of a run, or its summary when it has ended; says so when the run is stuck.')
    .option('--watch', 'follow a running run with a live bar until it ends', false)
    .option('--json', 'print as JSON', false)
    .addHelpText('after', examples(`  rs-cleanup status rs-cleanup-1f2e3d4c5b6a-execute --watch
Exit codes: 0 running, or ended with every item done; 1 failed, stuck, or items failed; 2 no such run; 3 cancelled, terminated or stopped early; 4 items skipped.`))
    .action(action((run, options) => statusCommand(run, options, io)));

  program
    .command('list')
    .description('List recent and running runs.')
    .option('--limit <n>', `how many runs (at most ${OPTION_BOUNDS.maxListLimit})`, listLimit, 20)
    .option('--json', 'print as JSON', false)
    .addHelpText('after', examples('  rs-cleanup list --limit 5'))
    .action(action((options) => listCommand(options, io)));

  program
    .command('pause')
    .argument('<run>', 'the run (its workflow ID)', temporalName)
    .description('Pause a run and wait until it holds still: deletes already sent finish, nothing else starts until resume.')
    .option('--reason <text>', 'why, shown by status while paused')
    .option('--json', 'print as JSON', false)
    .addHelpText('after', examples("  rs-cleanup pause rs-cleanup-1f2e3d4c5b6a-execute --reason 'change freeze'"))
    .action(action((run, options) => pauseCommand(run, options, io)));

  program
    .command('resume')
    .argument('<run>', 'the run (its workflow ID)', temporalName)
    .description('Resume a paused run.')
    .option('--json', 'print as JSON', false)
    .addHelpText('after', examples('  rs-cleanup resume rs-cleanup-1f2e3d4c5b6a-execute'))
    .action(action((run, options) => resumeCommand(run, options, io)));

  program
    .command('cancel')
    .argument('<run>', 'the run (its workflow ID)', temporalName)
    .description('Cancel a run: in-flight items finish, the rest is recorded as cancelled. A stuck run cannot take a cancel: it is terminated instead.')
    .option('--reason <text>', 'why, for the summary and the audit')
    .option('--json', 'print as JSON', false)
    .addHelpText('after', examples('  rs-cleanup cancel rs-cleanup-1f2e3d4c5b6a-execute --reason "change freeze"'))
    .action(action((run, options) => cancelCommand(run, options, io)));

  program
    .command('terminate')
    .argument('<run>', 'the run (its workflow ID)', temporalName)
    .description('End a run at once, without its workflow code (the way out for a stuck run); it writes no manifest.')
    .option('--reason <text>', 'why, recorded with the run')
    .option('--json', 'print as JSON', false)
    .addHelpText('after', examples('  rs-cleanup terminate rs-cleanup-1f2e3d4c5b6a-execute --reason "stuck on a bad input"'))
    .action(action((run, options) => terminateCommand(run, options, io)));

  program
    .command('set-rate')
    .argument('<run>', 'the run (its workflow ID)', temporalName)
    .description('Change the rate and window of a running run.')
    .option('--rate <n>', `DeleteResourceServer calls per second across the account (${LIMIT_BOUNDS.minRate} to ${LIMIT_BOUNDS.maxRate})`, rateValue)
    .option('--pool-rate <n>', `DeleteResourceServer calls per second per user pool (${LIMIT_BOUNDS.minRate} to ${LIMIT_BOUNDS.maxRate})`, rateValue)
    .option('--window <n>', `delete activities in flight at once (at most ${LIMIT_BOUNDS.maxWindow})`, windowValue)
    .option('--json', 'print the new limits as JSON', false)
    .addHelpText('after', examples('  rs-cleanup set-rate rs-cleanup-1f2e3d4c5b6a-execute --rate 5 --window 10'))
    .action(action((run, options) => setRateCommand(run, definedOnly({ rate: options.rate, poolRate: options.poolRate, window: options.window }), options, io)));

  program
    .command('report')
    .argument('<run>', 'the run (its workflow ID)', temporalName)
    .description('Print the outcome table of a finished run from its manifest.')
    .option('--json', 'print the manifest summary as JSON', false)
    .addHelpText('after', examples('  rs-cleanup report rs-cleanup-1f2e3d4c5b6a-execute'))
    .action(action((run, options) => reportCommand(run, options, io)));

  addJobOptions(
    program
      .command('redrive')
      .argument('<run>', 'the finished run (its workflow ID)', temporalName)
      .description("Run again the failed and cancelled items of a finished run, with that run's options unless given anew.")
      .option('--include-pool-not-found', 'also the items of user pools that did not exist (once the input or credentials are right)', false)
      .option('--json', 'print the summary as JSON', false),
  )
    .addHelpText('after', examples(`  rs-cleanup redrive rs-cleanup-1f2e3d4c5b6a-execute              # dry-run of the failed and cancelled items
  rs-cleanup redrive rs-cleanup-1f2e3d4c5b6a-execute --execute --rate 5
${EXIT_CODES_HELP}`))
    .action(action((run, options, command: Command) => redriveCommand(run, options, io, optionsSetOnCommandLine(command))));

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
    .action(action((options) => restoreCommand(options, io)));

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
    .action(
      action((options) =>
        discoverCommand(
          { pools: options.pool ?? [], allPools: options.allPools, regions: options.region ?? [], match: options.match, output: options.output, json: options.json },
          io,
        ),
      ),
    );

  program
    .command('emulator')
    .description('Run a local Cognito emulator, seeded, to try rs-cleanup against; prints the environment to use.')
    .option('--seed <demo|file>', "'demo' (5 pools in 2 Regions with stable ids) or a JSON seed in the emulator's control API format", 'demo')
    .option('--port <n>', `port (default ${DEFAULT_EMULATOR_PORT}; 0 picks a free one)`, portValue)
    .option('--sample <file>', 'where to write the sample input CSV (default data/emulator/sample-input.csv)')
    .addHelpText('after', examples('  rs-cleanup emulator\n  rs-cleanup emulator --seed my-seed.json --port 9300'))
    .action(action((options) => emulatorCommand({ seed: options.seed, port: options.port, sample: options.sample }, io)));

  const schedule = program.command('schedule').description('Temporal Schedules for decommissioning runs (need TEMPORAL_ADDRESS).');
  addJobOptions(
    schedule
      .command('create')
      .description('Create a schedule that runs a cleanup of an input file (overlap policy skip); an existing ID is refused.')
      .requiredOption('--id <scheduleId>', 'schedule ID; each run gets this ID plus a timestamp', temporalName)
      .option('--cron <expr>', 'cron expression: minute hour day-of-month month day-of-week, e.g. "0 3 * * 1", or @daily', cronValue)
      .option('--every <duration>', 'interval, e.g. 6h', intervalValue)
      .requiredOption('--input <file>', 'input file, as the workers see it; read anew at each run')
      .option('--json', 'print as JSON', false),
  )
    .addHelpText('after', examples('  rs-cleanup schedule create --id weekly-offboarding --cron "0 3 * * 1" --input /audit/offboarding.csv --execute --yes --max-deletes 200'))
    .action(action((options) => scheduleCreateCommand(options, io)));
  schedule
    .command('list')
    .description('List schedules.')
    .option('--json', 'print as JSON', false)
    .action(action((options) => scheduleListCommand(options, io)));
  schedule
    .command('describe')
    .argument('<id>', 'the schedule ID', temporalName)
    .description('Show a schedule: spec, input, next and recent runs.')
    .option('--json', 'print as JSON', false)
    .action(action((id, options) => scheduleDescribeCommand(id, options, io)));
  for (const change of ['pause', 'unpause', 'trigger', 'delete'] as const) {
    const command = schedule
      .command(change)
      .argument('<id>', 'the schedule ID', temporalName)
      .description({ pause: 'Pause a schedule.', unpause: 'Unpause a schedule.', trigger: 'Start a run now (skipped if one is running).', delete: 'Delete a schedule (runs already started go on).' }[change])
      .addHelpText('after', examples(`  rs-cleanup schedule ${change} weekly-offboarding`));
    if (change === 'pause' || change === 'unpause') command.option('--note <text>', 'why');
    command.option('--json', 'print as JSON', false).action(action((id, options) => scheduleChangeCommand(id, change, options, io)));
  }

  program
    .command('demo')
    .description('Seed a local Cognito emulator and run a real --execute cleanup of examples/offboarding.csv against it.')
    .action(action(() => demoCommand(io)));

  return program;
}

/**
 * Runs one command line (without `node rs-cleanup`) in this process and
 * returns its exit code. Mistakes are one line on io.stderr and exit 2;
 * nothing here exits the process or installs a signal handler.
 */
export async function runCli(argv: string[], io: CommandIo): Promise<number> {
  let code: number = EXIT.ok;
  try {
    await buildProgram(io, (c) => (code = c)).parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    const commanderCode = (err as { code?: string }).code;
    if (commanderCode === 'commander.helpDisplayed' || commanderCode === 'commander.version' || commanderCode === 'commander.help') {
      return EXIT.ok;
    }
    // commander has printed its one line already.
    if (commanderCode?.startsWith('commander.')) return EXIT.invalidInput;
    if (err instanceof UsageError || err instanceof ConfigError || err instanceof TemporalConnectionError) {
      io.stderr.write(`rs-cleanup: ${err.message}\n`);
      return EXIT.invalidInput;
    }
    if (err instanceof DevServerStartError) {
      io.stderr.write(`rs-cleanup: ${err.message}\n`);
      return EXIT.failures;
    }
    io.stderr.write(`rs-cleanup: ${(err as Error).stack ?? err}\n`);
    return EXIT.failures;
  }
}

/** The process entry (bin/rs-cleanup.js). */
export async function main(): Promise<void> {
  // The embedded worker's own logs (each retried attempt is a warning) would
  // bury the progress line; the audit log has every attempt. The CLI handles
  // Ctrl-C itself (shutdownSignals: []).
  Runtime.install({
    shutdownSignals: [],
    logger: new DefaultLogger('ERROR'),
    // Core logs straight to the console: forwarding them keeps a timer that holds the process open.
    telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }), console: {} } },
  });
  // Ctrl-C (or SIGTERM) tells the command to stop waiting and clean up (an
  // embedded worker lets in-flight deletes finish); a second one leaves at once.
  const interrupt = new AbortController();
  const onSignal = () => {
    if (interrupt.signal.aborted) process.exit(EXIT.interrupted);
    interrupt.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const code = await runCli(process.argv.slice(2), processIo(interrupt.signal));
  process.exitCode = code;
  // Interrupted: what the command started is stopped; do not wait for anything else.
  if (interrupt.signal.aborted) process.exit(code);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
}

if (require.main === module) void main();

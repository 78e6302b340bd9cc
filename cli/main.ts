/**
 * The rs-cleanup command line. Each command lives in its own module and is
 * an exported function `xCommand(..., io)` that returns its exit code; this
 * file only declares the commands and their options (each value parsed and
 * bounded by cli/usage.ts before anything starts), maps errors to exit codes,
 * and, as the process entry, wires the real streams and Ctrl-C to them.
 *
 * `runCli(argv, io)` runs one command line in-process: the tests use it.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Argument, Command, Option } from 'commander';
import { definedOnly } from '../common/types';
import { DEFAULT_LIMITS, INPUT_BOUNDS, LIMIT_BOUNDS, OPTION_BOUNDS, RUN_DEFAULTS, WORKER_DEFAULTS } from '../common/options';
import { ConfigError } from '../worker/config';
import { TemporalConnectionError } from '../common/temporal-connection';
import { DevServerStartError } from '../common/temporal-dev-server';
import { EXIT, UsageError } from './exit-codes';
import { processIo, type CommandIo } from './command-io';
import { StartupPhases } from './startup-phases';
import { allCommands, completionCommand } from './completion';
import { useQuietWorkerRuntime } from './worker-runtime';
import {
  attemptsValue,
  itemDeadlineValue,
  collect,
  DEFAULT_EMULATOR_PORT,
  portValue,
  cronValue,
  intervalValue,
  itemCount,
  listLimit,
  percentValue,
  rateValue,
  temporalName,
  uiPortValue,
  windowValue,
} from './usage';
import { accountIdValue, externalIdValue, roleArnValue } from './job-options';

// Each command's module (and what it needs: the Temporal client, the worker
// SDK, the AWS SDK) is loaded when that command runs, not here: `--help`,
// `status`, `list` and `report` start without the rest.

export const VERSION = (JSON.parse(readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;

const ENVIRONMENT_HELP = `
Environment:
  TEMPORAL_ADDRESS           a Temporal cluster (host:port) whose workers run the job; unset: the embedded
                             default, a local dev server and a worker in this process
  TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*, TEMPORAL_PROFILE
                             the cluster's namespace and credentials (docs/deployment.md)
  TEMPORAL_TASK_QUEUE        the task queue (default ${WORKER_DEFAULTS.taskQueue})
  AWS_PROFILE, AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY
                             AWS credentials of the embedded worker (the AWS SDK's default chain)
  COGNITO_ENDPOINT           a Cognito emulator instead of AWS (see: rs-cleanup emulator)
  RS_CLEANUP_DATA_DIR        the embedded server's database and the audit (default: data/ in the project)
  RS_CLEANUP_AUDIT_DIR       audit logs and manifests (default: audit/ in the data directory)
  RS_CLEANUP_PROTECTED, RS_CLEANUP_PROTECTED_FILE
                             never delete these (as --protect and --protect-file)
  RS_CLEANUP_EXTRA_REGIONS   Regions to accept besides those where Cognito has user pools today
  RS_CLEANUP_UI_PORT         the embedded server's Temporal Web UI port (default 8233, another one when taken; off: none)
  RS_CLEANUP_BUNDLE_CACHE    where the bundled workflow code is cached (off: bundle at each start)
  TEMPORAL_BIN               the Temporal CLI that runs the embedded dev server`;

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

/**
 * `--output json|table`, and `--json` as its alias (jsonOption): for every
 * command whose output a script may read. The preAction hook turns them into
 * the `json` a command reads.
 */
function outputOption(json: string): Option {
  return new Option('--output <format>', `table (for a person) or json (${json.replace(/^print (the )?/, '')})`).choices(['table', 'json']).default('table');
}

function jsonOption(json: string): Option {
  return new Option('--json', `${json} (the same as --output json)`).implies({ output: 'json' });
}

/** "rs-cleanup schedule create", for usage lines. */
function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/**
 * The command line, writing to `baseIo`; `exitCode` receives the code of the
 * command that ran. The global options (--verbose, --ui-port, --no-ui) are
 * applied to the io a command gets.
 */
export function buildProgram(baseIo: CommandIo, exitCode: (code: number) => void): Command {
  let io: CommandIo = baseIo;
  const program = new Command()
    .name('rs-cleanup')
    .description(`rs-cleanup ${VERSION}: safe, rate-limited bulk deletion of Amazon Cognito resource servers, as a Temporal workflow.`)
    .version(`rs-cleanup ${VERSION}`, '-V, --version', 'print the version')
    .option('--verbose', 'print each start-up phase with its duration (on standard error)')
    .addOption(new Option('--ui-port <port>', 'the embedded dev server serves the Temporal Web UI here (default 8233; another free port when taken; also RS_CLEANUP_UI_PORT)').argParser(uiPortValue))
    .option('--no-ui', 'no Temporal Web UI for the embedded dev server (RS_CLEANUP_UI_PORT=off)')
    .configureHelp({ showGlobalOptions: true })
    .exitOverride()
    .configureOutput({
      writeOut: (text) => void baseIo.stdout.write(text),
      writeErr: (text) => void baseIo.stderr.write(text),
      // A mistake is one line, then the command's usage (each command's own, below).
      outputError: (text, write) => write(`rs-cleanup: ${text.replace(/^error: /, '').trim().replace(/\s*\n\s*/g, ' ')}\n`),
    })
    .addHelpText('after', examples(`  rs-cleanup run --input offboarding.csv                     # dry-run: reads every server, deletes nothing
  rs-cleanup run --input offboarding.csv --execute           # asks you to type the number of servers first
  rs-cleanup discover --pool us-east-1_AbC123456 --match '/tenant-0042$' | rs-cleanup run --input - --execute --yes
${ENVIRONMENT_HELP}

Every command has --help with examples. Shell completion: rs-cleanup completion bash|zsh`))
    .hook('preAction', (_program, command) => {
      const globals = command.optsWithGlobals();
      // --json is --output json: commands read `json`. (discover's --output is the file it writes.)
      if (command.getOptionValue('output') !== undefined && command.name() !== 'discover') {
        command.setOptionValue('json', command.getOptionValue('output') === 'json');
      }
      // --no-ui and --ui-port are RS_CLEANUP_UI_PORT for this command (cli/temporal-target.ts reads it).
      const uiPort = globals.ui === false ? 'off' : globals.uiPort !== undefined ? String(globals.uiPort) : undefined;
      const env = uiPort === undefined ? baseIo.env : { ...baseIo.env, RS_CLEANUP_UI_PORT: uiPort };
      const phases = baseIo.phases ?? new StartupPhases();
      if (globals.verbose) phases.print(baseIo.stderr);
      io = { ...baseIo, env, phases };
    });
  const action = (fn: (...args: any[]) => Promise<number>) => async (...args: any[]) => exitCode(await fn(...args));
  /** Loads a command's module when it runs, recording how long that took. */
  const load = <T>(what: string, importModule: () => Promise<T>): Promise<T> => io.phases!.time(`${what} loaded`, importModule);

  addJobOptions(
    program
      .command('run')
      .description('Delete the resource servers listed in an input file (a dry-run unless --execute).')
      .option('-i, --input <file>', "CSV (header with userPoolId and identifier), JSON array or JSON Lines; '-' reads standard input")
      .option('--pair <pool,identifier>', 'one item; split at the first comma; repeatable', collect)
      .addOption(new Option('--format <format>', 'input format (default: from the file name or content)').choices(['csv', 'json', 'jsonl']))
      .option('--id <workflowId>', 'workflow ID (default: from the input checksum, so a second start attaches)', temporalName)
      .addOption(outputOption('print the summary as JSON'))
    .addOption(jsonOption('print the summary as JSON')),
  )
    .addHelpText('after', examples(`  rs-cleanup run --input offboarding.csv                 # dry-run: reads every server, deletes nothing
  rs-cleanup run --input offboarding.csv --execute --rate 10 --max-deletes 500
  rs-cleanup run --pair us-east-1_AbC123456,https://api.example.com/tenant-a --execute --yes
  rs-cleanup discover --pool us-east-1_AbC123456 --match '/tenant-0042$' | rs-cleanup run --input -   # input from standard input
The same input run again attaches to its run while it is going (with the embedded default, also from
another terminal, through the first command's server and worker); a stuck run is not attached to.
${EXIT_CODES_HELP}`))
    .action(action(async (options) => (await load('run', () => import('./run'))).runCommand(options, io)));

  program
    .command('status')
    .argument('<run>', 'the run (its workflow ID)', temporalName)
    .description('Show the progress of a run, or its summary when it has ended; says so when the run is stuck.')
    .option('--watch', 'follow a running run with a live bar until it ends', false)
    .addOption(outputOption('print as JSON'))
    .addOption(jsonOption('print as JSON'))
    .addHelpText('after', examples(`  rs-cleanup status rs-cleanup-1f2e3d4c5b6a-execute --watch
Exit codes: 0 running, or ended with every item done; 1 failed, stuck, or items failed; 2 no such run; 3 cancelled, terminated or stopped early; 4 items skipped.`))
    .action(action(async (run, options) => (await load('status', () => import('./status'))).statusCommand(run, options, io)));

  program
    .command('list')
    .description('List recent and running runs.')
    .option('--limit <n>', `how many runs (at most ${OPTION_BOUNDS.maxListLimit})`, listLimit, 20)
    .addOption(outputOption('print as JSON'))
    .addOption(jsonOption('print as JSON'))
    .addHelpText('after', examples('  rs-cleanup list --limit 5'))
    .action(action(async (options) => (await load('list', () => import('./list'))).listCommand(options, io)));

  program
    .command('pause')
    .argument('<run>', 'the run (its workflow ID)', temporalName)
    .description('Pause a run and wait until it holds still: deletes already sent finish, nothing else starts until resume.')
    .option('--reason <text>', 'why, shown by status while paused')
    .addOption(outputOption('print as JSON'))
    .addOption(jsonOption('print as JSON'))
    .addHelpText('after', examples("  rs-cleanup pause rs-cleanup-1f2e3d4c5b6a-execute --reason 'change freeze'"))
    .action(action(async (run, options) => (await load('pause', () => import('./pause'))).pauseCommand(run, options, io)));

  program
    .command('resume')
    .argument('<run>', 'the run (its workflow ID)', temporalName)
    .description('Resume a paused run.')
    .addOption(outputOption('print as JSON'))
    .addOption(jsonOption('print as JSON'))
    .addHelpText('after', examples('  rs-cleanup resume rs-cleanup-1f2e3d4c5b6a-execute'))
    .action(action(async (run, options) => (await load('resume', () => import('./resume'))).resumeCommand(run, options, io)));

  program
    .command('cancel')
    .argument('<run>', 'the run (its workflow ID)', temporalName)
    .description('Cancel a run: in-flight items finish, the rest is recorded as cancelled. A stuck run cannot take a cancel: it is terminated instead.')
    .option('--reason <text>', 'why, for the summary and the audit')
    .addOption(outputOption('print as JSON'))
    .addOption(jsonOption('print as JSON'))
    .addHelpText('after', examples('  rs-cleanup cancel rs-cleanup-1f2e3d4c5b6a-execute --reason "change freeze"'))
    .action(action(async (run, options) => (await load('cancel', () => import('./cancel'))).cancelCommand(run, options, io)));

  program
    .command('terminate')
    .argument('<run>', 'the run (its workflow ID)', temporalName)
    .description('End a run at once, without its workflow code (the way out for a stuck run); it writes no manifest.')
    .option('--reason <text>', 'why, recorded with the run')
    .addOption(outputOption('print as JSON'))
    .addOption(jsonOption('print as JSON'))
    .addHelpText('after', examples('  rs-cleanup terminate rs-cleanup-1f2e3d4c5b6a-execute --reason "stuck on a bad input"'))
    .action(action(async (run, options) => (await load('terminate', () => import('./terminate'))).terminateCommand(run, options, io)));

  program
    .command('set-rate')
    .argument('<run>', 'the run (its workflow ID)', temporalName)
    .description('Change the rate and window of a running run.')
    .option('--rate <n>', `DeleteResourceServer calls per second across the account (${LIMIT_BOUNDS.minRate} to ${LIMIT_BOUNDS.maxRate})`, rateValue)
    .option('--pool-rate <n>', `DeleteResourceServer calls per second per user pool (${LIMIT_BOUNDS.minRate} to ${LIMIT_BOUNDS.maxRate})`, rateValue)
    .option('--window <n>', `delete activities in flight at once (at most ${LIMIT_BOUNDS.maxWindow})`, windowValue)
    .addOption(outputOption('print the new limits as JSON'))
    .addOption(jsonOption('print the new limits as JSON'))
    .addHelpText('after', examples('  rs-cleanup set-rate rs-cleanup-1f2e3d4c5b6a-execute --rate 5 --window 10'))
    .action(
      action(async (run, options) =>
        (await load('set-rate', () => import('./set-rate'))).setRateCommand(run, definedOnly({ rate: options.rate, poolRate: options.poolRate, window: options.window }), options, io),
      ),
    );

  program
    .command('report')
    .argument('<run>', 'the run (its workflow ID)', temporalName)
    .description('Print the outcome table of a finished run from its manifest.')
    .addOption(outputOption('print the manifest summary as JSON'))
    .addOption(jsonOption('print the manifest summary as JSON'))
    .addHelpText('after', examples('  rs-cleanup report rs-cleanup-1f2e3d4c5b6a-execute'))
    .action(action(async (run, options) => (await load('report', () => import('./report'))).reportCommand(run, options, io)));

  addJobOptions(
    program
      .command('redrive')
      .argument('<run>', 'the finished run (its workflow ID)', temporalName)
      .description("Run again the failed and cancelled items of a finished run, with that run's options unless given anew.")
      .option('--include-pool-not-found', 'also the items of user pools that did not exist (once the input or credentials are right)', false)
      .addOption(outputOption('print the summary as JSON'))
    .addOption(jsonOption('print the summary as JSON')),
  )
    .addHelpText('after', examples(`  rs-cleanup redrive rs-cleanup-1f2e3d4c5b6a-execute              # dry-run of the failed and cancelled items
  rs-cleanup redrive rs-cleanup-1f2e3d4c5b6a-execute --execute --rate 5
${EXIT_CODES_HELP}`))
    .action(
      action(async (run, options, command: Command) =>
        (await load('redrive', () => import('./redrive'))).redriveCommand(run, options, io, optionsSetOnCommandLine(command)),
      ),
    );

  program
    .command('restore')
    .description('Recreate deleted resource servers from the backups a run recorded (a dry-run unless --execute).')
    .requiredOption('--from <path>', 'a manifest directory, run directory, summary.json, backups.jsonl or audit.jsonl')
    .option('--execute', 'really recreate them', false)
    .addOption(outputOption('print the results as JSON'))
    .addOption(jsonOption('print the results as JSON'))
    .addHelpText('after', examples(`  rs-cleanup restore --from data/audit/<workflowId>/<runId>/manifest
  rs-cleanup restore --from data/audit/<workflowId>/<runId>/audit.jsonl --execute
Outcomes: restored, would-restore, already-present (same definition), conflict (exists, different; left alone), failed.
Exit codes: 0 no conflict or failure, 1 otherwise, 2 usage.`))
    .action(action(async (options) => (await load('restore', () => import('./restore'))).restoreCommand(options, io)));

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
      action(async (options) =>
        (await load('discover', () => import('./discover'))).discoverCommand(
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
    .action(
      action(async (options) =>
        (await load('emulator', () => import('./emulator'))).emulatorCommand({ seed: options.seed, port: options.port, sample: options.sample }, io),
      ),
    );

  const schedule = program.command('schedule').description('Temporal Schedules for decommissioning runs (need TEMPORAL_ADDRESS).');
  addJobOptions(
    schedule
      .command('create')
      .description('Create a schedule that runs a cleanup of an input file (overlap policy skip); an existing ID is refused.')
      .requiredOption('--id <scheduleId>', 'schedule ID; each run gets this ID plus a timestamp', temporalName)
      .option('--cron <expr>', 'cron expression: minute hour day-of-month month day-of-week, e.g. "0 3 * * 1", or @daily', cronValue)
      .option('--every <duration>', 'interval, e.g. 6h', intervalValue)
      .requiredOption('--input <file>', 'input file, as the workers see it; read anew at each run')
      .addOption(outputOption('print as JSON'))
    .addOption(jsonOption('print as JSON')),
  )
    .addHelpText('after', examples('  rs-cleanup schedule create --id weekly-offboarding --cron "0 3 * * 1" --input /audit/offboarding.csv --execute --yes --max-deletes 200'))
    .action(action(async (options) => (await load('schedule create', () => import('./schedule/create'))).scheduleCreateCommand(options, io)));
  schedule
    .command('list')
    .description('List schedules.')
    .addOption(outputOption('print as JSON'))
    .addOption(jsonOption('print as JSON'))
    .action(action(async (options) => (await load('schedule list', () => import('./schedule/list'))).scheduleListCommand(options, io)));
  schedule
    .command('describe')
    .argument('<id>', 'the schedule ID', temporalName)
    .description('Show a schedule: spec, input, next and recent runs.')
    .addOption(outputOption('print as JSON'))
    .addOption(jsonOption('print as JSON'))
    .action(action(async (id, options) => (await load('schedule describe', () => import('./schedule/describe'))).scheduleDescribeCommand(id, options, io)));
  for (const change of ['pause', 'unpause', 'trigger', 'delete'] as const) {
    const command = schedule
      .command(change)
      .argument('<id>', 'the schedule ID', temporalName)
      .description({ pause: 'Pause a schedule.', unpause: 'Unpause a schedule.', trigger: 'Start a run now (skipped if one is running).', delete: 'Delete a schedule (runs already started go on).' }[change])
      .addHelpText('after', examples(`  rs-cleanup schedule ${change} weekly-offboarding`));
    if (change === 'pause' || change === 'unpause') command.option('--note <text>', 'why');
    command.addOption(outputOption('print as JSON')).addOption(jsonOption('print as JSON')).action(
      action(async (id, options) => (await load(`schedule ${change}`, () => import('./schedule/change'))).scheduleChangeCommand(id, change, options, io)),
    );
  }

  program
    .command('demo')
    .description('Seed a local Cognito emulator and run a real --execute cleanup of examples/offboarding.csv against it.')
    .action(action(async () => (await load('demo', () => import('./demo'))).demoCommand(io)));

  program
    .command('completion')
    .addArgument(new Argument('<shell>', 'the shell').choices(['bash', 'zsh']))
    .description('Print a completion script for bash or zsh: commands, subcommands and options complete with Tab.')
    .addHelpText('after', examples(`  source <(rs-cleanup completion bash)                 # this shell; add the line to ~/.bashrc to keep it
  rs-cleanup completion zsh > "\${fpath[1]}/_rs-cleanup"  # zsh, then start a new shell`))
    .action(action((shell) => completionCommand(shell, program, io)));

  // A mistake is one line, then that command's short usage, not its whole help.
  for (const command of allCommands(program)) {
    const name = commandPath(command);
    command.showHelpAfterError(`Usage: ${name} ${command.usage()}  (${name} --help for more)`);
  }
  return program;
}


/**
 * Runs one command line (without `node rs-cleanup`) in this process and
 * returns its exit code. Mistakes are one line on io.stderr (commander's own
 * followed by the command's usage) and exit 2; nothing here exits the process
 * or installs a signal handler.
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
  // From the start of the process (performance.now()'s origin): node, tsx and this module.
  const phases = new StartupPhases(0);
  phases.record('CLI loaded', 0);
  // The embedded worker, when a command starts one, logs errors only.
  useQuietWorkerRuntime();
  // Ctrl-C (or SIGTERM) tells the command to stop waiting and clean up (an
  // embedded worker lets in-flight deletes finish); a second one leaves at once.
  const interrupt = new AbortController();
  const onSignal = () => {
    if (interrupt.signal.aborted) process.exit(EXIT.interrupted);
    interrupt.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const code = await runCli(process.argv.slice(2), { ...processIo(interrupt.signal), phases });
  // The command has stopped what it started (the server, the worker, the
  // connections); what may still hold the process open is the SDK runtime's
  // teardown and closing sockets, which nobody waits for: leave once the
  // output is written.
  await Promise.all([process.stdout, process.stderr].map((stream) => new Promise((resolve) => stream.write('', resolve))));
  process.exit(code);
}

if (require.main === module) void main();

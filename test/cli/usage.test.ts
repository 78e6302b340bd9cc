/**
 * The option schema (cli/usage.ts), the one-line explanation of a failed
 * run (cli/follow-run.ts explainFailure) and every command's --help. Every
 * cron expression the CLI accepts is one the Temporal server accepts too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from 'commander';
import { ActivityFailure, ApplicationFailure, WorkflowFailedError, type Client } from '@temporalio/client';
import { RetryState } from '@temporalio/common';
import { cronValue, intervalValue, rateValue, temporalName, windowValue } from '../../cli/usage';
import { explainFailure } from '../../cli/follow-run';
import { EXIT } from '../../cli/exit-codes';
import { runCli } from '../../cli/main';
import { capturedIo } from '../operator/helpers';
import { connectClient } from '../helpers/temporal';

const ACCEPTED_CRONS = ['0 3 * * 1', '*/15 9-17 * * mon-fri', '0 0 1,15 jan,jul *', '30 2 * * 0', '0 0 * * 7', '@daily', '@hourly', 'CRON_TZ=Europe/Paris 0 3 * * *'];
const REFUSED_CRONS: [string, RegExp][] = [
  ['61 * * * *', /minute 61 is outside 0-59/],
  ['0 3 * *', /expected 5 fields/],
  ['0 3 * * * 2030', /expected 5 fields/],
  ['0 3 32 * *', /day of month 32 is outside 1-31/],
  ['0 3 * 13 *', /month 13 is outside 1-12/],
  ['0 3 * * funday', /day of week 'funday'/],
  ['*/0 * * * *', /minute step '0'/],
  ['5-1 * * * *', /range '5-1' runs backwards/],
  ['every monday', /expected 5 fields/],
  ['', /expected 5 fields/],
];

describe('option values', () => {
  it('accepts cron expressions and refuses typos, saying which field', () => {
    for (const cron of ACCEPTED_CRONS) expect(cronValue(cron)).toBe(cron);
    for (const [cron, why] of REFUSED_CRONS) {
      expect(() => cronValue(cron), cron).toThrow(InvalidArgumentError);
      expect(() => cronValue(cron), cron).toThrow(why);
    }
  });

  it('bounds rates, windows, intervals and names', () => {
    expect(rateValue('0.01')).toBe(0.01);
    expect(rateValue('1000')).toBe(1000);
    for (const bad of ['0', '0.009', '1000.5', 'NaN', 'Infinity', '', ' ', '1e9', '0x10']) expect(() => rateValue(bad), bad).toThrow(InvalidArgumentError);
    expect(windowValue('500')).toBe(500);
    for (const bad of ['0', '501', '2.5', '-3']) expect(() => windowValue(bad), bad).toThrow(InvalidArgumentError);
    expect(intervalValue('6h')).toBe('6h');
    for (const bad of ['0m', '6 weeks', 'h', '-1h']) expect(() => intervalValue(bad), bad).toThrow(InvalidArgumentError);
    expect(() => temporalName('x'.repeat(1001))).toThrow(/at most 1000 characters/);
  });
});

describe('the Temporal server', () => {
  let client: Client;
  beforeAll(async () => {
    client = await connectClient();
  });
  afterAll(() => client?.connection.close());

  it('accepts every cron expression the CLI accepts', async () => {
    for (const [i, cron] of ACCEPTED_CRONS.entries()) {
      const scheduleId = `cron-check-${Date.now()}-${i}`;
      const handle = await client.schedule.create({
        scheduleId,
        spec: { cronExpressions: [cron] },
        action: { type: 'startWorkflow', workflowType: 'cleanupWorkflow', args: [], taskQueue: 'never-polled' },
        state: { paused: true },
      });
      await handle.delete();
    }
  });
});

describe('why a run failed, in one line', () => {
  const failed = (activityType: string, type: string, message: string) =>
    new WorkflowFailedError(
      'Workflow execution failed',
      new ActivityFailure('Activity task failed', activityType, '1', RetryState.NON_RETRYABLE_FAILURE, 'worker', ApplicationFailure.create({ message, type, nonRetryable: true })),
      RetryState.NON_RETRYABLE_FAILURE,
    );

  it('an input changed before the plan was written: nothing was deleted, exit 2', () => {
    const { line, code } = explainFailure(failed('prepareInput', 'InputChangedError', 'the input /x.csv changed since the run was started: expected sha256 a, found b'), 'run-1');
    expect(code).toBe(EXIT.invalidInput);
    expect(line).toBe('rs-cleanup: the input /x.csv changed since the run was started: expected sha256 a, found b; nothing was deleted. Run the command again to check the file as it is now (run run-1 failed).');
  });

  it('a plan that changed mid-run may follow deletes: exit 1, no claim that nothing was deleted', () => {
    const { line, code } = explainFailure(failed('readPlanPage', 'InputChangedError', 'the plan file /p changed since the run started'), 'run-2');
    expect(code).toBe(EXIT.failures);
    expect(line).not.toContain('nothing was deleted');
  });

  it('no credentials on the worker in the dependency check: how to provide them, no IAM hint, exit 2', () => {
    const { line, code } = explainFailure(
      failed(
        'checkDependencies',
        'DependencyCheckCredentialsProviderError',
        'dependency check: ListUserPoolClients on us-east-1_A1 failed with CredentialsProviderError: Could not load credentials from any providers (the worker needs cognito-idp:ListUserPoolClients and cognito-idp:DescribeUserPoolClient)',
      ),
      'run-3',
    );
    expect(code).toBe(EXIT.invalidInput);
    expect(line).toBe(
      'rs-cleanup: run run-3 failed: the worker found no AWS credentials (dependency check: ListUserPoolClients on us-east-1_A1); provide them with AWS_PROFILE (after `aws configure` or `aws sso login`), with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or with an IAM role where the worker runs. Nothing was deleted.',
    );
  });
});

describe('--help', () => {
  it('every command has help with an example, printed to standard output, exit 0', async () => {
    const commands = [['run'], ['status'], ['list'], ['pause'], ['resume'], ['cancel'], ['terminate'], ['set-rate'], ['report'], ['redrive'], ['restore'], ['discover'], ['schedule', 'create'], ['schedule', 'pause']];
    for (const command of commands) {
      const io = capturedIo({ env: {} });
      expect(await runCli([...command, '--help'], io), command.join(' ')).toBe(EXIT.ok);
      expect(io.stdout.text, command.join(' ')).toContain(`Usage: rs-cleanup ${command.join(' ')} [options]`);
      expect(io.stdout.text, command.join(' ')).toContain('Examples:');
    }
  });
});

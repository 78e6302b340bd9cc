/**
 * `discover`: lists the resource servers of a user pool whose identifiers
 * match a pattern and writes them as a valid input CSV. Tenant offboarding
 * starts from a pattern, not from a hand-made list.
 */
import { writeFileSync } from 'node:fs';
import { ListResourceServersCommand } from '@aws-sdk/client-cognito-identity-provider';
import { validateUserPoolId } from '../common/cognito-rules';
import { toCsv } from '../common/csv';
import { CognitoClients } from '../cognito/clients';
import { classifyCognitoError } from '../cognito/errors';
import { CognitoRateLimiter } from '../cognito/rate-limiter';
import { retryCognitoCall } from '../cognito/retry';
import { EXIT, UsageError } from './exit-codes';
import { COGNITO_QUOTAS } from '../common/options';

export async function discoverCommand(options: { pool: string; match?: string; output?: string; json: boolean }): Promise<number> {
  const poolProblem = validateUserPoolId(options.pool);
  if (poolProblem) throw new UsageError(`--pool '${options.pool}': ${poolProblem}`);
  let pattern: RegExp | undefined;
  try {
    pattern = options.match ? new RegExp(options.match) : undefined;
  } catch (err) {
    throw new UsageError(`--match: ${(err as Error).message}`);
  }

  const clients = new CognitoClients(process.env.COGNITO_ENDPOINT ? { endpoint: process.env.COGNITO_ENDPOINT } : {});
  // ListResourceServers: UserPoolResourceRead, 20/s per account and 5/s per pool.
  const limiter = new CognitoRateLimiter({ rate: COGNITO_QUOTAS.resourceReadPerSecond, poolRate: COGNITO_QUOTAS.perPoolPerOperationPerSecond });
  const rows: string[][] = [];
  let listed = 0;
  try {
    let nextToken: string | undefined;
    do {
      const page = await retryCognitoCall(
        () => limiter.schedule(options.pool, () =>
          clients.forUserPool(options.pool).send(new ListResourceServersCommand({ UserPoolId: options.pool, MaxResults: 50, NextToken: nextToken })),
        ),
        { limiter },
      );
      for (const server of page.ResourceServers ?? []) {
        listed += 1;
        if (!pattern || pattern.test(server.Identifier ?? '')) rows.push([options.pool, server.Identifier ?? '', server.Name ?? '']);
      }
      nextToken = page.NextToken;
    } while (nextToken);
  } catch (err) {
    const error = classifyCognitoError(err);
    process.stderr.write(`rs-cleanup: ListResourceServers on ${options.pool} failed: ${error.code}: ${error.message}\n`);
    return error.code === 'ResourceNotFoundException' ? EXIT.invalidInput : EXIT.failures;
  } finally {
    clients.destroy();
    await limiter.stop();
  }

  const csv = toCsv(['userPoolId', 'identifier', 'name'], rows);
  if (options.output) writeFileSync(options.output, csv);
  if (options.json) {
    const matched = rows.map(([userPoolId, identifier, name]) => ({ userPoolId, identifier, name }));
    process.stdout.write(JSON.stringify({ userPoolId: options.pool, listed, matched, output: options.output ?? null }, null, 2) + '\n');
  } else if (!options.output) {
    process.stdout.write(csv);
  }
  process.stderr.write(
    `${rows.length} of ${listed} resource servers in ${options.pool} match${options.output ? `; written to ${options.output}` : ''}.\n` +
      (rows.length > 0 && options.output ? `Next: rs-cleanup run --input ${options.output}   (a dry-run; add --execute to delete)\n` : ''),
  );
  return EXIT.ok;
}

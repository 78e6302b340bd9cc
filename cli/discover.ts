/**
 * `discover`: lists the resource servers of some user pools (given with
 * `--pool`, or every pool of the account in some Regions with `--all-pools`)
 * whose identifiers match a pattern, and writes them as a valid input CSV.
 * Tenant offboarding starts from a pattern, not from a hand-made list.
 *
 * All or nothing: if listing any pool fails, no CSV is written, so a partial
 * list is never taken for the whole.
 */
import { writeFileSync } from 'node:fs';
import { ListResourceServersCommand, ListUserPoolsCommand } from '@aws-sdk/client-cognito-identity-provider';
import { validateRegionName, validateUserPoolId } from '../common/cognito-rules';
import { toCsv } from '../common/csv';
import { commandCognitoAccess, type CognitoAccess } from '../cognito/access';
import { classifyCognitoError } from '../cognito/errors';
import { retryCognitoCall } from '../cognito/retry';
import type { CommandIo } from './command-io';
import { EXIT, UsageError } from './exit-codes';

export interface DiscoverOptions {
  /** Pools to list (repeatable --pool). */
  pools: string[];
  /** List every pool of the account in `regions` instead. */
  allPools?: boolean;
  /** With allPools; default AWS_REGION. */
  regions?: string[];
  match?: string;
  output?: string;
  json: boolean;
}

/** What failed, for the one-line error and the exit code. */
class ListingFailed extends Error {
  constructor(
    readonly what: string,
    readonly error: ReturnType<typeof classifyCognitoError>,
  ) {
    super(`${what} failed: ${error.code}: ${error.message}`);
  }
}

export async function discoverCommand(options: DiscoverOptions, io: CommandIo): Promise<number> {
  const env = io.env;
  const { pools, regions } = checkOptions(options, env);
  let pattern: RegExp | undefined;
  try {
    pattern = options.match ? new RegExp(options.match) : undefined;
  } catch (err) {
    throw new UsageError(`--match: ${(err as Error).message}`);
  }

  // ListUserPools: UserPoolRead; ListResourceServers: UserPoolResourceRead (20/s per account and Region, 5/s per pool).
  const cognito = commandCognitoAccess(env);
  const rows: string[][] = [];
  let listed = 0;
  let poolIds = pools;
  try {
    if (options.allPools) {
      poolIds = [];
      for (const region of regions) poolIds.push(...(await listUserPools(cognito, region)));
    }
    for (const poolId of poolIds) {
      for (const server of await listResourceServers(cognito, poolId)) {
        listed += 1;
        if (!pattern || pattern.test(server.Identifier ?? '')) rows.push([poolId, server.Identifier ?? '', server.Name ?? '']);
      }
    }
  } catch (err) {
    if (!(err instanceof ListingFailed)) throw err;
    io.stderr.write(`rs-cleanup: ${err.message}\n`);
    return err.error.code === 'ResourceNotFoundException' ? EXIT.invalidInput : EXIT.failures;
  } finally {
    cognito.close();
  }

  const csv = toCsv(['userPoolId', 'identifier', 'name'], rows);
  if (options.output) writeFileSync(options.output, csv);
  if (options.json) {
    const matched = rows.map(([userPoolId, identifier, name]) => ({ userPoolId, identifier, name }));
    const single = poolIds.length === 1 && !options.allPools ? { userPoolId: poolIds[0] } : {};
    io.stdout.write(JSON.stringify({ ...single, userPoolIds: poolIds, listed, matched, output: options.output ?? null }, null, 2) + '\n');
  } else if (!options.output) {
    io.stdout.write(csv);
  }
  const where =
    poolIds.length === 1 && !options.allPools ? poolIds[0] : `${poolIds.length} user pools${options.allPools ? ` of ${regions.join(', ')}` : ''}`;
  io.stderr.write(
    `${rows.length} of ${listed} resource servers in ${where} match${options.output ? `; written to ${options.output}` : ''}.\n` +
      (rows.length > 0 && options.output ? `Next: rs-cleanup run --input ${options.output}   (a dry-run; add --execute to delete)\n` : ''),
  );
  return EXIT.ok;
}

function checkOptions(options: DiscoverOptions, env: NodeJS.ProcessEnv): { pools: string[]; regions: string[] } {
  const pools = [...new Set(options.pools)];
  if (options.allPools && pools.length > 0) throw new UsageError('give either --pool or --all-pools, not both');
  if (!options.allPools && pools.length === 0) throw new UsageError('give --pool (repeatable) or --all-pools');
  for (const pool of pools) {
    const problem = validateUserPoolId(pool);
    if (problem) throw new UsageError(`--pool '${pool}': ${problem}`);
  }
  if (!options.allPools) {
    if ((options.regions ?? []).length > 0) throw new UsageError("--region goes with --all-pools; a pool's Region is the prefix of its ID");
    return { pools, regions: [] };
  }
  const regions = [...new Set((options.regions ?? []).length > 0 ? options.regions! : env.AWS_REGION ? [env.AWS_REGION] : [])];
  if (regions.length === 0) throw new UsageError('--all-pools needs --region (repeatable) or AWS_REGION');
  for (const region of regions) {
    const problem = validateRegionName(region);
    if (problem) throw new UsageError(`--region: ${problem}`);
  }
  return { pools, regions };
}

async function listUserPools(cognito: CognitoAccess, region: string): Promise<string[]> {
  const ids: string[] = [];
  let nextToken: string | undefined;
  try {
    do {
      const page = await retryCognitoCall(() =>
        cognito.call('UserPoolRead', { region }, (client) => client.send(new ListUserPoolsCommand({ MaxResults: 60, NextToken: nextToken }))),
      );
      for (const pool of page.UserPools ?? []) if (pool.Id) ids.push(pool.Id);
      nextToken = page.NextToken;
    } while (nextToken);
  } catch (err) {
    throw new ListingFailed(`ListUserPools in ${region}`, classifyCognitoError(err));
  }
  return ids;
}

async function listResourceServers(cognito: CognitoAccess, poolId: string) {
  const servers: { Identifier?: string; Name?: string }[] = [];
  let nextToken: string | undefined;
  try {
    do {
      const page = await retryCognitoCall(() =>
        cognito.call('UserPoolResourceRead', { userPoolId: poolId }, (client) =>
          client.send(new ListResourceServersCommand({ UserPoolId: poolId, MaxResults: 50, NextToken: nextToken })),
        ),
      );
      servers.push(...(page.ResourceServers ?? []));
      nextToken = page.NextToken;
    } while (nextToken);
  } catch (err) {
    throw new ListingFailed(`ListResourceServers on ${poolId}`, classifyCognitoError(err));
  }
  return servers;
}

/**
 * Bulk seeding for tests and benchmarks: explicit pools, or a generator that
 * builds thousands of pools in a few seconds, in any account; plus access keys
 * of other accounts and roles to assume. Seeding skips the rate quotas but not
 * the model: shapes, per-pool limits, duplicates and scope existence are
 * checked as the API would. All or nothing: on any error the keys, roles and
 * pools this request created are removed again.
 */
import { invalidParameter } from './errors';
import { accessKeyShape, accountIdShape, roleShape, type Identities } from './identities';
import { CLIENT_DEFAULTS } from './operations';
import { regionOfPoolId, type CognitoModel, type UserPoolRecord } from './model';
import type { SeedGenerator, SeedRequest, SeedResult, SeedUserPool } from './types';
import {
  clientId,
  clientName,
  deserialize,
  identifier,
  integer,
  list,
  oauthScope,
  resourceServerName,
  resourceServerScopes,
  string,
  structure,
  userPoolId,
  userPoolName,
  validateConstraints,
  IDENTIFIER_PATTERN,
  MAX_SCOPES_PER_CLIENT,
  MAX_SCOPES_PER_RESOURCE_SERVER,
} from './validation';

const DEFAULT_REGION = 'us-east-1';
const REGION = string({ min: 1, max: 40, pattern: '[a-z]{2}(-[a-z0-9]+)+' });

const SEED_SHAPE = structure({
  userPools: list(
    structure(
      {
        id: userPoolId,
        name: userPoolName,
        accountId: accountIdShape,
        region: REGION,
        resourceServers: list(structure({ identifier, name: resourceServerName, scopes: resourceServerScopes }, ['identifier', 'name'])),
        clients: list(structure({ clientName, clientId, allowedOAuthScopes: list(oauthScope, MAX_SCOPES_PER_CLIENT) }, ['clientName'])),
      },
      ['name'],
    ),
  ),
  generate: structure(
    {
      pools: integer(0, 1_000_000),
      serversPerPool: integer(0),
      scopesPerServer: integer(0, MAX_SCOPES_PER_RESOURCE_SERVER),
      region: REGION,
      identifierPrefix: string({ min: 1, max: 200, pattern: IDENTIFIER_PATTERN }),
      clientsPerPool: integer(0),
      accountId: accountIdShape,
    },
    ['pools', 'serversPerPool', 'scopesPerServer'],
  ),
  credentials: list(accessKeyShape),
  roles: list(roleShape),
});

export function seedModel(model: CognitoModel, identities: Identities, body: unknown): SeedResult {
  const request = deserialize(SEED_SHAPE, body) as SeedRequest;
  validateConstraints(SEED_SHAPE, request as Record<string, unknown>);

  const created: UserPoolRecord[] = [];
  const keys: string[] = [];
  const roles: string[] = [];
  const result: SeedResult = { userPools: [], resourceServers: 0, clients: 0, credentials: 0, roles: 0 };
  try {
    for (const key of request.credentials ?? []) {
      identities.addKey(key);
      keys.push(key.accessKeyId);
      result.credentials++;
    }
    for (const role of request.roles ?? []) {
      identities.addRole(role);
      roles.push(role.arn);
      result.roles++;
    }
    for (const pool of request.userPools ?? []) seedPool(model, pool, created, result);
    if (request.generate) generate(model, request.generate, created, result);
  } catch (error) {
    for (const pool of created) model.removePool(pool);
    for (const key of keys) identities.removeKey(key);
    for (const role of roles) identities.removeRole(role);
    throw error;
  }
  return result;
}

function seedPool(model: CognitoModel, seed: SeedUserPool, created: UserPoolRecord[], result: SeedResult): void {
  const region = seed.region ?? (seed.id !== undefined ? regionOfPoolId(seed.id) : DEFAULT_REGION);
  if (seed.id !== undefined && regionOfPoolId(seed.id) !== region) {
    throw invalidParameter(`User pool id ${seed.id} does not belong to Region ${region}.`);
  }
  const pool = model.createUserPool({ accountId: seed.accountId ?? model.defaultAccountId, region }, seed.name, { id: seed.id });
  created.push(pool);
  for (const server of seed.resourceServers ?? []) {
    model.createResourceServer(pool, { identifier: server.identifier, name: server.name, scopes: server.scopes ?? [] });
    result.resourceServers++;
  }
  const clients: SeedResult['userPools'][number]['clients'] = [];
  for (const client of seed.clients ?? []) {
    const stored = model.createClient(pool, {
      clientId: client.clientId,
      clientName: client.clientName,
      allowedOAuthScopes: client.allowedOAuthScopes ?? [],
      settings: { ...CLIENT_DEFAULTS },
    });
    clients.push({ clientId: stored.clientId, clientName: stored.clientName });
    result.clients++;
  }
  result.userPools.push({ id: pool.id, name: pool.name, accountId: pool.accountId, clients });
}

function generate(model: CognitoModel, spec: SeedGenerator, created: UserPoolRecord[], result: SeedResult): void {
  const where = { accountId: spec.accountId ?? model.defaultAccountId, region: spec.region ?? DEFAULT_REGION };
  const prefix = spec.identifierPrefix ?? 'https://api.example.com/';
  const longest = `${prefix}pool-${spec.pools}/server-${spec.serversPerPool}`;
  if (longest.length > 256) throw invalidParameter(`Generated identifiers would be longer than 256 characters (${longest}).`);

  const scopes = Array.from({ length: spec.scopesPerServer }, (_, k) => ({ ScopeName: `scope-${k + 1}`, ScopeDescription: `Generated scope ${k + 1}` }));
  for (let p = 1; p <= spec.pools; p++) {
    const pool = model.createUserPool(where, `generated-pool-${p}`);
    created.push(pool);
    const firstScopes: string[] = [];
    for (let s = 1; s <= spec.serversPerPool; s++) {
      const id = `${prefix}pool-${p}/server-${s}`;
      model.createResourceServer(pool, { identifier: id, name: `generated server ${s}`, scopes });
      result.resourceServers++;
      if (scopes.length > 0 && firstScopes.length < MAX_SCOPES_PER_CLIENT) firstScopes.push(`${id}/${scopes[0]!.ScopeName}`);
    }
    const clients: SeedResult['userPools'][number]['clients'] = [];
    for (let c = 1; c <= (spec.clientsPerPool ?? 0); c++) {
      const stored = model.createClient(pool, { clientName: `generated-client-${c}`, allowedOAuthScopes: firstScopes, settings: { ...CLIENT_DEFAULTS } });
      clients.push({ clientId: stored.clientId, clientName: stored.clientName });
      result.clients++;
    }
    result.userPools.push({ id: pool.id, name: pool.name, accountId: pool.accountId, clients });
  }
}

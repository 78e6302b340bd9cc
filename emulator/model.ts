/**
 * The emulated accounts' Cognito state and Cognito's rules about it: which
 * pool exists in which account and Region, the per-pool limits, duplicate
 * identifiers, scopes that must exist when a client names them (and may
 * dangle once a server is deleted).
 *
 * Inputs reaching this module have already passed the shape checks in
 * validation.ts; here live only the rules that need the state.
 */
import { cognitoError, invalidParameter, resourceNotFound } from './errors';
import { accessKeyShape, accountIdShape, roleShape } from './identities';
import type { IdGenerator } from './ids';
import { OrderedStore } from './ordered-store';
import type {
  EmulatorState,
  ResourceServerScope,
  StateClient,
  StateResourceServer,
  StateUserPool,
} from './types';
import {
  clientId as clientIdShape,
  clientName as clientNameShape,
  deserialize,
  document,
  identifier as identifierShape,
  list,
  map,
  number,
  resourceServerName,
  resourceServerScopes,
  string,
  structure,
  userPoolId as userPoolIdShape,
  userPoolName,
  validateConstraints,
} from './validation';

export interface ResourceServerRecord {
  identifier: string;
  name: string;
  scopes: ResourceServerScope[];
}

export interface ClientRecord {
  clientId: string;
  clientName: string;
  creationDate: number;
  lastModifiedDate: number;
  allowedOAuthScopes: string[];
  settings: Record<string, unknown>;
}

export interface UserPoolRecord {
  id: string;
  name: string;
  accountId: string;
  region: string;
  creationDate: number;
  lastModifiedDate: number;
  deletionProtection: 'ACTIVE' | 'INACTIVE';
  tags: Record<string, string>;
  resourceServers: OrderedStore<ResourceServerRecord>;
  clients: OrderedStore<ClientRecord>;
}

/** Where a call is made: the caller's account and the Region of its credential scope. */
export interface AccountRegion {
  accountId: string;
  region: string;
}

export interface ModelLimits {
  maxResourceServersPerPool: number;
  maxClientsPerPool: number;
}

/** Scopes every pool has without a resource server. */
export const STANDARD_SCOPES: ReadonlySet<string> = new Set(['openid', 'email', 'phone', 'profile', 'aws.cognito.signin.user.admin']);

/** Epoch seconds with millisecond precision, as Cognito returns dates. */
export function epochSeconds(ms = Date.now()): number {
  return Math.round(ms) / 1000;
}

/** The part of a pool id before the last '_' is its Region. */
export function regionOfPoolId(id: string): string {
  return id.slice(0, id.lastIndexOf('_'));
}

export class CognitoModel {
  /** By id: pool ids are unique across accounts, as Cognito's are. */
  private pools = new Map<string, UserPoolRecord>();
  /** By account and Region, in creation order, for ListUserPools. */
  private poolsByRegion = new Map<string, OrderedStore<UserPoolRecord>>();

  constructor(
    /** Pools loaded or seeded without an account belong to it. */
    readonly defaultAccountId: string,
    private readonly ids: IdGenerator,
    /** Read on every check so run-time config changes apply at once. */
    private readonly limits: () => ModelLimits,
  ) {}

  get poolCount(): number {
    return this.pools.size;
  }

  poolArn(pool: Pick<UserPoolRecord, 'id' | 'region' | 'accountId'>): string {
    return `arn:aws:cognito-idp:${pool.region}:${pool.accountId}:userpool/${pool.id}`;
  }

  clear(): void {
    this.pools = new Map();
    this.poolsByRegion = new Map();
  }

  // ---- User pools ----

  createUserPool(
    { accountId, region }: AccountRegion,
    name: string,
    extra: { id?: string; deletionProtection?: 'ACTIVE' | 'INACTIVE'; tags?: Record<string, string>; creationDate?: number; lastModifiedDate?: number } = {},
  ): UserPoolRecord {
    let id = extra.id;
    if (id === undefined) {
      do id = this.ids.userPoolId(region);
      while (this.pools.has(id));
    } else if (this.pools.has(id)) {
      throw invalidParameter(`User pool ${id} already exists.`);
    }
    const now = epochSeconds();
    const pool: UserPoolRecord = {
      id,
      name,
      accountId,
      region,
      creationDate: extra.creationDate ?? now,
      lastModifiedDate: extra.lastModifiedDate ?? now,
      deletionProtection: extra.deletionProtection ?? 'INACTIVE',
      tags: extra.tags ?? {},
      resourceServers: new OrderedStore(),
      clients: new OrderedStore(),
    };
    this.pools.set(id, pool);
    this.regionStore(pool).set(id, pool);
    return pool;
  }

  /**
   * A pool exists only in its own account and Region: asked with another
   * account's credentials or through another Region's endpoint, it does not exist.
   */
  getUserPool(id: string, where: AccountRegion): UserPoolRecord {
    const pool = this.pools.get(id);
    if (!pool || pool.region !== where.region || pool.accountId !== where.accountId) throw resourceNotFound(`User pool ${id} does not exist.`);
    return pool;
  }

  listUserPools(where: AccountRegion): OrderedStore<UserPoolRecord> {
    return this.regionStore(where);
  }

  deleteUserPool(id: string, where: AccountRegion): void {
    const pool = this.getUserPool(id, where);
    if (pool.deletionProtection === 'ACTIVE') {
      throw invalidParameter('The user pool cannot be deleted because deletion protection is activated. Deletion protection must be inactivated first.');
    }
    this.removePool(pool);
  }

  /** Used to undo a seed that failed half way. */
  removePool(pool: UserPoolRecord): void {
    this.pools.delete(pool.id);
    this.poolsByRegion.get(`${pool.accountId}/${pool.region}`)?.delete(pool.id);
  }

  private regionStore({ accountId, region }: AccountRegion): OrderedStore<UserPoolRecord> {
    const key = `${accountId}/${region}`;
    let store = this.poolsByRegion.get(key);
    if (!store) {
      store = new OrderedStore();
      this.poolsByRegion.set(key, store);
    }
    return store;
  }

  // ---- Resource servers ----

  getResourceServer(pool: UserPoolRecord, identifier: string): ResourceServerRecord {
    const server = pool.resourceServers.get(identifier);
    if (!server) throw resourceNotFound(`Resource server ${identifier} does not exist in user pool ${pool.id}.`);
    return server;
  }

  createResourceServer(pool: UserPoolRecord, server: ResourceServerRecord): ResourceServerRecord {
    if (pool.resourceServers.has(server.identifier)) {
      throw invalidParameter(`A resource server with identifier ${server.identifier} already exists in this user pool.`);
    }
    const max = this.limits().maxResourceServersPerPool;
    if (pool.resourceServers.size >= max) {
      throw cognitoError('LimitExceededException', `The user pool ${pool.id} has reached its limit of ${max} resource servers.`);
    }
    checkDistinctScopeNames(server.scopes);
    const stored = copyResourceServer(server);
    pool.resourceServers.set(stored.identifier, stored);
    return stored;
  }

  /** Replaces name and scopes, as Cognito does: scopes left out are removed. */
  updateResourceServer(pool: UserPoolRecord, server: ResourceServerRecord): ResourceServerRecord {
    this.getResourceServer(pool, server.identifier);
    checkDistinctScopeNames(server.scopes);
    const stored = copyResourceServer(server);
    pool.resourceServers.set(stored.identifier, stored);
    return stored;
  }

  /** Clients naming its scopes keep them (dangling), exactly as Cognito leaves them. */
  deleteResourceServer(pool: UserPoolRecord, identifier: string): void {
    this.getResourceServer(pool, identifier);
    pool.resourceServers.delete(identifier);
  }

  // ---- App clients ----

  getClient(pool: UserPoolRecord, clientId: string): ClientRecord {
    const client = pool.clients.get(clientId);
    if (!client) throw resourceNotFound(`User pool client ${clientId} does not exist.`);
    return client;
  }

  /** Every custom scope must be `identifier/ScopeName` of a server of this pool, now. */
  checkScopesExist(pool: UserPoolRecord, scopes: readonly string[]): void {
    for (const scope of scopes) {
      if (STANDARD_SCOPES.has(scope)) continue;
      // Identifiers may contain '/', scope names may not: split at the last one.
      const slash = scope.lastIndexOf('/');
      const server = slash > 0 ? pool.resourceServers.get(scope.slice(0, slash)) : undefined;
      const scopeName = scope.slice(slash + 1);
      if (!server || !server.scopes.some((s) => s.ScopeName === scopeName)) {
        throw cognitoError('ScopeDoesNotExistException', `Invalid scope requested: ${scope}`);
      }
    }
  }

  createClient(pool: UserPoolRecord, client: Omit<ClientRecord, 'creationDate' | 'lastModifiedDate' | 'clientId'> & { clientId?: string }): ClientRecord {
    const max = this.limits().maxClientsPerPool;
    if (pool.clients.size >= max) {
      throw cognitoError('LimitExceededException', `The user pool ${pool.id} has reached its limit of ${max} app clients.`);
    }
    let clientId = client.clientId;
    if (clientId === undefined) {
      do clientId = this.ids.clientId();
      while (pool.clients.has(clientId));
    } else if (pool.clients.has(clientId)) {
      throw invalidParameter(`User pool client ${clientId} already exists.`);
    }
    this.checkScopesExist(pool, client.allowedOAuthScopes);
    const now = epochSeconds();
    const stored: ClientRecord = {
      clientId,
      clientName: client.clientName,
      creationDate: now,
      lastModifiedDate: now,
      allowedOAuthScopes: [...client.allowedOAuthScopes],
      settings: { ...client.settings },
    };
    pool.clients.set(clientId, stored);
    return stored;
  }

  updateClient(pool: UserPoolRecord, clientId: string, update: { clientName: string; allowedOAuthScopes: string[]; settings: Record<string, unknown> }): ClientRecord {
    const existing = this.getClient(pool, clientId);
    this.checkScopesExist(pool, update.allowedOAuthScopes);
    const stored: ClientRecord = {
      ...existing,
      clientName: update.clientName,
      lastModifiedDate: epochSeconds(),
      allowedOAuthScopes: [...update.allowedOAuthScopes],
      settings: { ...update.settings },
    };
    pool.clients.set(clientId, stored);
    return stored;
  }

  deleteClient(pool: UserPoolRecord, clientId: string): void {
    this.getClient(pool, clientId);
    pool.clients.delete(clientId);
  }

  newClientSecret(): string {
    return this.ids.clientSecret();
  }

  // ---- Dump and load ----

  dump(): EmulatorState {
    const userPools: StateUserPool[] = [];
    for (const pool of this.pools.values()) {
      userPools.push({
        id: pool.id,
        name: pool.name,
        accountId: pool.accountId,
        region: pool.region,
        creationDate: pool.creationDate,
        lastModifiedDate: pool.lastModifiedDate,
        deletionProtection: pool.deletionProtection,
        tags: { ...pool.tags },
        resourceServers: pool.resourceServers.values().map(copyResourceServer),
        clients: pool.clients.values().map(
          (client): StateClient => ({ ...client, allowedOAuthScopes: [...client.allowedOAuthScopes], settings: structuredClone(client.settings) }),
        ),
      });
    }
    return { version: 1, userPools };
  }

  /**
   * Replaces every pool with those of a state dump (see parseState).
   * Uniqueness is checked, scope existence is not: a dump may hold dangling
   * client scopes, as Cognito can. `andThen` runs before the load is final: if
   * it throws, the old pools come back.
   */
  load(parsed: EmulatorState, andThen: () => void = () => {}): void {
    const previousPools = this.pools;
    const previousByRegion = this.poolsByRegion;
    this.clear();
    try {
      for (const p of parsed.userPools) {
        const region = regionOfPoolId(p.id);
        if (p.region !== undefined && p.region !== region) throw invalidParameter(`User pool ${p.id} cannot be in Region ${p.region}.`);
        const pool = this.createUserPool({ accountId: p.accountId ?? this.defaultAccountId, region }, p.name, p);
        for (const server of p.resourceServers ?? []) {
          if (pool.resourceServers.has(server.identifier)) throw invalidParameter(`Duplicate resource server ${server.identifier} in user pool ${p.id}.`);
          checkDistinctScopeNames(server.scopes ?? []);
          pool.resourceServers.set(server.identifier, copyResourceServer({ ...server, scopes: server.scopes ?? [] }));
        }
        for (const client of p.clients ?? []) {
          if (pool.clients.has(client.clientId)) throw invalidParameter(`Duplicate client ${client.clientId} in user pool ${p.id}.`);
          pool.clients.set(client.clientId, {
            clientId: client.clientId,
            clientName: client.clientName,
            creationDate: client.creationDate ?? pool.creationDate,
            lastModifiedDate: client.lastModifiedDate ?? pool.creationDate,
            allowedOAuthScopes: client.allowedOAuthScopes ?? [],
            settings: client.settings ?? {},
          });
        }
      }
      andThen();
    } catch (error) {
      this.pools = previousPools;
      this.poolsByRegion = previousByRegion;
      throw error;
    }
  }
}

function copyResourceServer(server: StateResourceServer): ResourceServerRecord {
  return {
    identifier: server.identifier,
    name: server.name,
    scopes: server.scopes.map((s) => ({ ScopeName: s.ScopeName, ScopeDescription: s.ScopeDescription })),
  };
}

function checkDistinctScopeNames(scopes: readonly ResourceServerScope[]): void {
  const seen = new Set<string>();
  for (const scope of scopes) {
    if (seen.has(scope.ScopeName)) throw invalidParameter(`Duplicate scope name ${scope.ScopeName} in the resource server.`);
    seen.add(scope.ScopeName);
  }
}

/** Checks a state dump's shapes (as the API would) and returns it. */
export function parseState(state: unknown): EmulatorState {
  const parsed = deserialize(STATE_SHAPE, state);
  validateConstraints(STATE_SHAPE, parsed);
  return parsed as unknown as EmulatorState;
}

const epoch = number();

const STATE_SHAPE = structure(
  {
    version: document(),
    userPools: list(
      structure(
        {
          id: userPoolIdShape,
          name: userPoolName,
          accountId: accountIdShape,
          region: string(),
          creationDate: epoch,
          lastModifiedDate: epoch,
          deletionProtection: string({ enum: ['ACTIVE', 'INACTIVE'] }),
          tags: map(string()),
          resourceServers: list(
            structure({ identifier: identifierShape, name: resourceServerName, scopes: resourceServerScopes }, ['identifier', 'name']),
          ),
          clients: list(
            structure(
              {
                clientId: clientIdShape,
                clientName: clientNameShape,
                creationDate: epoch,
                lastModifiedDate: epoch,
                allowedOAuthScopes: list(string()),
                settings: map(document()),
              },
              ['clientId', 'clientName'],
            ),
          ),
        },
        ['id', 'name'],
      ),
    ),
    accessKeys: list(accessKeyShape),
    roles: list(roleShape),
  },
  ['userPools'],
);

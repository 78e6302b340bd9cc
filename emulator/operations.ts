/**
 * The modeled Cognito operations: for each, its quota category, its input
 * shape (from the service model) and a handler that applies Cognito's rules to
 * the model and returns the response body in the real API's shape, so the
 * unmodified SDK deserializes it.
 */
import { cognitoError, invalidParameter } from './errors';
import type { AccountRegion, ClientRecord, CognitoModel, ResourceServerRecord, UserPoolRecord } from './model';
import type { StatsRecorder } from './stats';
import type { QuotaCategory, ResourceServerScope } from './types';
import {
  boolean,
  clientId,
  clientName,
  clientSettingMembers,
  document,
  identifier,
  integer,
  map,
  paginationKey,
  resourceServerName,
  resourceServerScopes,
  string,
  structure,
  type StructureShape,
  userPoolId,
  userPoolName,
} from './validation';

export interface OperationContext extends AccountRegion {
  model: CognitoModel;
  stats: StatsRecorder;
  /** The emulator's clock at the call. */
  nowMs: number;
}

export interface OperationDefinition {
  name: string;
  category: QuotaCategory;
  input: StructureShape;
  run(input: Record<string, unknown>, context: OperationContext): Record<string, unknown>;
}

// ---- Page tokens ----

/** Opaque to callers; bound to the listed collection so a token from another pool is rejected. */
function encodeToken(scope: string, after: number): string {
  return Buffer.from(`v1|${scope}|${after}`).toString('base64url');
}

function decodeToken(scope: string, token: unknown): number {
  if (token === undefined) return 0;
  const [version, tokenScope, after] = Buffer.from(String(token), 'base64url').toString('utf8').split('|');
  const n = Number(after);
  if (version !== 'v1' || tokenScope !== scope || !Number.isInteger(n) || n < 0) throw invalidParameter('Invalid NextToken.');
  return n;
}

// ---- Response views ----

function describeUserPool(model: CognitoModel, pool: UserPoolRecord): Record<string, unknown> {
  return {
    Id: pool.id,
    Name: pool.name,
    Arn: model.poolArn(pool),
    CreationDate: pool.creationDate,
    LastModifiedDate: pool.lastModifiedDate,
    DeletionProtection: pool.deletionProtection,
    LambdaConfig: {},
    MfaConfiguration: 'OFF',
    EstimatedNumberOfUsers: 0,
    UserPoolTags: pool.tags,
  };
}

function describeResourceServer(pool: UserPoolRecord, server: ResourceServerRecord): Record<string, unknown> {
  return { UserPoolId: pool.id, Identifier: server.identifier, Name: server.name, Scopes: server.scopes };
}

function describeClient(pool: UserPoolRecord, client: ClientRecord): Record<string, unknown> {
  const view: Record<string, unknown> = {
    UserPoolId: pool.id,
    ClientName: client.clientName,
    ClientId: client.clientId,
    LastModifiedDate: client.lastModifiedDate,
    CreationDate: client.creationDate,
    ...client.settings,
  };
  // Cognito leaves the member out when no scope is set.
  if (client.allowedOAuthScopes.length > 0) view.AllowedOAuthScopes = client.allowedOAuthScopes;
  return view;
}

// ---- App client settings ----

/** What Cognito fills in for a client created or updated without these members. */
export const CLIENT_DEFAULTS: Readonly<Record<string, unknown>> = {
  RefreshTokenValidity: 30,
  AllowedOAuthFlowsUserPoolClient: false,
  EnableTokenRevocation: true,
  EnablePropagateAdditionalUserContextData: false,
  AuthSessionValidity: 3,
};

/** Create and Update replace every setting: members left out go back to their defaults. */
function clientSettings(input: Record<string, unknown>, clientSecret: unknown): Record<string, unknown> {
  const settings: Record<string, unknown> = { ...CLIENT_DEFAULTS };
  for (const name of Object.keys(clientSettingMembers)) {
    if (name !== 'AllowedOAuthScopes' && input[name] !== undefined) settings[name] = input[name];
  }
  if (clientSecret !== undefined) settings.ClientSecret = clientSecret;
  return settings;
}

function checkOAuthFlows(settings: Record<string, unknown>): void {
  const flows = (settings.AllowedOAuthFlows as string[] | undefined) ?? [];
  if (!flows.includes('client_credentials')) return;
  if (settings.ClientSecret === undefined) {
    throw cognitoError('InvalidOAuthFlowException', 'client_credentials flow can not be selected if client does not have a client secret.');
  }
  if (flows.includes('code') || flows.includes('implicit')) {
    throw cognitoError('InvalidOAuthFlowException', 'client_credentials flow can not be selected along with code flow or implicit flow.');
  }
}

// ---- Operations ----

const poolOf = (input: Record<string, unknown>, context: OperationContext): UserPoolRecord =>
  context.model.getUserPool(input.UserPoolId as string, context);

const resourceServerInput = (input: Record<string, unknown>): ResourceServerRecord => ({
  identifier: input.Identifier as string,
  name: input.Name as string,
  scopes: (input.Scopes as ResourceServerScope[] | undefined) ?? [],
});

const definitions: OperationDefinition[] = [
  {
    name: 'CreateUserPool',
    category: 'UserPoolUpdate',
    input: structure(
      {
        PoolName: userPoolName,
        DeletionProtection: string({ enum: ['ACTIVE', 'INACTIVE'] }),
        UserPoolTags: map(string({ min: 0, max: 256 })),
        MfaConfiguration: string({ enum: ['OFF', 'ON', 'OPTIONAL'] }),
        UserPoolTier: string({ enum: ['LITE', 'ESSENTIALS', 'PLUS'] }),
        // Accepted for compatibility, not modeled.
        Policies: document(),
        LambdaConfig: document(),
        Schema: document(),
        AutoVerifiedAttributes: document(),
        UsernameAttributes: document(),
        AliasAttributes: document(),
        AdminCreateUserConfig: document(),
        AccountRecoverySetting: document(),
      },
      ['PoolName'],
    ),
    run(input, context) {
      const pool = context.model.createUserPool(context, input.PoolName as string, {
        deletionProtection: input.DeletionProtection as 'ACTIVE' | 'INACTIVE' | undefined,
        tags: input.UserPoolTags as Record<string, string> | undefined,
      });
      return { UserPool: describeUserPool(context.model, pool) };
    },
  },
  {
    name: 'DescribeUserPool',
    category: 'UserPoolRead',
    input: structure({ UserPoolId: userPoolId }, ['UserPoolId']),
    run(input, context) {
      return { UserPool: describeUserPool(context.model, poolOf(input, context)) };
    },
  },
  {
    name: 'ListUserPools',
    category: 'UserPoolRead',
    input: structure({ MaxResults: integer(1, 60), NextToken: paginationKey }, ['MaxResults']),
    run(input, context) {
      // The token is bound to the account and Region it lists.
      const scope = `${context.accountId}/${context.region}`;
      const page = context.model.listUserPools(context).page(decodeToken(scope, input.NextToken), input.MaxResults as number);
      const body: Record<string, unknown> = {
        UserPools: page.items.map((pool) => ({
          Id: pool.id,
          Name: pool.name,
          LambdaConfig: {},
          LastModifiedDate: pool.lastModifiedDate,
          CreationDate: pool.creationDate,
        })),
      };
      if (page.nextAfter !== undefined) body.NextToken = encodeToken(scope, page.nextAfter);
      return body;
    },
  },
  {
    name: 'DeleteUserPool',
    category: 'UserPoolUpdate',
    input: structure({ UserPoolId: userPoolId }, ['UserPoolId']),
    run(input, context) {
      context.model.deleteUserPool(input.UserPoolId as string, context);
      return {};
    },
  },
  {
    name: 'CreateResourceServer',
    category: 'UserPoolResourceUpdate',
    input: structure({ UserPoolId: userPoolId, Identifier: identifier, Name: resourceServerName, Scopes: resourceServerScopes }, ['UserPoolId', 'Identifier', 'Name']),
    run(input, context) {
      const pool = poolOf(input, context);
      return { ResourceServer: describeResourceServer(pool, context.model.createResourceServer(pool, resourceServerInput(input))) };
    },
  },
  {
    name: 'DescribeResourceServer',
    category: 'UserPoolResourceRead',
    input: structure({ UserPoolId: userPoolId, Identifier: identifier }, ['UserPoolId', 'Identifier']),
    run(input, context) {
      const pool = poolOf(input, context);
      return { ResourceServer: describeResourceServer(pool, context.model.getResourceServer(pool, input.Identifier as string)) };
    },
  },
  {
    name: 'ListResourceServers',
    category: 'UserPoolResourceRead',
    input: structure({ UserPoolId: userPoolId, MaxResults: integer(1, 50), NextToken: paginationKey }, ['UserPoolId']),
    run(input, context) {
      const pool = poolOf(input, context);
      const page = pool.resourceServers.page(decodeToken(pool.id, input.NextToken), (input.MaxResults as number | undefined) ?? 50);
      const body: Record<string, unknown> = { ResourceServers: page.items.map((server) => describeResourceServer(pool, server)) };
      if (page.nextAfter !== undefined) body.NextToken = encodeToken(pool.id, page.nextAfter);
      return body;
    },
  },
  {
    name: 'UpdateResourceServer',
    category: 'UserPoolResourceUpdate',
    input: structure({ UserPoolId: userPoolId, Identifier: identifier, Name: resourceServerName, Scopes: resourceServerScopes }, ['UserPoolId', 'Identifier', 'Name']),
    run(input, context) {
      const pool = poolOf(input, context);
      return { ResourceServer: describeResourceServer(pool, context.model.updateResourceServer(pool, resourceServerInput(input))) };
    },
  },
  {
    name: 'DeleteResourceServer',
    category: 'UserPoolResourceUpdate',
    input: structure({ UserPoolId: userPoolId, Identifier: identifier }, ['UserPoolId', 'Identifier']),
    run(input, context) {
      const pool = poolOf(input, context);
      context.model.deleteResourceServer(pool, input.Identifier as string);
      context.stats.recordDelete({ userPoolId: pool.id, identifier: input.Identifier as string, accountId: pool.accountId, region: pool.region }, context.nowMs);
      return {};
    },
  },
  {
    name: 'CreateUserPoolClient',
    category: 'UserPoolClientUpdate',
    input: structure(
      {
        UserPoolId: userPoolId,
        ClientName: clientName,
        GenerateSecret: boolean(),
        ClientSecret: string({ min: 24, max: 64, pattern: '[\\w+]+', sensitive: true }),
        ...clientSettingMembers,
      },
      ['UserPoolId', 'ClientName'],
    ),
    run(input, context) {
      const pool = poolOf(input, context);
      const secret = input.ClientSecret ?? (input.GenerateSecret === true ? context.model.newClientSecret() : undefined);
      const settings = clientSettings(input, secret);
      checkOAuthFlows(settings);
      const client = context.model.createClient(pool, {
        clientName: input.ClientName as string,
        allowedOAuthScopes: (input.AllowedOAuthScopes as string[] | undefined) ?? [],
        settings,
      });
      return { UserPoolClient: describeClient(pool, client) };
    },
  },
  {
    name: 'DescribeUserPoolClient',
    category: 'UserPoolClientRead',
    input: structure({ UserPoolId: userPoolId, ClientId: clientId }, ['UserPoolId', 'ClientId']),
    run(input, context) {
      const pool = poolOf(input, context);
      return { UserPoolClient: describeClient(pool, context.model.getClient(pool, input.ClientId as string)) };
    },
  },
  {
    name: 'ListUserPoolClients',
    category: 'UserPoolClientRead',
    input: structure({ UserPoolId: userPoolId, MaxResults: integer(1, 60), NextToken: string({ min: 1, max: 131072, pattern: '[\\S]+' }) }, ['UserPoolId']),
    run(input, context) {
      const pool = poolOf(input, context);
      const page = pool.clients.page(decodeToken(pool.id, input.NextToken), (input.MaxResults as number | undefined) ?? 60);
      const body: Record<string, unknown> = {
        UserPoolClients: page.items.map((client) => ({ ClientId: client.clientId, UserPoolId: pool.id, ClientName: client.clientName })),
      };
      if (page.nextAfter !== undefined) body.NextToken = encodeToken(pool.id, page.nextAfter);
      return body;
    },
  },
  {
    name: 'UpdateUserPoolClient',
    category: 'UserPoolClientUpdate',
    input: structure({ UserPoolId: userPoolId, ClientId: clientId, ClientName: clientName, ...clientSettingMembers }, ['UserPoolId', 'ClientId']),
    run(input, context) {
      const pool = poolOf(input, context);
      const existing = context.model.getClient(pool, input.ClientId as string);
      const settings = clientSettings(input, existing.settings.ClientSecret);
      checkOAuthFlows(settings);
      const client = context.model.updateClient(pool, existing.clientId, {
        clientName: (input.ClientName as string | undefined) ?? existing.clientName,
        allowedOAuthScopes: (input.AllowedOAuthScopes as string[] | undefined) ?? [],
        settings,
      });
      return { UserPoolClient: describeClient(pool, client) };
    },
  },
  {
    name: 'DeleteUserPoolClient',
    category: 'UserPoolClientUpdate',
    input: structure({ UserPoolId: userPoolId, ClientId: clientId }, ['UserPoolId', 'ClientId']),
    run(input, context) {
      const pool = poolOf(input, context);
      context.model.deleteClient(pool, input.ClientId as string);
      return {};
    },
  },
];

export const OPERATIONS: ReadonlyMap<string, OperationDefinition> = new Map(definitions.map((definition) => [definition.name, definition]));

export const OPERATION_NAMES: readonly string[] = definitions.map((definition) => definition.name);

/** Quota category of each operation, for callers that pace themselves. */
export const OPERATION_CATEGORIES: Readonly<Record<string, QuotaCategory>> = Object.fromEntries(
  definitions.map((definition) => [definition.name, definition.category]),
);

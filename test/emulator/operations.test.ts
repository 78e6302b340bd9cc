/**
 * Happy paths of every modeled operation through the unmodified SDK, and the
 * wire format (status, headers, body) checked with raw HTTP.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  CreateResourceServerCommand,
  CreateUserPoolClientCommand,
  CreateUserPoolCommand,
  DeleteResourceServerCommand,
  DeleteUserPoolClientCommand,
  DeleteUserPoolCommand,
  DescribeResourceServerCommand,
  DescribeUserPoolClientCommand,
  DescribeUserPoolCommand,
  ListResourceServersCommand,
  ListUserPoolClientsCommand,
  ListUserPoolsCommand,
  UpdateResourceServerCommand,
  UpdateUserPoolClientCommand,
  type CognitoIdentityProviderClient,
  type ResourceServerType,
} from '@aws-sdk/client-cognito-identity-provider';
import { startEmulator, type RunningEmulator } from '../../emulator';
import { caught, rawCall, sdkClient } from './helpers';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('emulator operations (happy paths)', () => {
  let emulator: RunningEmulator;
  let client: CognitoIdentityProviderClient;

  beforeAll(async () => {
    emulator = await startEmulator({ port: 0, quotas: false });
    client = sdkClient(emulator);
  });
  afterAll(async () => {
    client?.destroy();
    await emulator?.close();
  });
  beforeEach(async () => {
    await emulator.control.reset();
  });

  async function newPool(name = 'pool'): Promise<string> {
    const created = await client.send(new CreateUserPoolCommand({ PoolName: name }));
    return created.UserPool!.Id!;
  }

  it('creates, describes, lists and deletes user pools', async () => {
    const created = await client.send(new CreateUserPoolCommand({ PoolName: 'orders pool' }));
    const pool = created.UserPool!;
    expect(pool.Id).toMatch(/^us-east-1_[0-9a-zA-Z]{9}$/);
    expect(pool.Name).toBe('orders pool');
    expect(pool.Arn).toBe(`arn:aws:cognito-idp:us-east-1:000000000000:userpool/${pool.Id}`);
    expect(pool.CreationDate).toBeInstanceOf(Date);
    expect(Math.abs(pool.CreationDate!.getTime() - Date.now())).toBeLessThan(60_000);

    const described = await client.send(new DescribeUserPoolCommand({ UserPoolId: pool.Id }));
    expect(described.UserPool).toMatchObject({ Id: pool.Id, Name: 'orders pool', Arn: pool.Arn });

    const more = [await newPool('b'), await newPool('c'), await newPool('d'), await newPool('e')];
    const listed: string[] = [];
    let nextToken: string | undefined;
    let pages = 0;
    do {
      const page = await client.send(new ListUserPoolsCommand({ MaxResults: 2, NextToken: nextToken }));
      expect(page.UserPools!.length).toBeLessThanOrEqual(2);
      listed.push(...page.UserPools!.map((p) => p.Id!));
      nextToken = page.NextToken;
      pages++;
    } while (nextToken);
    expect(pages).toBe(3);
    expect(listed).toEqual([pool.Id, ...more]);

    await client.send(new DeleteUserPoolCommand({ UserPoolId: pool.Id }));
    expect((await caught(client.send(new DescribeUserPoolCommand({ UserPoolId: pool.Id })))).name).toBe('ResourceNotFoundException');
    const after = await client.send(new ListUserPoolsCommand({ MaxResults: 60 }));
    expect(after.UserPools!.map((p) => p.Id)).toEqual(more);
  });

  it('creates, describes, updates and deletes a resource server', async () => {
    const poolId = await newPool();
    const scopes = [
      { ScopeName: 'orders.read', ScopeDescription: 'Read orders' },
      { ScopeName: 'orders.write', ScopeDescription: 'Write orders' },
    ];
    const created = await client.send(
      new CreateResourceServerCommand({ UserPoolId: poolId, Identifier: 'https://api.example.com/orders', Name: 'Orders API', Scopes: scopes }),
    );
    const expected: ResourceServerType = { UserPoolId: poolId, Identifier: 'https://api.example.com/orders', Name: 'Orders API', Scopes: scopes };
    expect(created.ResourceServer).toEqual(expected);

    const described = await client.send(new DescribeResourceServerCommand({ UserPoolId: poolId, Identifier: 'https://api.example.com/orders' }));
    expect(described.ResourceServer).toEqual(expected);

    const updated = await client.send(
      new UpdateResourceServerCommand({ UserPoolId: poolId, Identifier: 'https://api.example.com/orders', Name: 'Orders v2', Scopes: [scopes[0]!] }),
    );
    expect(updated.ResourceServer).toEqual({ ...expected, Name: 'Orders v2', Scopes: [scopes[0]] });
    // Update replaces everything: leaving Scopes out removes them.
    await client.send(new UpdateResourceServerCommand({ UserPoolId: poolId, Identifier: 'https://api.example.com/orders', Name: 'Orders v3' }));
    const afterUpdate = await client.send(new DescribeResourceServerCommand({ UserPoolId: poolId, Identifier: 'https://api.example.com/orders' }));
    expect(afterUpdate.ResourceServer).toEqual({ ...expected, Name: 'Orders v3', Scopes: [] });

    const deleted = await client.send(new DeleteResourceServerCommand({ UserPoolId: poolId, Identifier: 'https://api.example.com/orders' }));
    expect(deleted.$metadata.httpStatusCode).toBe(200);
    expect(Object.keys(deleted).filter((key) => key !== '$metadata')).toEqual([]);
    const gone = await caught(client.send(new DescribeResourceServerCommand({ UserPoolId: poolId, Identifier: 'https://api.example.com/orders' })));
    expect(gone).toMatchObject({ name: 'ResourceNotFoundException', status: 400 });

    const stats = await emulator.control.stats();
    expect(stats.deletes).toHaveLength(1);
    expect(stats.deletes[0]).toMatchObject({ userPoolId: poolId, identifier: 'https://api.example.com/orders' });
    expect(new Date(stats.deletes[0]!.time).toISOString()).toBe(stats.deletes[0]!.time);
  });

  it('pages resource servers in creation order, without skipping when an item is deleted between pages', async () => {
    const seeded = await emulator.control.seed({
      userPools: [{ name: 'paged', resourceServers: Array.from({ length: 23 }, (_, i) => ({ identifier: `rs-${i}`, name: `server ${i}` })) }],
    });
    const poolId = seeded.userPools[0]!.id;

    const first = await client.send(new ListResourceServersCommand({ UserPoolId: poolId, MaxResults: 10 }));
    expect(first.ResourceServers!.map((s) => s.Identifier)).toEqual(Array.from({ length: 10 }, (_, i) => `rs-${i}`));
    expect(first.NextToken).toBeTruthy();
    // Deleting an item already returned must not shift the next page.
    await client.send(new DeleteResourceServerCommand({ UserPoolId: poolId, Identifier: 'rs-3' }));
    const second = await client.send(new ListResourceServersCommand({ UserPoolId: poolId, MaxResults: 10, NextToken: first.NextToken }));
    expect(second.ResourceServers!.map((s) => s.Identifier)).toEqual(Array.from({ length: 10 }, (_, i) => `rs-${i + 10}`));
    const third = await client.send(new ListResourceServersCommand({ UserPoolId: poolId, MaxResults: 10, NextToken: second.NextToken }));
    expect(third.ResourceServers!.map((s) => s.Identifier)).toEqual(['rs-20', 'rs-21', 'rs-22']);
    expect(third.NextToken).toBeUndefined();

    // Without MaxResults: up to 50 in one page.
    const all = await client.send(new ListResourceServersCommand({ UserPoolId: poolId }));
    expect(all.ResourceServers).toHaveLength(22);
    expect(all.NextToken).toBeUndefined();
  });

  it('creates, describes, lists, updates and deletes app clients', async () => {
    const seeded = await emulator.control.seed({
      userPools: [{ name: 'clients', resourceServers: [{ identifier: 'https://api.example.com', name: 'api', scopes: [{ ScopeName: 'read', ScopeDescription: 'r' }] }] }],
    });
    const poolId = seeded.userPools[0]!.id;

    const created = await client.send(
      new CreateUserPoolClientCommand({
        UserPoolId: poolId,
        ClientName: 'backend',
        GenerateSecret: true,
        AllowedOAuthFlows: ['client_credentials'],
        AllowedOAuthFlowsUserPoolClient: true,
        AllowedOAuthScopes: ['https://api.example.com/read'],
      }),
    );
    const app = created.UserPoolClient!;
    expect(app.ClientId).toMatch(/^[a-z0-9]{26}$/);
    expect(app.ClientSecret).toMatch(/^[a-z0-9]{51}$/);
    expect(app).toMatchObject({
      UserPoolId: poolId,
      ClientName: 'backend',
      AllowedOAuthFlows: ['client_credentials'],
      AllowedOAuthFlowsUserPoolClient: true,
      AllowedOAuthScopes: ['https://api.example.com/read'],
    });
    expect(app.CreationDate).toBeInstanceOf(Date);

    const described = await client.send(new DescribeUserPoolClientCommand({ UserPoolId: poolId, ClientId: app.ClientId }));
    expect(described.UserPoolClient).toEqual(app);

    const other = await client.send(new CreateUserPoolClientCommand({ UserPoolId: poolId, ClientName: 'web', AllowedOAuthScopes: ['openid', 'email'] }));
    const firstPage = await client.send(new ListUserPoolClientsCommand({ UserPoolId: poolId, MaxResults: 1 }));
    expect(firstPage.UserPoolClients).toEqual([{ ClientId: app.ClientId, UserPoolId: poolId, ClientName: 'backend' }]);
    const secondPage = await client.send(new ListUserPoolClientsCommand({ UserPoolId: poolId, MaxResults: 1, NextToken: firstPage.NextToken }));
    expect(secondPage.UserPoolClients).toEqual([{ ClientId: other.UserPoolClient!.ClientId, UserPoolId: poolId, ClientName: 'web' }]);
    expect(secondPage.NextToken).toBeUndefined();

    // Update replaces the settings: scopes and flows left out are cleared, the name and secret stay.
    const updated = await client.send(new UpdateUserPoolClientCommand({ UserPoolId: poolId, ClientId: app.ClientId, RefreshTokenValidity: 7 }));
    expect(updated.UserPoolClient).toMatchObject({ ClientName: 'backend', ClientSecret: app.ClientSecret, RefreshTokenValidity: 7 });
    expect(updated.UserPoolClient!.AllowedOAuthScopes).toBeUndefined();
    expect(updated.UserPoolClient!.AllowedOAuthFlows).toBeUndefined();

    await client.send(new DeleteUserPoolClientCommand({ UserPoolId: poolId, ClientId: app.ClientId }));
    const gone = await caught(client.send(new DescribeUserPoolClientCommand({ UserPoolId: poolId, ClientId: app.ClientId })));
    expect(gone).toMatchObject({ name: 'ResourceNotFoundException', message: `User pool client ${app.ClientId} does not exist.` });
  });

  it('answers in AWS JSON 1.1: 200 with a request id, errors with __type, x-amzn-errortype and the status', async () => {
    const poolId = await newPool();
    const ok = await rawCall(emulator, 'CreateResourceServer', { UserPoolId: poolId, Identifier: 'raw', Name: 'raw' });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toBe('application/x-amz-json-1.1');
    expect(ok.headers.get('x-amzn-requestid')).toMatch(UUID);
    expect(ok.body).toEqual({ ResourceServer: { UserPoolId: poolId, Identifier: 'raw', Name: 'raw', Scopes: [] } });

    const deleted = await rawCall(emulator, 'DeleteResourceServer', { UserPoolId: poolId, Identifier: 'raw' });
    expect(deleted).toMatchObject({ status: 200, body: {} });

    const missing = await rawCall(emulator, 'DeleteResourceServer', { UserPoolId: poolId, Identifier: 'raw' });
    expect(missing.status).toBe(400);
    expect(missing.headers.get('x-amzn-errortype')).toBe('ResourceNotFoundException');
    expect(missing.headers.get('x-amzn-requestid')).toMatch(UUID);
    expect(missing.body.__type).toBe('ResourceNotFoundException');
    expect(missing.body.message).toEqual(expect.stringContaining('raw'));

    // Each response has its own request id.
    const again = await rawCall(emulator, 'DeleteResourceServer', { UserPoolId: poolId, Identifier: 'raw' });
    expect(again.headers.get('x-amzn-requestid')).not.toBe(missing.headers.get('x-amzn-requestid'));
  });
});

/**
 * Cognito's model rules and the protocol errors: every constraint at least
 * once, with the error type, status and AWS-style message the SDK surfaces.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  CreateResourceServerCommand,
  CreateUserPoolClientCommand,
  CreateUserPoolCommand,
  DeleteResourceServerCommand,
  DescribeResourceServerCommand,
  DescribeUserPoolClientCommand,
  DescribeUserPoolCommand,
  ListResourceServersCommand,
  ListUserPoolsCommand,
  UpdateResourceServerCommand,
  UpdateUserPoolClientCommand,
  type CognitoIdentityProviderClient,
} from '@aws-sdk/client-cognito-identity-provider';
import { OPERATION_NAMES, startEmulator, type RunningEmulator } from '../../emulator';
import { caught, rawCall, sdkClient } from './helpers';

const scope = (name: string, description = `about ${name}`) => ({ ScopeName: name, ScopeDescription: description });

describe('emulator model rules and protocol errors', () => {
  let emulator: RunningEmulator;
  let client: CognitoIdentityProviderClient;
  let poolId: string;

  beforeAll(async () => {
    emulator = await startEmulator({ port: 0, quotas: false });
    client = sdkClient(emulator, { maxAttempts: 1 });
  });
  afterAll(async () => {
    client?.destroy();
    await emulator?.close();
  });
  beforeEach(async () => {
    await emulator.control.reset();
    await emulator.control.setConfig({ maxResourceServersPerPool: 25 });
    poolId = (await emulator.control.seed({ userPools: [{ name: 'rules' }] })).userPools[0]!.id;
  });

  const create = (input: { Identifier: string; Name?: string; Scopes?: { ScopeName: string; ScopeDescription: string }[]; UserPoolId?: string }) =>
    client.send(new CreateResourceServerCommand({ UserPoolId: poolId, Name: 'name', ...input }));

  it('checks the user pool id pattern and length', async () => {
    const badPattern = await caught(client.send(new DescribeResourceServerCommand({ UserPoolId: 'no-underscore', Identifier: 'x' })));
    expect(badPattern).toMatchObject({ name: 'InvalidParameterException', status: 400, attempts: 1 });
    expect(badPattern.message).toBe(
      "1 validation error detected: Value 'no-underscore' at 'userPoolId' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w-]+_[0-9a-zA-Z]+",
    );
    const tooLong = await caught(client.send(new DescribeUserPoolCommand({ UserPoolId: `us-east-1_${'a'.repeat(46)}` })));
    expect(tooLong.message).toContain("at 'userPoolId' failed to satisfy constraint: Member must have length less than or equal to 55");
  });

  it('checks identifiers: printable ASCII without space, quote or backslash, 1-256 characters', async () => {
    for (const identifier of ['has space', 'has"quote', 'back\\slash', 'tab\there']) {
      const error = await caught(create({ Identifier: identifier }));
      expect(error.name).toBe('InvalidParameterException');
      expect(error.message).toBe(
        `1 validation error detected: Value '${identifier}' at 'identifier' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\x21\\x23-\\x5B\\x5D-\\x7E]+`,
      );
    }
    expect((await caught(create({ Identifier: 'x'.repeat(257) }))).message).toContain('Member must have length less than or equal to 256');
    expect((await caught(create({ Identifier: '' }))).message).toContain("Value '' at 'identifier' failed to satisfy constraint: Member must have length greater than or equal to 1");
    // URLs and the full printable range are fine, up to exactly 256 characters.
    await create({ Identifier: 'https://api.example.com/v1?x=1&y=[2]' });
    await create({ Identifier: 'y'.repeat(256) });
  });

  it('checks resource server names and reports every violation at once', async () => {
    expect((await caught(create({ Identifier: 'a', Name: 'slash/name' }))).message).toContain(
      "Value 'slash/name' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w\\s+=,.@-]+",
    );
    expect((await caught(create({ Identifier: 'a', Name: 'n'.repeat(257) }))).message).toContain("at 'name' failed to satisfy constraint: Member must have length less than or equal to 256");
    const several = await caught(create({ Identifier: 'bad id', Name: 'bad/name' }));
    expect(several.message).toMatch(/^2 validation errors detected: Value 'bad id' at 'identifier' .*; Value 'bad\/name' at 'name' /);
    await create({ Identifier: 'ok', Name: 'Orders API, v2 (test)'.replace(/[()]/g, '') });
  });

  it('checks scope names (no slash) and descriptions, 1-256 characters each', async () => {
    const slash = await caught(create({ Identifier: 'a', Scopes: [scope('a/b')] }));
    expect(slash.message).toContain(
      "Value 'a/b' at 'scopes.1.member.scopeName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\x21\\x23-\\x2E\\x30-\\x5B\\x5D-\\x7E]+",
    );
    const second = await caught(create({ Identifier: 'a', Scopes: [scope('ok'), scope('s'.repeat(257))] }));
    expect(second.message).toContain("at 'scopes.2.member.scopeName' failed to satisfy constraint: Member must have length less than or equal to 256");
    const description = await caught(create({ Identifier: 'a', Scopes: [scope('ok', '')] }));
    expect(description.message).toContain("Value '' at 'scopes.1.member.scopeDescription' failed to satisfy constraint: Member must have length greater than or equal to 1");
    const longDescription = await caught(create({ Identifier: 'a', Scopes: [scope('ok', 'd'.repeat(257))] }));
    expect(longDescription.message).toContain("at 'scopes.1.member.scopeDescription' failed to satisfy constraint: Member must have length less than or equal to 256");
    const duplicate = await caught(create({ Identifier: 'a', Scopes: [scope('read'), scope('read')] }));
    expect(duplicate.name).toBe('InvalidParameterException');
    // Nothing was created by the failed calls.
    expect((await emulator.control.state()).userPools[0]!.resourceServers).toEqual([]);
  });

  it('allows 100 scopes per resource server and refuses 101', async () => {
    const hundred = Array.from({ length: 100 }, (_, i) => scope(`s${i}`));
    const created = await create({ Identifier: 'big', Scopes: hundred });
    expect(created.ResourceServer!.Scopes).toHaveLength(100);
    const tooMany = await caught(create({ Identifier: 'bigger', Scopes: [...hundred, scope('s100')] }));
    expect(tooMany.name).toBe('InvalidParameterException');
    expect(tooMany.message).toContain("at 'scopes' failed to satisfy constraint: Member must have length less than or equal to 100");
    const update = await caught(client.send(new UpdateResourceServerCommand({ UserPoolId: poolId, Identifier: 'big', Name: 'n', Scopes: [...hundred, scope('s100')] })));
    expect(update.message).toContain('Member must have length less than or equal to 100');
  });

  it('allows 25 resource servers per pool (LimitExceededException on the 26th), an adjustable quota', async () => {
    for (let i = 0; i < 25; i++) await create({ Identifier: `rs-${i}` });
    const limit = await caught(create({ Identifier: 'rs-25' }));
    expect(limit).toMatchObject({ name: 'LimitExceededException', status: 400 });
    expect((await emulator.control.state()).userPools[0]!.resourceServers).toHaveLength(25);

    await emulator.control.setConfig({ maxResourceServersPerPool: 26 });
    await create({ Identifier: 'rs-25' });
    expect((await caught(create({ Identifier: 'rs-26' }))).name).toBe('LimitExceededException');
    // The seed path enforces the same limit.
    await emulator.control.setConfig({ maxResourceServersPerPool: 2 });
    await expect(
      emulator.control.seed({ userPools: [{ name: 'x', resourceServers: [{ identifier: 'a', name: 'a' }, { identifier: 'b', name: 'b' }, { identifier: 'c', name: 'c' }] }] }),
    ).rejects.toThrow(/LimitExceededException/);
  });

  it('refuses a duplicate identifier in the same pool, but not in another pool', async () => {
    await create({ Identifier: 'https://api.example.com' });
    const duplicate = await caught(create({ Identifier: 'https://api.example.com', Name: 'other' }));
    expect(duplicate.name).toBe('InvalidParameterException');
    expect(duplicate.message).toContain('already exists');
    const other = (await emulator.control.seed({ userPools: [{ name: 'other' }] })).userPools[0]!.id;
    await create({ UserPoolId: other, Identifier: 'https://api.example.com' });
  });

  it('answers ResourceNotFoundException for a missing pool or resource server', async () => {
    const missingPool = await caught(create({ UserPoolId: 'us-east-1_ZZZZZZZZZ', Identifier: 'a' }));
    expect(missingPool).toMatchObject({ name: 'ResourceNotFoundException', status: 400, message: 'User pool us-east-1_ZZZZZZZZZ does not exist.' });
    for (const command of [
      new DescribeResourceServerCommand({ UserPoolId: poolId, Identifier: 'nope' }),
      new UpdateResourceServerCommand({ UserPoolId: poolId, Identifier: 'nope', Name: 'n' }),
      new DeleteResourceServerCommand({ UserPoolId: poolId, Identifier: 'nope' }),
    ]) {
      expect((await caught(client.send(command as DescribeResourceServerCommand))).name).toBe('ResourceNotFoundException');
    }
    expect((await caught(client.send(new ListResourceServersCommand({ UserPoolId: 'us-east-1_ZZZZZZZZZ' })))).name).toBe('ResourceNotFoundException');
  });

  it("requires a client's custom scopes to exist (ScopeDoesNotExistException), accepts standard scopes, at most 50", async () => {
    await create({ Identifier: 'https://api.example.com/v1', Scopes: [scope('read')] });
    const ok = await client.send(
      new CreateUserPoolClientCommand({
        UserPoolId: poolId,
        ClientName: 'app',
        AllowedOAuthScopes: ['https://api.example.com/v1/read', 'openid', 'email', 'phone', 'profile', 'aws.cognito.signin.user.admin'],
      }),
    );
    expect(ok.UserPoolClient!.AllowedOAuthScopes).toHaveLength(6);

    for (const missing of ['https://api.example.com/v1/write', 'https://api.example.com/v2/read', 'read', 'https://api.example.com/v1']) {
      const error = await caught(client.send(new CreateUserPoolClientCommand({ UserPoolId: poolId, ClientName: 'bad', AllowedOAuthScopes: [missing] })));
      expect(error).toMatchObject({ name: 'ScopeDoesNotExistException', status: 400, message: `Invalid scope requested: ${missing}` });
    }
    const update = await caught(
      client.send(new UpdateUserPoolClientCommand({ UserPoolId: poolId, ClientId: ok.UserPoolClient!.ClientId, AllowedOAuthScopes: ['https://api.example.com/v1/nope'] })),
    );
    expect(update.name).toBe('ScopeDoesNotExistException');

    const fiftyOne = Array.from({ length: 51 }, () => 'openid');
    const tooMany = await caught(client.send(new CreateUserPoolClientCommand({ UserPoolId: poolId, ClientName: 'many', AllowedOAuthScopes: fiftyOne })));
    expect(tooMany.name).toBe('InvalidParameterException');
    expect(tooMany.message).toContain("at 'allowedOAuthScopes' failed to satisfy constraint: Member must have length less than or equal to 50");
    // Only the one good client exists.
    expect((await emulator.control.state()).userPools[0]!.clients.map((c) => c.clientName)).toEqual(['app']);
  });

  it("leaves a deleted server's scopes dangling on clients, as Cognito does", async () => {
    await create({ Identifier: 'https://api.example.com', Scopes: [scope('read')] });
    const app = await client.send(new CreateUserPoolClientCommand({ UserPoolId: poolId, ClientName: 'app', AllowedOAuthScopes: ['https://api.example.com/read', 'openid'] }));
    const clientId = app.UserPoolClient!.ClientId!;

    await client.send(new DeleteResourceServerCommand({ UserPoolId: poolId, Identifier: 'https://api.example.com' }));
    const described = await client.send(new DescribeUserPoolClientCommand({ UserPoolId: poolId, ClientId: clientId }));
    expect(described.UserPoolClient!.AllowedOAuthScopes).toEqual(['https://api.example.com/read', 'openid']);
    const dumped = (await emulator.control.state()).userPools[0]!.clients[0]!;
    expect(dumped.allowedOAuthScopes).toEqual(['https://api.example.com/read', 'openid']);

    // Writing the dangling scope back is refused, dropping it works.
    const rewrite = await caught(client.send(new UpdateUserPoolClientCommand({ UserPoolId: poolId, ClientId: clientId, AllowedOAuthScopes: ['https://api.example.com/read'] })));
    expect(rewrite.name).toBe('ScopeDoesNotExistException');
    await client.send(new UpdateUserPoolClientCommand({ UserPoolId: poolId, ClientId: clientId, AllowedOAuthScopes: ['openid'] }));
  });

  it('refuses client_credentials without a client secret (InvalidOAuthFlowException)', async () => {
    const error = await caught(client.send(new CreateUserPoolClientCommand({ UserPoolId: poolId, ClientName: 'm2m', AllowedOAuthFlows: ['client_credentials'] })));
    expect(error).toMatchObject({ name: 'InvalidOAuthFlowException', status: 400 });
  });

  it('finds a pool only in its own Region', async () => {
    const eu = sdkClient(emulator, { region: 'eu-west-1', maxAttempts: 1 });
    try {
      const missing = await caught(eu.send(new DescribeUserPoolCommand({ UserPoolId: poolId })));
      expect(missing).toMatchObject({ name: 'ResourceNotFoundException', message: `User pool ${poolId} does not exist.` });
      expect((await caught(eu.send(new DescribeResourceServerCommand({ UserPoolId: poolId, Identifier: 'x' })))).name).toBe('ResourceNotFoundException');
      expect((await eu.send(new ListUserPoolsCommand({ MaxResults: 60 }))).UserPools).toEqual([]);

      const euPool = await eu.send(new CreateUserPoolCommand({ PoolName: 'europe' }));
      expect(euPool.UserPool!.Id).toMatch(/^eu-west-1_[0-9a-zA-Z]{9}$/);
      expect(euPool.UserPool!.Arn).toContain(':eu-west-1:');
      expect((await caught(client.send(new DescribeUserPoolCommand({ UserPoolId: euPool.UserPool!.Id })))).name).toBe('ResourceNotFoundException');
      expect((await client.send(new ListUserPoolsCommand({ MaxResults: 60 }))).UserPools!.map((p) => p.Id)).toEqual([poolId]);
    } finally {
      eu.destroy();
    }
  });

  it('checks MaxResults ranges, required MaxResults of ListUserPools and page tokens', async () => {
    expect((await caught(client.send(new ListResourceServersCommand({ UserPoolId: poolId, MaxResults: 51 })))).message).toContain(
      "Value '51' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 50",
    );
    expect((await caught(client.send(new ListResourceServersCommand({ UserPoolId: poolId, MaxResults: 0 })))).message).toContain(
      'Member must have value greater than or equal to 1',
    );
    expect((await caught(client.send(new ListUserPoolsCommand({ MaxResults: 61 })))).name).toBe('InvalidParameterException');
    const missing = await caught(client.send(new ListUserPoolsCommand({} as { MaxResults: number })));
    expect(missing.message).toBe("1 validation error detected: Value null at 'maxResults' failed to satisfy constraint: Member must not be null");
    expect((await caught(client.send(new ListResourceServersCommand({ UserPoolId: poolId, NextToken: 'forged' })))).name).toBe('InvalidParameterException');
  });

  it('answers a missing required member with "Member must not be null"', async () => {
    const response = await rawCall(emulator, 'DeleteResourceServer', { Identifier: 'x' });
    expect(response.status).toBe(400);
    expect(response.body).toEqual({
      __type: 'InvalidParameterException',
      message: "1 validation error detected: Value null at 'userPoolId' failed to satisfy constraint: Member must not be null",
    });
    const both = await rawCall(emulator, 'CreateResourceServer', {});
    expect(both.body.message).toMatch(/^3 validation errors detected: Value null at 'userPoolId' .*; Value null at 'identifier' .*; Value null at 'name' /);
    // A JSON null counts as absent.
    expect((await rawCall(emulator, 'DescribeUserPool', { UserPoolId: null })).body.message).toContain("Value null at 'userPoolId'");
  });

  it('answers SerializationException for malformed JSON and for wrong JSON types', async () => {
    const malformed = await rawCall(emulator, 'DescribeUserPool', '{"UserPoolId": ');
    expect(malformed.status).toBe(400);
    expect(malformed.headers.get('x-amzn-errortype')).toBe('SerializationException');
    expect(malformed.body.__type).toBe('SerializationException');

    const cases: [string, unknown][] = [
      ['DescribeResourceServer', { UserPoolId: poolId, Identifier: 5 }],
      ['CreateResourceServer', { UserPoolId: poolId, Identifier: 'a', Name: 'a', Scopes: 'read' }],
      ['CreateResourceServer', { UserPoolId: poolId, Identifier: 'a', Name: 'a', Scopes: [{ ScopeName: ['x'], ScopeDescription: 'd' }] }],
      ['ListResourceServers', { UserPoolId: poolId, MaxResults: '10' }],
      ['ListResourceServers', { UserPoolId: poolId, MaxResults: 1.5 }],
      ['CreateUserPoolClient', { UserPoolId: poolId, ClientName: 'c', GenerateSecret: 'yes' }],
      ['DescribeUserPool', { UserPoolId: { id: poolId } }],
      ['DescribeUserPool', [poolId]],
      ['DescribeUserPool', '"just a string"'],
    ];
    for (const [operation, body] of cases) {
      const response = await rawCall(emulator, operation, typeof body === 'string' ? body : JSON.stringify(body));
      expect(response.status, `${operation} ${JSON.stringify(body)}`).toBe(400);
      expect(response.body.__type, `${operation} ${JSON.stringify(body)}`).toBe('SerializationException');
    }
    expect((await emulator.control.state()).userPools[0]!.resourceServers).toEqual([]);
  });

  it('answers an oversized body with 413 and keeps serving', async () => {
    const huge = JSON.stringify({ UserPoolId: poolId, Identifier: 'big', Name: 'n'.repeat(1024 * 1024 + 10) });
    const response = await rawCall(emulator, 'CreateResourceServer', huge);
    expect(response.status).toBe(413);
    expect(response.body.__type).toBe('RequestEntityTooLargeException');

    const viaSdk = await caught(create({ Identifier: 'big', Name: 'n'.repeat(2 * 1024 * 1024) }));
    expect(viaSdk).toMatchObject({ name: 'RequestEntityTooLargeException', status: 413 });
    expect((await create({ Identifier: 'small' })).ResourceServer!.Identifier).toBe('small');
  });

  it('answers UnknownOperationException for other operations, a missing target or another method', async () => {
    const unknown = await rawCall(emulator, 'AdminCreateUser', { UserPoolId: poolId, Username: 'u' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.__type).toBe('UnknownOperationException');
    expect(unknown.headers.get('x-amzn-errortype')).toBe('UnknownOperationException');
    expect((await rawCall(emulator, 'DescribeUserPool', { UserPoolId: poolId }, { 'x-amz-target': null })).body.__type).toBe('UnknownOperationException');
    expect((await rawCall(emulator, 'DescribeUserPool', { UserPoolId: poolId }, { 'x-amz-target': 'DynamoDB_20120810.DescribeUserPool' })).body.__type).toBe(
      'UnknownOperationException',
    );
    const get = await fetch(emulator.url, { method: 'GET' });
    expect(get.status).toBe(400);
    expect(((await get.json()) as { __type: string }).__type).toBe('UnknownOperationException');
  });

  it('never fails with a 500 on junk input of any JSON type in any member', async () => {
    const junk: unknown[] = [null, true, 0, -1, 1.5, 1e308, '', ' ', 'x'.repeat(300), '\u0000', '😀', [], [null], [1, 'a'], {}, { a: 1 }, { __proto__: 1 }, [[[[[[]]]]]]];
    const members = ['UserPoolId', 'Identifier', 'Name', 'Scopes', 'MaxResults', 'NextToken', 'ClientId', 'ClientName', 'AllowedOAuthScopes', 'PoolName', 'UserPoolTags'];
    let calls = 0;
    for (const operation of OPERATION_NAMES) {
      for (const member of members) {
        for (const value of junk) {
          const body = `{"UserPoolId": ${JSON.stringify(poolId)}, ${JSON.stringify(member)}: ${JSON.stringify(value) ?? 'null'}}`;
          const response = await rawCall(emulator, operation, body);
          calls++;
          expect(response.status, `${operation} ${body}`).toBeLessThan(500);
          expect(typeof (response.body.__type ?? 'ok')).toBe('string');
        }
      }
    }
    const stats = await emulator.control.stats();
    const internal = Object.values(stats.operations).reduce((n, outcomes) => n + (outcomes.InternalErrorException ?? 0), 0);
    expect(internal).toBe(0);
    expect(calls).toBeGreaterThan(1000);
  });
});

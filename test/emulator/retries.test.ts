/**
 * The SDK's standard retry strategy against the emulator's errors, matching
 * the table in the shared README. Attempts are read from `$metadata.attempts`
 * and cross-checked with the emulator's own counts.
 *
 * Note LimitExceededException: a hard quota in Cognito, yet the SDK retries it
 * as throttling. The cleanup job must not retry it (see docs/emulator.md).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  CreateResourceServerCommand,
  DeleteResourceServerCommand,
  DescribeResourceServerCommand,
  type CognitoIdentityProviderClient,
} from '@aws-sdk/client-cognito-identity-provider';
import { startEmulator, type RunningEmulator } from '../../emulator';
import { caught, sdkClient } from './helpers';

describe('SDK retry behaviour against the emulator', () => {
  let emulator: RunningEmulator;
  let client: CognitoIdentityProviderClient;
  let poolId: string;

  beforeAll(async () => {
    emulator = await startEmulator({ port: 0, quotas: false });
    client = sdkClient(emulator, { maxAttempts: 3 });
  });
  afterAll(async () => {
    client?.destroy();
    await emulator?.close();
  });
  beforeEach(async () => {
    await emulator.control.reset();
    await emulator.control.setConfig({ faults: { failNext: [] }, maxResourceServersPerPool: 25 });
    poolId = (await emulator.control.seed({ userPools: [{ name: 'retries', resourceServers: [{ identifier: 'api', name: 'api' }] }] })).userPools[0]!.id;
  });

  const failNext = (operation: string, error: 'TooManyRequestsException' | 'InternalErrorException' | 'LimitExceededException' | 'NotAuthorizedException') =>
    emulator.control.setConfig({ faults: { failNext: [{ operation, count: 1, error }] } });

  it('retries TooManyRequestsException (throttling)', async () => {
    await failNext('DescribeResourceServer', 'TooManyRequestsException');
    const result = await client.send(new DescribeResourceServerCommand({ UserPoolId: poolId, Identifier: 'api' }));
    expect(result.$metadata.attempts).toBe(2);
    expect((await emulator.control.stats()).operations.DescribeResourceServer).toEqual({ TooManyRequestsException: 1, ok: 1 });
  });

  it('retries a 500 InternalErrorException (transient)', async () => {
    await failNext('DeleteResourceServer', 'InternalErrorException');
    const result = await client.send(new DeleteResourceServerCommand({ UserPoolId: poolId, Identifier: 'api' }));
    expect(result.$metadata.attempts).toBe(2);
    expect((await emulator.control.stats()).operations.DeleteResourceServer).toEqual({ InternalErrorException: 1, ok: 1 });
  });

  it('does not retry ResourceNotFound, InvalidParameter or NotAuthorized (400)', async () => {
    const notFound = await caught(client.send(new DeleteResourceServerCommand({ UserPoolId: poolId, Identifier: 'missing' })));
    expect(notFound).toMatchObject({ name: 'ResourceNotFoundException', attempts: 1 });
    const invalid = await caught(client.send(new DeleteResourceServerCommand({ UserPoolId: poolId, Identifier: 'has space' })));
    expect(invalid).toMatchObject({ name: 'InvalidParameterException', attempts: 1 });
    await failNext('DeleteResourceServer', 'NotAuthorizedException');
    const notAuthorized = await caught(client.send(new DeleteResourceServerCommand({ UserPoolId: poolId, Identifier: 'api' })));
    expect(notAuthorized).toMatchObject({ name: 'NotAuthorizedException', attempts: 1, status: 400 });
    expect((await emulator.control.stats()).operations.DeleteResourceServer).toEqual({ ResourceNotFoundException: 1, InvalidParameterException: 1, NotAuthorizedException: 1 });
  });

  it('retries LimitExceededException as throttling, although the limit is hard: callers must turn that off', async () => {
    await emulator.control.setConfig({ maxResourceServersPerPool: 1 });
    const error = await caught(client.send(new CreateResourceServerCommand({ UserPoolId: poolId, Identifier: 'second', Name: 'n' })));
    expect(error).toMatchObject({ name: 'LimitExceededException', attempts: 3 });
    expect((await emulator.control.stats()).operations.CreateResourceServer).toEqual({ LimitExceededException: 3 });

    const once = sdkClient(emulator, { maxAttempts: 1 });
    try {
      expect(await caught(once.send(new CreateResourceServerCommand({ UserPoolId: poolId, Identifier: 'second', Name: 'n' })))).toMatchObject({
        name: 'LimitExceededException',
        attempts: 1,
      });
    } finally {
      once.destroy();
    }
  });
});

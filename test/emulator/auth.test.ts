/**
 * SigV4 header checks, unknown keys, optional signature verification and
 * per-key deny policies.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  DeleteResourceServerCommand,
  DescribeResourceServerCommand,
  ListResourceServersCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { DEFAULT_TEST_CREDENTIALS, startEmulator, type RunningEmulator } from '../../emulator';
import { amzDate, authorizationHeader, caught, rawCall, sdkClient } from './helpers';

const DENIED = { accessKeyId: 'AKIAEMULATORDENIED01', secretAccessKey: 'denied-secret', userName: 'cleanup-bot' };

describe('emulator authentication and authorization', () => {
  let emulator: RunningEmulator;
  let poolId: string;

  beforeAll(async () => {
    emulator = await startEmulator({
      port: 0,
      quotas: false,
      credentials: [DEFAULT_TEST_CREDENTIALS, DENIED],
      policies: { [DENIED.accessKeyId]: { deny: ['DeleteResourceServer'] } },
    });
  });
  afterAll(async () => {
    await emulator?.close();
  });
  beforeEach(async () => {
    await emulator.control.reset();
    await emulator.control.setConfig({ policies: { [DENIED.accessKeyId]: { deny: ['DeleteResourceServer'] } }, verifySignatures: false });
    poolId = (await emulator.control.seed({ userPools: [{ name: 'auth', resourceServers: [{ identifier: 'api', name: 'api' }] }] })).userPools[0]!.id;
  });

  const describeApi = (headers: Record<string, string | null>) => rawCall(emulator, 'DescribeResourceServer', { UserPoolId: poolId, Identifier: 'api' }, headers);

  it('accepts a well-formed header without checking the signature by default', async () => {
    expect((await describeApi({})).status).toBe(200);
  });

  it('answers UnrecognizedClientException to an unsigned request or an unknown access key', async () => {
    const unsigned = await describeApi({ authorization: null });
    expect(unsigned).toMatchObject({ status: 400, body: { __type: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.' } });

    const stranger = sdkClient(emulator, { credentials: { accessKeyId: 'AKIANOTKNOWN00000000', secretAccessKey: 'x' } });
    try {
      const error = await caught(stranger.send(new DescribeResourceServerCommand({ UserPoolId: poolId, Identifier: 'api' })));
      // A 400 the SDK does not retry, even with its default 3 attempts.
      expect(error).toMatchObject({ name: 'UnrecognizedClientException', status: 400, attempts: 1 });
    } finally {
      stranger.destroy();
    }
  });

  it('answers IncompleteSignatureException to a malformed Authorization header', async () => {
    const date = amzDate().slice(0, 8);
    const malformed = [
      'Basic dXNlcjpwYXNz',
      `AWS4-HMAC-SHA256 Credential=${DEFAULT_TEST_CREDENTIALS.accessKeyId}/${date}/us-east-1/cognito-idp/aws4_request`,
      `AWS4-HMAC-SHA256 Credential=${DEFAULT_TEST_CREDENTIALS.accessKeyId}/${date}/us-east-1/aws4_request, SignedHeaders=host;x-amz-date, Signature=${'a'.repeat(64)}`,
      `AWS4-HMAC-SHA256 Credential=${DEFAULT_TEST_CREDENTIALS.accessKeyId}/${date}/us-east-1/cognito-idp/aws4_request, SignedHeaders=x-amz-date, Signature=${'a'.repeat(64)}`,
      `AWS4-HMAC-SHA256 Credential=${DEFAULT_TEST_CREDENTIALS.accessKeyId}/${date}/us-east-1/cognito-idp/aws4_request, SignedHeaders=host;x-amz-date, Signature=not-hex`,
      `AWS4-HMAC-SHA256 Credential=${DEFAULT_TEST_CREDENTIALS.accessKeyId}/${date}/us-east-1/cognito-idp/aws4_request SignedHeaders=host Signature=${'a'.repeat(64)}`,
    ];
    for (const authorization of malformed) {
      const response = await describeApi({ authorization });
      expect(response.status, authorization).toBe(400);
      expect(response.body.__type, authorization).toBe('IncompleteSignatureException');
    }
    const noDate = await describeApi({ 'x-amz-date': null });
    expect(noDate.body.__type).toBe('IncompleteSignatureException');
    expect(noDate.body.message).toContain("'X-Amz-Date'");
  });

  it('answers InvalidSignatureException for another service, a mismatched date or an expired signature', async () => {
    const otherService = await describeApi({ authorization: authorizationHeader({ service: 'dynamodb' }) });
    expect(otherService.body).toMatchObject({ __type: 'InvalidSignatureException', message: expect.stringContaining("'cognito-idp'") });
    const wrongDay = await describeApi({ authorization: authorizationHeader({ date: '20200101' }) });
    expect(wrongDay.body.__type).toBe('InvalidSignatureException');
    const old = Date.now() - 20 * 60 * 1000;
    const expired = await describeApi({ 'x-amz-date': amzDate(old), authorization: authorizationHeader({ date: amzDate(old).slice(0, 8) }) });
    expect(expired.body).toMatchObject({ __type: 'InvalidSignatureException', message: expect.stringContaining('Signature expired') });
  });

  it('checks signatures cryptographically when verifySignatures is on', async () => {
    await emulator.control.setConfig({ verifySignatures: true });
    const good = sdkClient(emulator);
    const wrongSecret = sdkClient(emulator, { maxAttempts: 1, credentials: { ...DEFAULT_TEST_CREDENTIALS, secretAccessKey: 'not-the-secret' } });
    try {
      const listed = await good.send(new ListResourceServersCommand({ UserPoolId: poolId, MaxResults: 5 }));
      expect(listed.ResourceServers).toHaveLength(1);
      const error = await caught(wrongSecret.send(new ListResourceServersCommand({ UserPoolId: poolId, MaxResults: 5 })));
      expect(error).toMatchObject({ name: 'InvalidSignatureException', status: 400 });
      expect(error.message).toContain('does not match the signature you provided');
      expect((await describeApi({})).body.__type).toBe('InvalidSignatureException');
    } finally {
      good.destroy();
      wrongSecret.destroy();
    }
  });

  it("denies what a key's policy denies (AccessDeniedException) and changes nothing", async () => {
    const denied = sdkClient(emulator, { credentials: DENIED });
    try {
      const error = await caught(denied.send(new DeleteResourceServerCommand({ UserPoolId: poolId, Identifier: 'api' })));
      expect(error).toMatchObject({ name: 'AccessDeniedException', status: 400, attempts: 1 });
      expect(error.message).toBe(
        `User: arn:aws:iam::000000000000:user/cleanup-bot is not authorized to perform: cognito-idp:DeleteResourceServer on resource: arn:aws:cognito-idp:us-east-1:000000000000:userpool/${poolId} with an explicit deny in an identity-based policy`,
      );
      expect((await emulator.control.state()).userPools[0]!.resourceServers).toHaveLength(1);
      // Other operations stay allowed.
      await denied.send(new DescribeResourceServerCommand({ UserPoolId: poolId, Identifier: 'api' }));

      // Policies change at run time; '*' denies everything.
      await emulator.control.setConfig({ policies: { [DENIED.accessKeyId]: { deny: ['*'] } } });
      expect((await caught(denied.send(new DescribeResourceServerCommand({ UserPoolId: poolId, Identifier: 'api' })))).name).toBe('AccessDeniedException');
      await emulator.control.setConfig({ policies: {} });
      await denied.send(new DeleteResourceServerCommand({ UserPoolId: poolId, Identifier: 'api' }));
      expect((await emulator.control.state()).userPools[0]!.resourceServers).toHaveLength(0);
    } finally {
      denied.destroy();
    }
    // The default key was never denied, and refused calls were not counted by the quotas.
    const stats = await emulator.control.stats();
    expect(stats.operations.DeleteResourceServer).toEqual({ AccessDeniedException: 1, ok: 1 });
    const acceptedDeletes = stats.accepted.perSecond.reduce((n, s) => n + (s.pools[poolId]?.DeleteResourceServer ?? 0), 0);
    expect(acceptedDeletes).toBe(1);
  });
});

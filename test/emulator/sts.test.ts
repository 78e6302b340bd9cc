/**
 * STS AssumeRole in the AWS Query protocol, through the unmodified
 * @aws-sdk/client-sts and fromTemporaryCredentials: trust, external IDs,
 * temporary credentials of the role's account (session token checked, expiry
 * on the emulator's clock), errors in STS's XML, and the calls counted.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import {
  CognitoIdentityProviderClient,
  DeleteResourceServerCommand,
  DescribeUserPoolCommand,
  ListResourceServersCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { DEFAULT_ACCOUNT_ID, DEFAULT_TEST_CREDENTIALS, startEmulator, type RunningEmulator, type SeedRequest } from '../../emulator';
import { amzDate, authorizationHeader, caught, sdkClient } from './helpers';

const TARGET_ACCOUNT = '222222222222';
const ROLE = `arn:aws:iam::${TARGET_ACCOUNT}:role/rs-cleanup`;
const OPEN_ROLE = `arn:aws:iam::${TARGET_ACCOUNT}:role/ops/open`;
const EXTERNAL_ID = 'rs-cleanup-ext-1';
const stsAuthorization = () => authorizationHeader({ service: 'sts', signedHeaders: 'content-type;host;x-amz-date' });
const STRANGER = { accessKeyId: 'AKIASTRANGER00000001', secretAccessKey: 'stranger-secret', accountId: '444444444444', userName: 'stranger' };

const SEED: SeedRequest = {
  credentials: [STRANGER],
  roles: [
    { arn: ROLE, trustedAccounts: [DEFAULT_ACCOUNT_ID], externalId: EXTERNAL_ID, maxSessionDuration: 7200 },
    { arn: OPEN_ROLE },
  ],
  userPools: [
    {
      id: 'us-east-1_Target1',
      name: 'target',
      accountId: TARGET_ACCOUNT,
      resourceServers: [
        { identifier: 'https://api.example.com/t1', name: 't1' },
        { identifier: 'https://api.example.com/t2', name: 't2' },
      ],
    },
    { id: 'us-east-1_Central1', name: 'central' },
  ],
};

describe('STS AssumeRole', () => {
  let emulator: RunningEmulator;
  let sts: STSClient;

  beforeAll(async () => {
    // Signatures checked: the SDK's SigV4, with X-Amz-Security-Token for sessions, must verify.
    emulator = await startEmulator({ port: 0, quotas: false, verifySignatures: true });
    sts = new STSClient({ region: 'us-east-1', endpoint: emulator.url, credentials: { ...DEFAULT_TEST_CREDENTIALS }, maxAttempts: 1 });
  });
  afterAll(async () => {
    sts?.destroy();
    await emulator?.close();
  });
  beforeEach(async () => {
    await emulator.control.reset();
    await emulator.control.seed(SEED);
  });

  it('returns temporary credentials of the role account that work with Cognito there, until they expire on the emulator clock', async () => {
    const before = (await emulator.control.clock()).nowMs;
    const assumed = await sts.send(new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: 'cleanup-1', ExternalId: EXTERNAL_ID, DurationSeconds: 900 }));
    const after = (await emulator.control.clock()).nowMs;

    const credentials = assumed.Credentials!;
    expect(credentials.AccessKeyId).toMatch(/^ASIA[A-Z0-9]{16}$/);
    expect(credentials.SecretAccessKey).toHaveLength(40);
    expect(credentials.SessionToken!.length).toBeGreaterThan(100);
    expect(credentials.Expiration!.getTime()).toBeGreaterThan(before + 899_000);
    expect(credentials.Expiration!.getTime()).toBeLessThanOrEqual(after + 900_000);
    expect(assumed.AssumedRoleUser).toEqual({ AssumedRoleId: expect.stringMatching(/^AROA[A-Z2-7]{17}:cleanup-1$/), Arn: `arn:aws:sts::${TARGET_ACCOUNT}:assumed-role/rs-cleanup/cleanup-1` });

    const session = { accessKeyId: credentials.AccessKeyId!, secretAccessKey: credentials.SecretAccessKey!, sessionToken: credentials.SessionToken! };
    const cognito = sdkClient(emulator, { maxAttempts: 1, credentials: session });
    const withoutToken = sdkClient(emulator, { maxAttempts: 1, credentials: { accessKeyId: session.accessKeyId, secretAccessKey: session.secretAccessKey } });
    const wrongToken = sdkClient(emulator, { maxAttempts: 1, credentials: { ...session, sessionToken: `${session.sessionToken}x` } });
    try {
      const pool = await cognito.send(new DescribeUserPoolCommand({ UserPoolId: 'us-east-1_Target1' }));
      expect(pool.UserPool!.Arn).toBe(`arn:aws:cognito-idp:us-east-1:${TARGET_ACCOUNT}:userpool/us-east-1_Target1`);
      expect((await cognito.send(new ListResourceServersCommand({ UserPoolId: 'us-east-1_Target1' }))).ResourceServers).toHaveLength(2);
      // The central account's pool is not in the role's account.
      expect(await caught(cognito.send(new DescribeUserPoolCommand({ UserPoolId: 'us-east-1_Central1' })))).toMatchObject({
        name: 'ResourceNotFoundException',
        message: 'User pool us-east-1_Central1 does not exist.',
      });
      for (const client of [withoutToken, wrongToken]) {
        expect(await caught(client.send(new DescribeUserPoolCommand({ UserPoolId: 'us-east-1_Target1' })))).toMatchObject({
          name: 'UnrecognizedClientException',
          message: 'The security token included in the request is invalid.',
        });
      }

      // Well inside the 900 s (real seconds pass too, however slow the machine), then past them.
      await emulator.control.advanceClock(600);
      await cognito.send(new DescribeUserPoolCommand({ UserPoolId: 'us-east-1_Target1' }));
      await emulator.control.advanceClock(301);
      expect(await caught(cognito.send(new DescribeUserPoolCommand({ UserPoolId: 'us-east-1_Target1' })))).toMatchObject({
        name: 'ExpiredTokenException',
        message: 'The security token included in the request is expired',
        status: 400,
      });
      // An expired session cannot assume a role either.
      const expiredSts = new STSClient({ region: 'us-east-1', endpoint: emulator.url, credentials: session, maxAttempts: 1 });
      try {
        expect(await caught(expiredSts.send(new AssumeRoleCommand({ RoleArn: OPEN_ROLE, RoleSessionName: 'chained' })))).toMatchObject({ name: 'ExpiredToken', status: 400 });
      } finally {
        expiredSts.destroy();
      }
    } finally {
      for (const client of [cognito, withoutToken, wrongToken]) client.destroy();
    }
  });

  it('refuses an unknown role, an untrusted account and a missing or wrong external ID with AccessDenied naming the role', async () => {
    const stranger = new STSClient({ region: 'us-east-1', endpoint: emulator.url, credentials: { ...STRANGER }, maxAttempts: 1 });
    const denied = (roleArn: string, principal: string) => ({
      name: 'AccessDenied',
      status: 403,
      message: `User: ${principal} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`,
    });
    const central = `arn:aws:iam::${DEFAULT_ACCOUNT_ID}:user/${DEFAULT_TEST_CREDENTIALS.accessKeyId}`;
    try {
      const unknown = `arn:aws:iam::${TARGET_ACCOUNT}:role/nobody`;
      expect(await caught(sts.send(new AssumeRoleCommand({ RoleArn: unknown, RoleSessionName: 'session-1' })))).toMatchObject(denied(unknown, central));
      expect(await caught(stranger.send(new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: 'session-1', ExternalId: EXTERNAL_ID })))).toMatchObject(
        denied(ROLE, `arn:aws:iam::444444444444:user/stranger`),
      );
      expect(await caught(sts.send(new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: 'session-1' })))).toMatchObject(denied(ROLE, central));
      expect(await caught(sts.send(new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: 'session-1', ExternalId: 'wrong-id' })))).toMatchObject(denied(ROLE, central));
      // Without trustedAccounts a role trusts the default account and its own, not others.
      expect(await caught(stranger.send(new AssumeRoleCommand({ RoleArn: OPEN_ROLE, RoleSessionName: 'session-1' })))).toMatchObject(
        denied(OPEN_ROLE, `arn:aws:iam::444444444444:user/stranger`),
      );
      await sts.send(new AssumeRoleCommand({ RoleArn: OPEN_ROLE, RoleSessionName: 'session-1', ExternalId: 'not-required' }));

      expect(await caught(sts.send(new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: 'session-1', ExternalId: EXTERNAL_ID, DurationSeconds: 7201 })))).toMatchObject({
        name: 'ValidationError',
        message: 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.',
      });
      expect(await caught(sts.send(new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: 'x', ExternalId: EXTERNAL_ID, DurationSeconds: 60 })))).toMatchObject({
        name: 'ValidationError',
        status: 400,
        message:
          "2 validation errors detected: Value 'x' at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 2; Value '60' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900",
      });
    } finally {
      stranger.destroy();
    }
    const stats = await emulator.control.stats();
    expect(stats.assumeRole).toEqual({
      [`arn:aws:iam::${TARGET_ACCOUNT}:role/nobody`]: { AccessDenied: 1 },
      [ROLE]: { AccessDenied: 3, ValidationError: 2 },
      [OPEN_ROLE]: { AccessDenied: 1, ok: 1 },
    });
    expect(stats.operations.AssumeRole).toEqual({ AccessDenied: 5, ValidationError: 2, ok: 1 });
  });

  it('works through fromTemporaryCredentials: the Cognito client deletes in the role account, and the delete log names it', async () => {
    const credentials = fromTemporaryCredentials({
      params: { RoleArn: ROLE, RoleSessionName: 'rs-cleanup-run', ExternalId: EXTERNAL_ID, DurationSeconds: 900 },
      masterCredentials: { ...DEFAULT_TEST_CREDENTIALS },
      clientConfig: { region: 'us-east-1', endpoint: emulator.url },
    });
    const cognito = new CognitoIdentityProviderClient({ region: 'us-east-1', endpoint: emulator.url, credentials, maxAttempts: 1 });
    try {
      await cognito.send(new DeleteResourceServerCommand({ UserPoolId: 'us-east-1_Target1', Identifier: 'https://api.example.com/t1' }));
      await cognito.send(new DeleteResourceServerCommand({ UserPoolId: 'us-east-1_Target1', Identifier: 'https://api.example.com/t2' }));
    } finally {
      cognito.destroy();
    }
    const stats = await emulator.control.stats();
    expect(stats.deletes.map((d) => [d.accountId, d.region, d.identifier])).toEqual([
      [TARGET_ACCOUNT, 'us-east-1', 'https://api.example.com/t1'],
      [TARGET_ACCOUNT, 'us-east-1', 'https://api.example.com/t2'],
    ]);
    // The provider caches its credentials: one AssumeRole for both calls.
    expect(stats.assumeRole).toEqual({ [ROLE]: { ok: 1 } });
    expect(stats.accepted.perSecond.reduce((n, s) => n + (s.accounts[TARGET_ACCOUNT]?.['us-east-1']?.UserPoolResourceUpdate ?? 0), 0)).toBe(2);
  });

  it("applies a policy keyed by the role's ARN to every session of the role, naming the session", async () => {
    await emulator.control.setConfig({ policies: { [OPEN_ROLE]: { deny: ['DeleteResourceServer'] } } });
    try {
      const assumed = await sts.send(new AssumeRoleCommand({ RoleArn: OPEN_ROLE, RoleSessionName: 'audit' }));
      const cognito = sdkClient(emulator, {
        maxAttempts: 1,
        credentials: { accessKeyId: assumed.Credentials!.AccessKeyId!, secretAccessKey: assumed.Credentials!.SecretAccessKey!, sessionToken: assumed.Credentials!.SessionToken! },
      });
      try {
        expect(await caught(cognito.send(new DeleteResourceServerCommand({ UserPoolId: 'us-east-1_Target1', Identifier: 'https://api.example.com/t1' })))).toMatchObject({
          name: 'AccessDeniedException',
          message: `User: arn:aws:sts::${TARGET_ACCOUNT}:assumed-role/open/audit is not authorized to perform: cognito-idp:DeleteResourceServer on resource: arn:aws:cognito-idp:us-east-1:${TARGET_ACCOUNT}:userpool/us-east-1_Target1 with an explicit deny in an identity-based policy`,
        });
      } finally {
        cognito.destroy();
      }
    } finally {
      await emulator.control.setConfig({ policies: {} });
    }
  });

  it('speaks the Query protocol: form body in, XML out, dispatched by the credential scope or the form content type', async () => {
    await emulator.control.setConfig({ verifySignatures: false });
    try {
      const post = (body: string, headers: Record<string, string>) =>
        fetch(emulator.url, { method: 'POST', headers: { 'x-amz-date': amzDate(), ...headers }, body }).then(async (r) => ({ status: r.status, type: r.headers.get('content-type'), text: await r.text() }));
      const form = `Action=AssumeRole&Version=2011-06-15&RoleArn=${encodeURIComponent(OPEN_ROLE)}&RoleSessionName=raw&DurationSeconds=900`;

      const ok = await post(form, { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8', authorization: stsAuthorization() });
      expect(ok.status).toBe(200);
      expect(ok.type).toBe('text/xml');
      expect(ok.text).toMatch(
        /^<AssumeRoleResponse xmlns="https:\/\/sts\.amazonaws\.com\/doc\/2011-06-15\/"><AssumeRoleResult><AssumedRoleUser><AssumedRoleId>AROA\w+:raw<\/AssumedRoleId><Arn>arn:aws:sts::222222222222:assumed-role\/open\/raw<\/Arn><\/AssumedRoleUser><Credentials><AccessKeyId>ASIA\w{16}<\/AccessKeyId><SecretAccessKey>[^<]{40}<\/SecretAccessKey><SessionToken>[^<]+<\/SessionToken><Expiration>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ<\/Expiration><\/Credentials><\/AssumeRoleResult><ResponseMetadata><RequestId>[0-9a-f-]{36}<\/RequestId><\/ResponseMetadata><\/AssumeRoleResponse>$/,
      );

      // The form content type alone routes to STS; the scope must then name sts.
      const wrongScope = await post(form, { 'content-type': 'application/x-www-form-urlencoded', authorization: authorizationHeader({ signedHeaders: 'content-type;host;x-amz-date' }) });
      expect(wrongScope.status).toBe(403);
      expect(wrongScope.text).toContain('<Code>SignatureDoesNotMatch</Code>');

      const denied = await post(form.replace('ops%2Fopen', 'nobody'), { 'content-type': 'application/x-www-form-urlencoded', authorization: stsAuthorization() });
      expect(denied.status).toBe(403);
      expect(denied.text).toMatch(
        /^<ErrorResponse xmlns="https:\/\/sts\.amazonaws\.com\/doc\/2011-06-15\/"><Error><Type>Sender<\/Type><Code>AccessDenied<\/Code><Message>User: arn:aws:iam::000000000000:user\/AKIAEMULATORTEST0001 is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::222222222222:role\/nobody<\/Message><\/Error><RequestId>[0-9a-f-]{36}<\/RequestId><\/ErrorResponse>$/,
      );

      const unknownAction = await post('Action=GetCallerIdentity&Version=2011-06-15', { 'content-type': 'application/x-www-form-urlencoded', authorization: stsAuthorization() });
      expect(unknownAction.status).toBe(400);
      expect(unknownAction.text).toContain('<Code>InvalidAction</Code><Message>Could not find operation GetCallerIdentity for version 2011-06-15</Message>');

      const unknownKey = await post(form, { 'content-type': 'application/x-www-form-urlencoded', authorization: authorizationHeader({ service: 'sts', accessKeyId: 'AKIANOBODY', signedHeaders: 'content-type;host;x-amz-date' }) });
      expect(unknownKey.status).toBe(403);
      expect(unknownKey.text).toContain('<Code>InvalidClientTokenId</Code>');

      // A Cognito call (X-Amz-Target) is never routed to STS.
      const cognito = await post('{}', { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AWSCognitoIdentityProviderService.ListUserPools', authorization: stsAuthorization() });
      expect(cognito.status).toBe(400);
      expect(JSON.parse(cognito.text).__type).toBe('InvalidSignatureException');
    } finally {
      await emulator.control.setConfig({ verifySignatures: true });
    }
  });

  it('keeps roles in the state dump and forgets them, and their sessions, on reset', async () => {
    const assumed = await sts.send(new AssumeRoleCommand({ RoleArn: OPEN_ROLE, RoleSessionName: 'before-reset' }));
    const dump = await emulator.control.state();
    expect(dump.roles).toEqual(SEED.roles);

    await emulator.control.reset();
    const session = { accessKeyId: assumed.Credentials!.AccessKeyId!, secretAccessKey: assumed.Credentials!.SecretAccessKey!, sessionToken: assumed.Credentials!.SessionToken! };
    const cognito = sdkClient(emulator, { maxAttempts: 1, credentials: session });
    try {
      expect(await caught(cognito.send(new DescribeUserPoolCommand({ UserPoolId: 'us-east-1_Target1' })))).toMatchObject({ name: 'UnrecognizedClientException' });
    } finally {
      cognito.destroy();
    }
    expect(await caught(sts.send(new AssumeRoleCommand({ RoleArn: OPEN_ROLE, RoleSessionName: 'after-reset' })))).toMatchObject({ name: 'AccessDenied' });
    await emulator.control.loadState(dump);
    await sts.send(new AssumeRoleCommand({ RoleArn: OPEN_ROLE, RoleSessionName: 'after-load' }));
  });
});

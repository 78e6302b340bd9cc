/**
 * Credentials per AWS account: the worker's own (the SDK's default chain), or
 * a role assumed in the item's account (`arn:aws:iam::{accountId}:role/...`)
 * with STS AssumeRole through the SDK's temporary-credentials provider.
 *
 * One cache entry per role and external ID, shared by every Region's client:
 * the role is assumed once, and again shortly before its credentials expire
 * (or when Cognito says they have: the caller invalidates them). A role that
 * cannot be assumed fails fast for a while instead of asking STS for every
 * item; its error names the role.
 */
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { ACCOUNT_PLACEHOLDER } from '../common/cognito-rules';

/** What a client's `credentials` option takes (the SDK's Credentials). */
export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

/** Which role to assume in an item's account. */
export interface AccountRoles {
  /** A role ARN, `{accountId}` standing for the item's account: `arn:aws:iam::{accountId}:role/rs-cleanup`. */
  assumeRoleArn?: string;
  /** The external ID the role's trust policy asks for. */
  externalId?: string;
}

export interface AssumedRole {
  roleArn: string;
  externalId?: string;
  accountId: string;
}

/** The role to assume for calls in `accountId`, or undefined for the worker's own credentials. */
export function roleFor(accountId: string | undefined, roles: AccountRoles | undefined): AssumedRole | undefined {
  if (!accountId || !roles?.assumeRoleArn) return undefined;
  return {
    roleArn: roles.assumeRoleArn.split(ACCOUNT_PLACEHOLDER).join(accountId),
    ...(roles.externalId ? { externalId: roles.externalId } : {}),
    accountId,
  };
}

/** STS refused (or could not be asked): the message names the role and the account. */
export class CredentialsError extends Error {
  readonly $metadata?: { httpStatusCode?: number; requestId?: string };
  readonly code: string;

  constructor(
    readonly role: AssumedRole,
    cause: unknown,
  ) {
    const e = (cause ?? {}) as { name?: string; message?: string; code?: string; $metadata?: { httpStatusCode?: number; requestId?: string } };
    super(`cannot assume role ${role.roleArn} for account ${role.accountId}: ${e.message ?? String(cause)}`);
    // The STS error code (AccessDenied, ...) is the name, as for any AWS error: classifyCognitoError reads it.
    this.name = e.name && e.name !== 'Error' ? e.name : e.code ?? 'CredentialsError';
    this.code = e.code ?? this.name;
    if (e.$metadata) this.$metadata = e.$metadata;
  }
}

export function isCredentialsError(err: unknown): err is CredentialsError {
  return err instanceof CredentialsError;
}

export interface CredentialsOptions {
  /** Endpoint override for STS (the emulator answers STS on the same port). */
  endpoint?: string;
  /** Region of the STS client; default AWS_REGION or us-east-1. */
  region?: string;
  sessionName?: string;
  /** Refresh this long before the credentials expire. */
  refreshBeforeMs?: number;
  /** A role that could not be assumed is not asked again for this long. */
  failureTtlMs?: number;
  now?: () => number;
}

interface CacheEntry {
  credentials: Promise<Credentials>;
  /** Set once settled. */
  expiresAt?: number;
  failedAt?: number;
}

export class AccountCredentials {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly now: () => number;

  constructor(private readonly options: CredentialsOptions = {}) {
    this.now = options.now ?? Date.now;
  }

  /** A provider of the role's credentials, for a client's `credentials` option. */
  provider(role: AssumedRole): () => Promise<Credentials> {
    return () => this.get(role);
  }

  /** Forgets the role's credentials (Cognito said they expired): the next call assumes it again. */
  invalidate(role: AssumedRole): void {
    this.cache.delete(roleKey(role));
  }

  private get(role: AssumedRole): Promise<Credentials> {
    const key = roleKey(role);
    const now = this.now();
    const entry = this.cache.get(key);
    if (entry) {
      const fresh = entry.expiresAt === undefined || entry.expiresAt - now > (this.options.refreshBeforeMs ?? 5 * 60_000);
      const failureLive = entry.failedAt !== undefined && now - entry.failedAt < (this.options.failureTtlMs ?? 30_000);
      if (entry.failedAt === undefined ? fresh : failureLive) return entry.credentials;
    }
    const provider = fromTemporaryCredentials({
      params: {
        RoleArn: role.roleArn,
        RoleSessionName: this.options.sessionName ?? 'rs-cleanup',
        ...(role.externalId ? { ExternalId: role.externalId } : {}),
      },
      clientConfig: {
        region: this.options.region ?? process.env.AWS_REGION ?? 'us-east-1',
        // STS errors are final here: the activity's own retry policy decides what to try again.
        maxAttempts: 1,
        ...(this.options.endpoint ? { endpoint: this.options.endpoint } : {}),
      },
    });
    const next: CacheEntry = {
      credentials: provider().then(
        (credentials) => {
          next.expiresAt = credentials.expiration?.getTime() ?? Number.POSITIVE_INFINITY;
          return credentials;
        },
        (err: unknown) => {
          next.failedAt = this.now();
          throw new CredentialsError(role, err);
        },
      ),
    };
    next.credentials.catch(() => undefined);
    this.cache.set(key, next);
    return next.credentials;
  }
}

/** One role as a map key: its ARN and external ID. */
export function roleKey(role: AssumedRole): string {
  return `${role.roleArn}\n${role.externalId ?? ''}`;
}

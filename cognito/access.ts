/**
 * The one way to Cognito: every call names its quota category and its target
 * (user pool, account), and goes through the limiter of that category in that
 * account and Region, with the client of that Region holding that account's
 * credentials. Cognito's quotas are per account and Region, so two Regions (or
 * two accounts) each get their own budget and run at full speed in parallel.
 *
 * The budgets are the worker's (its configuration), per category, for every
 * (account, Region); runs share them (cognito/rate-limiter.ts) and cap their
 * own share with their limits.
 */
import type { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { regionOfUserPoolId } from '../common/cognito-rules';
import { COGNITO_QUOTAS, WORKER_DEFAULTS } from '../common/options';
import { CognitoClients, type CognitoClientOptions } from './clients';
import { roleFor, type AccountRoles, type AssumedRole } from './credentials';
import { ResourceServerReader } from './server-reader';
import { CognitoRateLimiter, type LimiterOptions, type LimiterStart, type RateSettings, type ScheduleOptions } from './rate-limiter';

/** Cognito's quota categories that rs-cleanup calls. */
export type QuotaCategory =
  /** CreateResourceServer, UpdateResourceServer, DeleteResourceServer. */
  | 'UserPoolResourceUpdate'
  /** DescribeResourceServer, ListResourceServers. */
  | 'UserPoolResourceRead'
  /** ListUserPoolClients, DescribeUserPoolClient. */
  | 'UserPoolClientRead'
  /** ListUserPools, DescribeUserPool. */
  | 'UserPoolRead';


/** The account the worker's own credentials belong to, when an item names none. */
export const OWN_ACCOUNT = 'own';

/** What a call is about. */
export interface CognitoTarget {
  /** The user pool; its Region is the prefix of its ID. */
  userPoolId?: string;
  /** For calls about no pool (ListUserPools): the Region. */
  region?: string;
  /** The item's account; the worker's own credentials' account when absent. */
  accountId?: string;
}

/** One limiter's key. */
export interface LimiterKey {
  category: QuotaCategory;
  /** The item's account, or OWN_ACCOUNT. */
  account: string;
  region: string;
}

export interface CognitoAccessOptions extends CognitoClientOptions {
  /** How long a pool listing serves backup reads (cognito/server-reader.ts); 0 = one Describe per item. */
  listingMaxAgeMs?: number;
  /** The worker's budget per category, for each (account, Region). */
  budgets: Record<QuotaCategory, RateSettings>;
  /** The role to assume in each item's account, unless a call says otherwise. */
  roles?: AccountRoles;
  /** Clock, guard and congestion settings of every limiter (tests). */
  limiter?: Omit<LimiterOptions, 'onStart'>;
  /** Told about every call's start, with its key (tests, benchmarks). */
  onStart?: (key: LimiterKey, start: LimiterStart) => void;
}

export interface CallOptions extends ScheduleOptions {
  /** The run's roles; each field the access's own when absent. */
  roles?: AccountRoles;
}

/** Calls about no pool share this name in the pool windows (they have none of their own in Cognito). */
const NO_POOL = '(no pool)';

export class CognitoAccess {
  readonly clients: CognitoClients;
  /** Reads resource servers (backups) from recent pool listings, or one by one. */
  readonly servers: ResourceServerReader;
  private readonly limiters = new Map<string, { key: LimiterKey; limiter: CognitoRateLimiter }>();

  constructor(private readonly options: CognitoAccessOptions) {
    this.clients = new CognitoClients(options);
    this.servers = new ResourceServerReader(this, options.listingMaxAgeMs !== undefined ? { maxAgeMs: options.listingMaxAgeMs } : {});
  }

  /**
   * Runs `send` with the target's client once the target's limiter lets it
   * start. Credentials that Cognito calls expired are renewed for the next call
   * (this one fails, retryably).
   */
  async call<T>(
    category: QuotaCategory,
    target: CognitoTarget,
    send: (client: CognitoIdentityProviderClient) => Promise<T>,
    options: CallOptions = {},
  ): Promise<T> {
    const role = this.roleFor(target, options.roles);
    const client = this.clients.forRegion(regionOf(target), role);
    try {
      return await this.limiter(category, target).schedule(target.userPoolId ?? NO_POOL, () => send(client), options);
    } catch (err) {
      if (role && isExpiredToken(err)) this.clients.renew(role);
      throw err;
    }
  }

  /** The role a call about `target` assumes, if any: the run's setting, each field falling back to the worker's. */
  private roleFor(target: CognitoTarget, roles?: AccountRoles): AssumedRole | undefined {
    const own = this.options.roles;
    return roleFor(target.accountId, { assumeRoleArn: roles?.assumeRoleArn ?? own?.assumeRoleArn, externalId: roles?.externalId ?? own?.externalId });
  }

  /** The limiter of the category in the target's account and Region. */
  limiter(category: QuotaCategory, target: CognitoTarget): CognitoRateLimiter {
    const key: LimiterKey = { category, account: target.accountId ?? OWN_ACCOUNT, region: regionOf(target) };
    const id = `${key.category}\n${key.account}\n${key.region}`;
    let entry = this.limiters.get(id);
    if (!entry) {
      const onStart = this.options.onStart;
      const limiter = new CognitoRateLimiter(this.options.budgets[category], {
        ...this.options.limiter,
        ...(onStart ? { onStart: (start: LimiterStart) => onStart(key, start) } : {}),
      });
      entry = { key, limiter };
      this.limiters.set(id, entry);
    }
    return entry.limiter;
  }

  /**
   * The lowest rate any key of the category allows now (lower after
   * congestion); the budget's rate while no key has been used.
   */
  currentRate(category: QuotaCategory): number {
    let lowest = Number.POSITIVE_INFINITY;
    for (const { key, limiter } of this.limiters.values()) if (key.category === category) lowest = Math.min(lowest, limiter.currentRate());
    return Number.isFinite(lowest) ? lowest : this.options.budgets[category].rate;
  }

  close(): void {
    for (const { limiter } of this.limiters.values()) limiter.stop();
    this.limiters.clear();
    this.clients.destroy();
  }
}

/**
 * A CognitoAccess for a command run by hand (restore, discover): Cognito's
 * published quotas as the budget, COGNITO_ENDPOINT, and the role settings the
 * workers read (RS_CLEANUP_ASSUME_ROLE_ARN, RS_CLEANUP_EXTERNAL_ID).
 */
export function commandCognitoAccess(env: NodeJS.ProcessEnv): CognitoAccess {
  const perPool = COGNITO_QUOTAS.perPoolPerOperationPerSecond;
  const assumeRoleArn = env.RS_CLEANUP_ASSUME_ROLE_ARN?.trim();
  const externalId = env.RS_CLEANUP_EXTERNAL_ID?.trim();
  return new CognitoAccess({
    ...(env.COGNITO_ENDPOINT ? { endpoint: env.COGNITO_ENDPOINT } : {}),
    budgets: {
      UserPoolResourceUpdate: { rate: COGNITO_QUOTAS.resourceUpdatePerSecond, poolRate: perPool },
      UserPoolResourceRead: { rate: COGNITO_QUOTAS.resourceReadPerSecond, poolRate: perPool },
      UserPoolClientRead: { rate: COGNITO_QUOTAS.clientReadPerSecond, poolRate: perPool },
      UserPoolRead: { rate: WORKER_DEFAULTS.userPoolReadRate, poolRate: WORKER_DEFAULTS.userPoolReadRate },
    },
    ...(assumeRoleArn ? { roles: { assumeRoleArn, ...(externalId ? { externalId } : {}) } } : {}),
  });
}

function regionOf(target: CognitoTarget): string {
  if (target.userPoolId) return regionOfUserPoolId(target.userPoolId);
  if (target.region) return target.region;
  throw new Error('a Cognito call needs a user pool or a Region');
}

function isExpiredToken(err: unknown): boolean {
  const name = (err as { name?: string })?.name;
  return name === 'ExpiredTokenException' || name === 'ExpiredToken';
}

/**
 * The emulator's public JSON shapes: options, run-time config, seed requests,
 * state dumps and stats. Declarations only, so the control client and other
 * tests can import them without loading the server.
 */

// ---- Quotas ----

/**
 * Cognito's quota categories for the operations the emulator models. The
 * first four are Cognito's published ones; `UserPoolRead`/`UserPoolUpdate`
 * cover pool management, which this project only uses to set up tests.
 */
export type QuotaCategory =
  | 'UserPoolResourceUpdate'
  | 'UserPoolResourceRead'
  | 'UserPoolClientRead'
  | 'UserPoolClientUpdate'
  | 'UserPoolRead'
  | 'UserPoolUpdate';

export interface QuotaConfig {
  enabled: boolean;
  /** Accepted requests per sliding second, for each account and Region separately. */
  categories: Record<QuotaCategory, number>;
  /** Accepted requests per sliding second for one user pool and one operation (Cognito: 5). */
  perPoolPerOperation: number;
  /** Per-pool overrides of perPoolPerOperation, keyed by user pool id. */
  pools: Record<string, number>;
}

export interface QuotaPatch {
  enabled?: boolean;
  /** Merged into the current limits, category by category. */
  categories?: Partial<Record<QuotaCategory, number>>;
  perPoolPerOperation?: number;
  /** Replaces all per-pool overrides. */
  pools?: Record<string, number>;
}

// ---- Faults ----

export type FaultErrorType =
  | 'TooManyRequestsException'
  | 'InternalErrorException'
  | 'NotAuthorizedException'
  | 'LimitExceededException'
  | 'ResourceNotFoundException'
  | 'InvalidParameterException'
  | 'ConcurrentModificationException';

/** Probabilities (0..1) for one operation, or for all under the key '*'. */
export interface OperationFaults {
  /** TooManyRequestsException (400), as if other callers had used the quota. */
  throttle?: number;
  /** InternalErrorException (500). */
  internalError?: number;
  /** NotAuthorizedException (400). */
  notAuthorized?: number;
  /** The socket is destroyed before the operation runs: nothing changes, no response. */
  dropBeforeProcessing?: number;
  /** The operation runs, then the socket is destroyed: a lost response to a call that succeeded. */
  dropAfterProcessing?: number;
  /**
   * HTTP 429 with a plain-text body and no Cognito error type, as a proxy or
   * load balancer in front of the service would answer.
   */
  http429?: number;
  /** HTTP 503 with a plain-text body and no Cognito error type. */
  http503?: number;
  /** The request is read and never answered (nothing changes) until the client gives up or the emulator closes. */
  hang?: number;
  /** The operation runs, then the request is never answered: a timed-out call that succeeded. */
  hangAfterProcessing?: number;
  /** Latency for this operation; replaces `faults.latency` (missing fields are 0). */
  latency?: Partial<LatencyConfig>;
}

export interface LatencyConfig {
  /** Added to every API call. */
  fixedMs: number;
  /** Plus a uniform 0..jitterMs. */
  jitterMs: number;
  /** With this probability a call also waits spikeMs. */
  spikeProbability: number;
  spikeMs: number;
}

export interface FailNextRule {
  /** Operation name; any operation when absent. */
  operation?: string;
  /** How many more calls fail; the rule is dropped when it reaches 0. */
  count: number;
  /**
   * AcknowledgeWithoutApplying answers 200 `{}` and changes nothing: a delete
   * that did not stick (only meaningful for operations whose answer is empty,
   * such as DeleteResourceServer).
   */
  error: FaultErrorType | 'DropConnection' | 'AcknowledgeWithoutApplying' | 'Hang' | 'Http429' | 'Http503';
}

export interface FaultConfig {
  /** Keyed by operation name or '*'; an operation's own entry replaces '*' entirely. */
  operations: Record<string, OperationFaults>;
  latency: LatencyConfig;
  /** Checked in order before the random faults; each match uses up one count. */
  failNext: FailNextRule[];
  /** Requests per second that other applications in the account take from a category. */
  backgroundLoad: Partial<Record<QuotaCategory, number>>;
}

export interface FaultPatch {
  operations?: Record<string, OperationFaults>;
  latency?: Partial<LatencyConfig>;
  failNext?: FailNextRule[];
  backgroundLoad?: Partial<Record<QuotaCategory, number>>;
}

// ---- Auth ----

export interface TestCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  /** IAM user name shown in AccessDeniedException messages. */
  userName?: string;
  /** The 12-digit AWS account the key belongs to; default the emulator's default account. */
  accountId?: string;
}

/** Deny rules for one access key (or one role ARN): operation names (or 'cognito-idp:Op') or '*'. */
export interface Policy {
  deny: string[];
}

// ---- Config ----

/** The run-time configuration, as GET /_emulator/config returns it. */
export interface EmulatorConfig {
  /** The default account: DEFAULT_TEST_CREDENTIALS and keys without an accountId belong to it. */
  accountId: string;
  /** Access keys of the config (secrets are not shown); seeded keys are in the state. */
  accessKeyIds: string[];
  /** Keyed by access key id, or by role ARN for every session of that role. */
  policies: Record<string, Policy>;
  quotas: QuotaConfig;
  faults: FaultConfig;
  /** Seed of the PRNG behind every random fault and latency choice. */
  faultSeed: number;
  /** Cognito's adjustable quota "resource servers per user pool" (default 25). */
  maxResourceServersPerPool: number;
  /** Cognito's adjustable quota "app clients per user pool" (default 1000). */
  maxClientsPerPool: number;
  /** Check SigV4 signatures cryptographically (off by default: the header is still parsed strictly). */
  verifySignatures: boolean;
}

/** POST /_emulator/config: every key is optional; see docs/emulator.md for the merge rules. */
export interface EmulatorConfigPatch {
  /** `false` turns quotas off. */
  quotas?: QuotaPatch | false;
  faults?: FaultPatch;
  /** Setting it restarts the PRNG from this seed. */
  faultSeed?: number;
  /** Replaces all policies (keyed by access key id or role ARN). */
  policies?: Record<string, Policy>;
  maxResourceServersPerPool?: number;
  maxClientsPerPool?: number;
  verifySignatures?: boolean;
  /** Added to (or replacing by access key id) the known keys. */
  credentials?: TestCredentials[];
}

/** Options of startEmulator: the config patch applied at start, plus server settings. */
export interface EmulatorOptions extends EmulatorConfigPatch {
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  accountId?: string;
  /** Known access keys; default [DEFAULT_TEST_CREDENTIALS]. */
  credentials?: TestCredentials[];
  /** Makes generated pool, client and secret ids reproducible. */
  idSeed?: number;
  /** Seeded at start (after `state`). */
  seed?: SeedRequest;
  /** Loaded at start. */
  state?: EmulatorState;
  /** Loaded at start when it exists; written by close() and POST /_emulator/state/save. */
  stateFile?: string;
  /** API request body limit; default 1 MiB. */
  maxBodyBytes?: number;
}

// ---- State ----

export interface ResourceServerScope {
  ScopeName: string;
  ScopeDescription: string;
}

export interface StateResourceServer {
  identifier: string;
  name: string;
  scopes: ResourceServerScope[];
}

export interface StateClient {
  clientId: string;
  clientName: string;
  /** Epoch seconds. */
  creationDate: number;
  lastModifiedDate: number;
  /** As stored: scopes of deleted resource servers stay here, dangling, as in Cognito. */
  allowedOAuthScopes: string[];
  /** The other UserPoolClientType members, in the API's casing (ClientSecret, AllowedOAuthFlows, ...). */
  settings: Record<string, unknown>;
}

export interface StateUserPool {
  id: string;
  name: string;
  /** Dumps always carry it; a loaded pool without it belongs to the default account. */
  accountId?: string;
  region: string;
  /** Epoch seconds. */
  creationDate: number;
  lastModifiedDate: number;
  deletionProtection: 'ACTIVE' | 'INACTIVE';
  tags: Record<string, string>;
  resourceServers: StateResourceServer[];
  clients: StateClient[];
}

/** An IAM role that AssumeRole can assume. */
export interface RoleDefinition {
  /** `arn:aws:iam::<12-digit account>:role/<name>` (a path is allowed: `role/ops/<name>`). */
  arn: string;
  /** Accounts whose principals may assume it; default: the default account and the role's own account. */
  trustedAccounts?: string[];
  /** When set, AssumeRole must pass exactly this ExternalId. */
  externalId?: string;
  /** Longest DurationSeconds allowed, 3600 (the IAM default) when absent; at most 43200. */
  maxSessionDuration?: number;
}

/** GET /_emulator/state: everything, in creation order. */
export interface EmulatorState {
  version: 1;
  userPools: StateUserPool[];
  /** Access keys added by seeds (keys of the config are not part of the state). */
  accessKeys?: (TestCredentials & { accountId: string })[];
  roles?: RoleDefinition[];
}

// ---- Seed ----

export interface SeedResourceServer {
  identifier: string;
  name: string;
  scopes?: ResourceServerScope[];
}

export interface SeedClient {
  clientName: string;
  clientId?: string;
  allowedOAuthScopes?: string[];
}

export interface SeedUserPool {
  /** Generated as `<region>_<9 alphanumerics>` when absent. */
  id?: string;
  name: string;
  /** The 12-digit account that owns the pool; default the default account. */
  accountId?: string;
  /** Default: the id's prefix, or us-east-1. */
  region?: string;
  resourceServers?: SeedResourceServer[];
  clients?: SeedClient[];
}

export interface SeedGenerator {
  pools: number;
  serversPerPool: number;
  scopesPerServer: number;
  /** Default us-east-1. */
  region?: string;
  /** Identifiers are `${identifierPrefix}pool-${p}/server-${s}`; default 'https://api.example.com/'. */
  identifierPrefix?: string;
  /** App clients per pool, each allowed the first scope of every server (at most 50 of them). */
  clientsPerPool?: number;
  /** Default: the default account. */
  accountId?: string;
}

/** POST /_emulator/seed: explicit pools, a generator, or both, plus access keys and roles. Atomic: all or nothing. */
export interface SeedRequest {
  userPools?: SeedUserPool[];
  generate?: SeedGenerator;
  /** More access keys, each in its account (default the default account); an existing key id is refused. */
  credentials?: TestCredentials[];
  /** Roles for AssumeRole; an existing ARN is refused. */
  roles?: RoleDefinition[];
}

export interface SeedResult {
  userPools: { id: string; name: string; accountId: string; clients: { clientId: string; clientName: string }[] }[];
  resourceServers: number;
  clients: number;
  credentials: number;
  roles: number;
}

// ---- Stats ----

export interface AcceptedSecond {
  /** Epoch seconds. */
  second: number;
  /**
   * Calls accepted by the quotas (whatever their outcome afterwards), per
   * category, summed over every account and Region. The quotas hold per
   * account and Region: read `accounts` when a test uses more than one.
   */
  categories: Partial<Record<QuotaCategory, number>>;
  /** Calls accepted per account, Region and category: what each quota saw. */
  accounts: Record<string, Record<string, Partial<Record<QuotaCategory, number>>>>;
  /** Calls accepted, per user pool and operation (pool ids are unique across accounts). */
  pools: Record<string, Record<string, number>>;
}

export interface DeleteRecord {
  userPoolId: string;
  identifier: string;
  accountId: string;
  region: string;
  /** ISO 8601. */
  time: string;
}

export interface EmulatorStats {
  /**
   * Per operation, per outcome: 'ok' or the error type (or 'DroppedConnection',
   * 'Hung', 'Http429', ...). STS calls count under 'AssumeRole'.
   */
  operations: Record<string, Record<string, number>>;
  accepted: { perSecond: AcceptedSecond[] };
  /** Every successful DeleteResourceServer, in order. */
  deletes: DeleteRecord[];
  /** AssumeRole calls per requested role ARN and outcome ('ok' or the STS error code). */
  assumeRole: Record<string, Record<string, number>>;
  /** Injected latency spikes per operation. */
  latencySpikes: Record<string, number>;
}

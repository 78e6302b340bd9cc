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
  /** Accepted requests per sliding second, per account and Region. */
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
  error: FaultErrorType | 'DropConnection' | 'AcknowledgeWithoutApplying';
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
}

/** Deny rules for one access key: operation names (or 'cognito-idp:Op') or '*'. */
export interface Policy {
  deny: string[];
}

// ---- Config ----

/** The run-time configuration, as GET /_emulator/config returns it. */
export interface EmulatorConfig {
  accountId: string;
  /** Known access keys (secrets are not shown). */
  accessKeyIds: string[];
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
  /** Replaces all policies. */
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
  region: string;
  /** Epoch seconds. */
  creationDate: number;
  lastModifiedDate: number;
  deletionProtection: 'ACTIVE' | 'INACTIVE';
  tags: Record<string, string>;
  resourceServers: StateResourceServer[];
  clients: StateClient[];
}

/** GET /_emulator/state: everything, in creation order. */
export interface EmulatorState {
  version: 1;
  userPools: StateUserPool[];
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
}

/** POST /_emulator/seed: explicit pools, a generator, or both. Atomic: all or nothing. */
export interface SeedRequest {
  userPools?: SeedUserPool[];
  generate?: SeedGenerator;
}

export interface SeedResult {
  userPools: { id: string; name: string; clients: { clientId: string; clientName: string }[] }[];
  resourceServers: number;
  clients: number;
}

// ---- Stats ----

export interface AcceptedSecond {
  /** Epoch seconds. */
  second: number;
  /** Calls accepted by the quotas (whatever their outcome afterwards), per category. */
  categories: Partial<Record<QuotaCategory, number>>;
  /** Calls accepted, per user pool and operation. */
  pools: Record<string, Record<string, number>>;
}

export interface DeleteRecord {
  userPoolId: string;
  identifier: string;
  /** ISO 8601. */
  time: string;
}

export interface EmulatorStats {
  /** Per operation, per outcome: 'ok' or the error type (or 'DroppedConnection'). */
  operations: Record<string, Record<string, number>>;
  accepted: { perSecond: AcceptedSecond[] };
  /** Every successful DeleteResourceServer, in order. */
  deletes: DeleteRecord[];
}

/**
 * The emulator's run-time configuration: defaults (Cognito's published
 * quotas), and patches from options or POST /_emulator/config. A patch is
 * checked entirely before any of it applies, so a bad one changes nothing.
 */
import { cognitoError, CognitoError } from './errors';
import { OPERATION_NAMES } from './operations';
import type { EmulatorConfig, EmulatorConfigPatch, FaultConfig, QuotaCategory, QuotaConfig, TestCredentials } from './types';

export const DEFAULT_TEST_CREDENTIALS = {
  accessKeyId: 'AKIAEMULATORTEST0001',
  secretAccessKey: 'emulator-test-secret',
} as const satisfies TestCredentials;

/** The default account: DEFAULT_TEST_CREDENTIALS and every key or pool without an accountId belong to it. */
export const DEFAULT_ACCOUNT_ID = '000000000000';

export const ACCOUNT_ID_PATTERN = /^\d{12}$/;

/** Cognito's published limits (requests per second, per account and Region). */
export const DEFAULT_CATEGORY_LIMITS: Readonly<Record<QuotaCategory, number>> = {
  UserPoolResourceUpdate: 15,
  UserPoolResourceRead: 20,
  UserPoolClientRead: 15,
  UserPoolClientUpdate: 15,
  // Pool management: generous, the project only uses it to set up tests.
  UserPoolRead: 50,
  UserPoolUpdate: 50,
};

export const QUOTA_CATEGORIES = Object.keys(DEFAULT_CATEGORY_LIMITS) as QuotaCategory[];

export const DEFAULT_PER_POOL_PER_OPERATION = 5;

const FAULT_ERRORS = [
  'TooManyRequestsException',
  'InternalErrorException',
  'NotAuthorizedException',
  'LimitExceededException',
  'ResourceNotFoundException',
  'InvalidParameterException',
  'ConcurrentModificationException',
  'DropConnection',
  'AcknowledgeWithoutApplying',
  'Hang',
  'Http429',
  'Http503',
];

const OPERATION_FAULT_KEYS = [
  'throttle',
  'internalError',
  'notAuthorized',
  'http429',
  'http503',
  'dropBeforeProcessing',
  'dropAfterProcessing',
  'hang',
  'hangAfterProcessing',
  'latency',
];

const LATENCY_KEYS = ['fixedMs', 'jitterMs', 'spikeProbability', 'spikeMs'];

export function defaultQuotaConfig(): QuotaConfig {
  return { enabled: true, categories: { ...DEFAULT_CATEGORY_LIMITS }, perPoolPerOperation: DEFAULT_PER_POOL_PER_OPERATION, pools: {} };
}

export function defaultFaultConfig(): FaultConfig {
  return {
    operations: {},
    latency: { fixedMs: 0, jitterMs: 0, spikeProbability: 0, spikeMs: 0 },
    failNext: [],
    backgroundLoad: {},
  };
}

/** The live configuration plus the secrets that GET /_emulator/config does not show. */
export class ConfigStore {
  readonly credentials = new Map<string, TestCredentials>();
  private current: Omit<EmulatorConfig, 'accessKeyIds'>;

  constructor(accountId: string, faultSeed: number) {
    this.current = {
      accountId,
      policies: {},
      quotas: defaultQuotaConfig(),
      faults: defaultFaultConfig(),
      faultSeed,
      maxResourceServersPerPool: 25,
      maxClientsPerPool: 1000,
      verifySignatures: false,
    };
  }

  /** The live object: components read it on every call so changes apply at once. */
  get live(): Omit<EmulatorConfig, 'accessKeyIds'> {
    return this.current;
  }

  view(): EmulatorConfig {
    return { ...structuredClone(this.current), accessKeyIds: [...this.credentials.keys()] };
  }

  /** Validates the whole patch, then applies it. Returns whether faultSeed was set. */
  apply(patch: unknown): { reseeded: boolean } {
    checkPatch(patch);
    const p = patch as EmulatorConfigPatch;
    const next = structuredClone(this.current);
    if (p.quotas === false) next.quotas.enabled = false;
    else if (p.quotas) {
      if (p.quotas.enabled !== undefined) next.quotas.enabled = p.quotas.enabled;
      Object.assign(next.quotas.categories, definedOnly(p.quotas.categories ?? {}));
      if (p.quotas.perPoolPerOperation !== undefined) next.quotas.perPoolPerOperation = p.quotas.perPoolPerOperation;
      if (p.quotas.pools) next.quotas.pools = { ...p.quotas.pools };
    }
    if (p.faults) {
      if (p.faults.operations) next.faults.operations = structuredClone(p.faults.operations);
      if (p.faults.latency) Object.assign(next.faults.latency, definedOnly(p.faults.latency));
      if (p.faults.failNext) next.faults.failNext = structuredClone(p.faults.failNext);
      if (p.faults.backgroundLoad) next.faults.backgroundLoad = { ...p.faults.backgroundLoad };
    }
    if (p.faultSeed !== undefined) next.faultSeed = p.faultSeed;
    if (p.policies) next.policies = structuredClone(p.policies);
    if (p.maxResourceServersPerPool !== undefined) next.maxResourceServersPerPool = p.maxResourceServersPerPool;
    if (p.maxClientsPerPool !== undefined) next.maxClientsPerPool = p.maxClientsPerPool;
    if (p.verifySignatures !== undefined) next.verifySignatures = p.verifySignatures;
    for (const credentials of p.credentials ?? []) this.credentials.set(credentials.accessKeyId, { ...credentials });
    // Mutate in place: other components hold getters onto this object's parts.
    Object.assign(this.current, next);
    return { reseeded: p.faultSeed !== undefined };
  }
}

/** Options objects built in TypeScript often carry `key: undefined`; that means "not set". */
function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

// ---- Patch checking ----

const PATCH_KEYS = ['quotas', 'faults', 'faultSeed', 'policies', 'maxResourceServersPerPool', 'maxClientsPerPool', 'verifySignatures', 'credentials'];

function bad(message: string): CognitoError {
  return cognitoError('InvalidConfigException', message);
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function expectObject(value: unknown, path: string, allowedKeys?: readonly string[]): Record<string, unknown> {
  if (!isObject(value)) throw bad(`${path} must be an object`);
  if (allowedKeys) {
    for (const key of Object.keys(value)) if (!allowedKeys.includes(key)) throw bad(`${path}.${key} is not a known setting`);
  }
  return value;
}

function expectNumber(value: unknown, path: string, options: { max?: number; integer?: boolean } = {}): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw bad(`${path} must be a number >= 0`);
  if (options.max !== undefined && value > options.max) throw bad(`${path} must be <= ${options.max}`);
  if (options.integer && !Number.isInteger(value)) throw bad(`${path} must be an integer`);
}

function expectNumberMap(value: unknown, path: string, allowedKeys?: readonly string[]): void {
  for (const [key, n] of Object.entries(expectObject(value, path, allowedKeys))) if (n !== undefined) expectNumber(n, `${path}.${key}`);
}

function checkLatency(value: unknown, path: string): void {
  const latency = expectObject(value, path, LATENCY_KEYS);
  for (const [key, n] of Object.entries(latency)) if (n !== undefined) expectNumber(n, `${path}.${key}`, key === 'spikeProbability' ? { max: 1 } : {});
}

function checkPatch(patch: unknown): void {
  const p = expectObject(patch, 'config', PATCH_KEYS);
  if (p.quotas !== undefined && p.quotas !== false) {
    const quotas = expectObject(p.quotas, 'quotas', ['enabled', 'categories', 'perPoolPerOperation', 'pools']);
    if (quotas.enabled !== undefined && typeof quotas.enabled !== 'boolean') throw bad('quotas.enabled must be a boolean');
    if (quotas.categories !== undefined) expectNumberMap(quotas.categories, 'quotas.categories', QUOTA_CATEGORIES);
    if (quotas.perPoolPerOperation !== undefined) expectNumber(quotas.perPoolPerOperation, 'quotas.perPoolPerOperation');
    if (quotas.pools !== undefined) expectNumberMap(quotas.pools, 'quotas.pools');
  }
  if (p.faults !== undefined) {
    const faults = expectObject(p.faults, 'faults', ['operations', 'latency', 'failNext', 'backgroundLoad']);
    if (faults.operations !== undefined) {
      const operations = expectObject(faults.operations, 'faults.operations', ['*', ...OPERATION_NAMES]);
      for (const [name, rule] of Object.entries(operations)) {
        const probabilities = expectObject(rule, `faults.operations.${name}`, OPERATION_FAULT_KEYS);
        for (const [key, n] of Object.entries(probabilities)) {
          if (n === undefined) continue;
          if (key === 'latency') checkLatency(n, `faults.operations.${name}.latency`);
          else expectNumber(n, `faults.operations.${name}.${key}`, { max: 1 });
        }
      }
    }
    if (faults.latency !== undefined) checkLatency(faults.latency, 'faults.latency');
    if (faults.failNext !== undefined) {
      if (!Array.isArray(faults.failNext)) throw bad('faults.failNext must be an array');
      faults.failNext.forEach((rule, i) => {
        const r = expectObject(rule, `faults.failNext[${i}]`, ['operation', 'count', 'error']);
        if (r.operation !== undefined && !OPERATION_NAMES.includes(r.operation as string)) throw bad(`faults.failNext[${i}].operation must be one of ${OPERATION_NAMES.join(', ')}`);
        expectNumber(r.count, `faults.failNext[${i}].count`, { integer: true });
        if (!FAULT_ERRORS.includes(r.error as string)) throw bad(`faults.failNext[${i}].error must be one of ${FAULT_ERRORS.join(', ')}`);
      });
    }
    if (faults.backgroundLoad !== undefined) expectNumberMap(faults.backgroundLoad, 'faults.backgroundLoad', QUOTA_CATEGORIES);
  }
  if (p.faultSeed !== undefined) expectNumber(p.faultSeed, 'faultSeed', { integer: true });
  if (p.policies !== undefined) {
    for (const [key, policy] of Object.entries(expectObject(p.policies, 'policies'))) {
      const deny = expectObject(policy, `policies.${key}`, ['deny']).deny;
      if (!Array.isArray(deny) || deny.some((rule) => typeof rule !== 'string')) throw bad(`policies.${key}.deny must be an array of strings`);
    }
  }
  if (p.maxResourceServersPerPool !== undefined) expectNumber(p.maxResourceServersPerPool, 'maxResourceServersPerPool', { integer: true });
  if (p.maxClientsPerPool !== undefined) expectNumber(p.maxClientsPerPool, 'maxClientsPerPool', { integer: true });
  if (p.verifySignatures !== undefined && typeof p.verifySignatures !== 'boolean') throw bad('verifySignatures must be a boolean');
  if (p.credentials !== undefined) {
    if (!Array.isArray(p.credentials)) throw bad('credentials must be an array');
    p.credentials.forEach((entry, i) => {
      const c = expectObject(entry, `credentials[${i}]`, ['accessKeyId', 'secretAccessKey', 'userName', 'accountId']);
      if (typeof c.accessKeyId !== 'string' || c.accessKeyId === '' || c.accessKeyId.includes('/')) throw bad(`credentials[${i}].accessKeyId must be a non-empty string without '/'`);
      if (typeof c.secretAccessKey !== 'string') throw bad(`credentials[${i}].secretAccessKey must be a string`);
      if (c.userName !== undefined && typeof c.userName !== 'string') throw bad(`credentials[${i}].userName must be a string`);
      if (c.accountId !== undefined && (typeof c.accountId !== 'string' || !ACCOUNT_ID_PATTERN.test(c.accountId))) throw bad(`credentials[${i}].accountId must be 12 digits`);
    });
  }
}

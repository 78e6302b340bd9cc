/**
 * One emulated AWS endpoint, independent of HTTP: takes a request (headers
 * and body) and decides the answer. STS calls (AssumeRole) go to sts.ts;
 * Cognito calls pass the checks in the order the real service applies them:
 *
 *   operation -> SigV4 (key, account, session) -> JSON/types -> IAM policy
 *   -> injected faults -> rate quotas -> constraints -> Cognito's rules and the change.
 *
 * A call refused anywhere before the change changes nothing. Quotas count every
 * call they accept, whatever its outcome afterwards, as AWS meters requests.
 */
import { randomUUID } from 'node:crypto';
import { writeFile, rename } from 'node:fs/promises';
import type { IncomingHttpHeaders } from 'node:http';
import { authenticate, checkPolicy, SERVICE, type AuthSettings } from './auth';
import { EmulatorClock } from './clock';
import { ConfigStore } from './config';
import { CognitoError, cognitoError, injectedError, internalError, serializationError, tooManyRequests } from './errors';
import { FaultInjector } from './faults';
import { Identities } from './identities';
import { IdGenerator } from './ids';
import { CognitoModel, parseState } from './model';
import { OPERATIONS, type OperationDefinition } from './operations';
import { QuotaLimiter } from './quotas';
import { seedModel } from './seed';
import { StatsRecorder } from './stats';
import { handleStsCall, isStsRequest, type StsContext } from './sts';
import type { EmulatorState, SeedResult } from './types';
import { deserialize, validateConstraints } from './validation';

const TARGET_PREFIX = 'AWSCognitoIdentityProviderService.';
export const JSON_CONTENT_TYPE = 'application/x-amz-json-1.1';

export interface ApiRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
  body: Buffer;
}

export type ApiAnswer =
  | { kind: 'respond'; status: number; headers: Record<string, string>; body: string }
  /** Destroy the socket without a response. */
  | { kind: 'drop' }
  /** Never answer: the client times out (or the emulator closes the socket when it closes). */
  | { kind: 'hang' };

/** What a proxy in front of the service answers: a status and a line of text, no Cognito error type. */
const STATUS_ONLY_BODIES = { 429: 'Too Many Requests', 503: 'Service Unavailable' } as const;

export class EmulatorCore {
  readonly stats = new StatsRecorder();
  readonly clock = new EmulatorClock();
  readonly model: CognitoModel;
  readonly identities: Identities;
  readonly quotas: QuotaLimiter;
  readonly faults: FaultInjector;
  private readonly sts: StsContext;
  private readonly findKey: AuthSettings['findKey'];
  /** Latency timers still pending, cancelled by close(). */
  private readonly sleepers = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  closed = false;

  constructor(
    readonly config: ConfigStore,
    ids: IdGenerator,
    private readonly stateFile?: string,
  ) {
    this.model = new CognitoModel(config.live.accountId, ids, () => config.live);
    this.identities = new Identities(config.credentials, () => config.live.accountId, ids);
    this.findKey = (accessKeyId) => this.identities.find(accessKeyId);
    this.sts = {
      identities: this.identities,
      stats: this.stats,
      clock: this.clock,
      defaultAccountId: () => config.live.accountId,
      verifySignatures: () => config.live.verifySignatures,
    };
    this.quotas = new QuotaLimiter(
      () => config.live.quotas,
      () => config.live.faults.backgroundLoad,
    );
    this.faults = new FaultInjector(() => config.live.faults, config.live.faultSeed);
  }

  /** Clears state (pools, seeded keys and roles, sessions), stats and quota windows and restarts the fault PRNG; keeps the config. */
  reset(): void {
    this.model.clear();
    this.identities.clear();
    this.stats.reset();
    this.quotas.reset();
    this.faults.reseed(this.config.live.faultSeed);
  }

  seed(body: unknown): SeedResult {
    return seedModel(this.model, this.identities, body);
  }

  dumpState(): EmulatorState {
    return { ...this.model.dump(), ...this.identities.dump() };
  }

  /** Replaces pools, seeded keys and roles with a dump's; on error nothing changes. */
  loadState(state: unknown): void {
    const parsed = parseState(state);
    this.model.load(parsed, () => this.identities.load(parsed.accessKeys ?? [], parsed.roles ?? []));
  }

  applyConfig(patch: unknown): void {
    const { reseeded } = this.config.apply(patch);
    if (reseeded) this.faults.reseed(this.config.live.faultSeed);
  }

  async saveState(): Promise<string> {
    if (!this.stateFile) throw cognitoError('InvalidConfigException', 'The emulator was started without a state file.');
    const temporary = `${this.stateFile}.${process.pid}.tmp`;
    await writeFile(temporary, JSON.stringify(this.dumpState()));
    await rename(temporary, this.stateFile);
    return this.stateFile;
  }

  close(): void {
    this.closed = true;
    for (const sleeper of this.sleepers) {
      clearTimeout(sleeper.timer);
      sleeper.resolve();
    }
    this.sleepers.clear();
  }

  async handleApiCall(request: ApiRequest): Promise<ApiAnswer> {
    if (isStsRequest(request)) return handleStsCall(request, this.sts);
    const requestId = randomUUID();
    let operation: OperationDefinition | undefined;
    try {
      operation = findOperation(request);
      const live = this.config.live;
      const caller = authenticate(request, {
        service: SERVICE,
        findKey: this.findKey,
        verifySignatures: live.verifySignatures,
        nowMs: Date.now(),
        clockMs: this.clock.now(),
      });
      const input = deserialize(operation.input, parseJson(request.body));
      const userPoolId = typeof input.UserPoolId === 'string' ? input.UserPoolId : undefined;
      const resource = `arn:aws:cognito-idp:${caller.region}:${caller.accountId}:userpool/${userPoolId ?? '*'}`;
      checkPolicy(caller, live.policies, operation.name, resource);

      const fault = this.faults.decide(operation.name);
      if (fault.spiked) this.stats.recordLatencySpike(operation.name);
      if (fault.latencyMs > 0) await this.sleep(fault.latencyMs);
      if (this.closed) return { kind: 'drop' };
      switch (fault.action.kind) {
        case 'dropBefore':
          this.stats.recordOutcome(operation.name, 'DroppedConnection');
          return { kind: 'drop' };
        case 'hang':
          if (fault.action.afterProcessing) break;
          this.stats.recordOutcome(operation.name, 'Hung');
          return { kind: 'hang' };
        case 'httpStatus':
          this.stats.recordOutcome(operation.name, `Http${fault.action.status}`);
          return { kind: 'respond', status: fault.action.status, headers: { 'content-type': 'text/plain' }, body: STATUS_ONLY_BODIES[fault.action.status] };
        case 'error':
          throw injectedError(fault.action.error);
      }

      const now = this.clock.now();
      const call = { accountId: caller.accountId, region: caller.region, category: operation.category, operation: operation.name, userPoolId };
      if (!this.quotas.tryAccept(call, now)) throw tooManyRequests();
      this.stats.recordAccepted(now, call);

      validateConstraints(operation.input, input);
      if (fault.action.kind === 'acknowledgeWithoutApplying') {
        this.stats.recordOutcome(operation.name, 'AcknowledgedWithoutApplying');
        return { kind: 'respond', status: 200, headers: { 'content-type': JSON_CONTENT_TYPE, 'x-amzn-requestid': requestId }, body: '{}' };
      }
      const result = operation.run(input, { model: this.model, stats: this.stats, accountId: caller.accountId, region: caller.region, nowMs: now });
      if (fault.action.kind === 'dropAfter') {
        this.stats.recordOutcome(operation.name, 'DroppedAfterProcessing');
        return { kind: 'drop' };
      }
      if (fault.action.kind === 'hang') {
        this.stats.recordOutcome(operation.name, 'HungAfterProcessing');
        return { kind: 'hang' };
      }
      this.stats.recordOutcome(operation.name, 'ok');
      return { kind: 'respond', status: 200, headers: { 'content-type': JSON_CONTENT_TYPE, 'x-amzn-requestid': requestId }, body: JSON.stringify(result) };
    } catch (caught) {
      const error = caught instanceof CognitoError ? caught : internalError();
      if (!(caught instanceof CognitoError)) console.error('emulator: unexpected error', caught);
      this.stats.recordOutcome(operation?.name ?? '(unknown)', error.type);
      return errorAnswer(error, requestId);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const sleeper = {
        timer: setTimeout(() => {
          this.sleepers.delete(sleeper);
          resolve();
        }, ms),
        resolve,
      };
      this.sleepers.add(sleeper);
    });
  }
}

export function errorAnswer(error: CognitoError, requestId: string = randomUUID()): ApiAnswer {
  return {
    kind: 'respond',
    status: error.status,
    headers: { 'content-type': JSON_CONTENT_TYPE, 'x-amzn-requestid': requestId, 'x-amzn-errortype': error.type },
    body: JSON.stringify({ __type: error.type, message: error.message }),
  };
}

function findOperation(request: ApiRequest): OperationDefinition {
  const target = request.headers['x-amz-target'];
  const name = typeof target === 'string' && target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : undefined;
  const operation = request.method === 'POST' && name !== undefined ? OPERATIONS.get(name) : undefined;
  if (!operation) {
    throw cognitoError('UnknownOperationException', `Unknown operation ${typeof target === 'string' ? target : '(no X-Amz-Target header)'}`);
  }
  return operation;
}

function parseJson(body: Buffer): unknown {
  // The SDK always sends at least '{}'; an empty body is read as no members.
  if (body.length === 0) return {};
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw serializationError(`Malformed JSON in the request body: ${(error as Error).message}`);
  }
}

/**
 * AWS STS AssumeRole, in the AWS Query protocol the SDK speaks, on the same
 * port as Cognito: a form-encoded POST (`Action=AssumeRole&Version=2011-06-15
 * &RoleArn=...&RoleSessionName=...`) answered with STS's XML.
 *
 * A role can be assumed when it was seeded, the caller's account is trusted
 * and the ExternalId matches when the role requires one; otherwise the answer
 * is AccessDenied naming the role, as STS words it. The temporary credentials
 * belong to the role's account and expire after DurationSeconds on the
 * emulator's clock.
 */
import { randomUUID } from 'node:crypto';
import { authenticate, scopedService } from './auth';
import type { EmulatorClock } from './clock';
import { CognitoError } from './errors';
import { parseRoleArn, roleId, type Identities } from './identities';
import type { StatsRecorder } from './stats';
import type { ApiAnswer, ApiRequest } from './core';
import { integer, string, structure, validateConstraints } from './validation';

export const STS_SERVICE = 'sts';
const VERSION = '2011-06-15';
const XMLNS = `https://sts.amazonaws.com/doc/${VERSION}/`;
const DEFAULT_DURATION_SECONDS = 3600;
const DEFAULT_MAX_SESSION_DURATION = 3600;

export interface StsContext {
  identities: Identities;
  stats: StatsRecorder;
  clock: EmulatorClock;
  defaultAccountId: () => string;
  verifySignatures: () => boolean;
}

/** STS's request: no X-Amz-Target, and a credential scoped to `sts` or a form body. */
export function isStsRequest(request: ApiRequest): boolean {
  if (request.headers['x-amz-target'] !== undefined) return false;
  return scopedService(request.headers) === STS_SERVICE || /^application\/x-www-form-urlencoded/i.test(request.headers['content-type'] ?? '');
}

/** STS's error codes and statuses; `Sender` errors are the caller's fault. */
class StsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
    readonly type: 'Sender' | 'Receiver' = 'Sender',
  ) {
    super(message);
  }
}

/** The same SigV4 problems as Cognito's, in STS's words. */
const AUTH_ERRORS: Record<string, { code: string; status: number }> = {
  UnrecognizedClientException: { code: 'InvalidClientTokenId', status: 403 },
  IncompleteSignatureException: { code: 'IncompleteSignature', status: 400 },
  InvalidSignatureException: { code: 'SignatureDoesNotMatch', status: 403 },
  ExpiredTokenException: { code: 'ExpiredToken', status: 400 },
};

const ASSUME_ROLE_INPUT = structure(
  {
    RoleArn: string({ min: 20, max: 2048 }),
    RoleSessionName: string({ min: 2, max: 64, pattern: '[\\w+=,.@-]*' }),
    ExternalId: string({ min: 2, max: 1224, pattern: '[\\w+=,.@:\\/-]*' }),
    DurationSeconds: integer(900, 43200),
  },
  ['RoleArn', 'RoleSessionName'],
);

export function handleStsCall(request: ApiRequest, context: StsContext): ApiAnswer {
  const requestId = randomUUID();
  const params = formParameters(request);
  const roleArn = params.get('RoleArn') ?? '(none)';
  try {
    const caller = authenticateStsCall(request, context);
    const action = params.get('Action');
    if (action !== 'AssumeRole' || params.get('Version') !== VERSION) {
      throw new StsError('InvalidAction', `Could not find operation ${action ?? '(no Action)'} for version ${params.get('Version') ?? '(no Version)'}`, 400);
    }
    const input = assumeRoleInput(params);
    const role = context.identities.role(input.RoleArn);
    const roleAccount = parseRoleArn(input.RoleArn)?.accountId;
    const trusted = role?.trustedAccounts ?? [context.defaultAccountId(), roleAccount];
    const externalIdMatches = role?.externalId === undefined || role.externalId === input.ExternalId;
    if (!role || !trusted.includes(caller.accountId) || !externalIdMatches) {
      throw new StsError('AccessDenied', `User: ${caller.arn} is not authorized to perform: sts:AssumeRole on resource: ${input.RoleArn}`, 403);
    }
    const duration = input.DurationSeconds ?? DEFAULT_DURATION_SECONDS;
    if (duration > (role.maxSessionDuration ?? DEFAULT_MAX_SESSION_DURATION)) {
      throw new StsError('ValidationError', 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.', 400);
    }
    // STS states expirations to the second; the session ends exactly then.
    const expiresAtMs = Math.floor((context.clock.now() + duration * 1000) / 1000) * 1000;
    const session = context.identities.createSession(input.RoleArn, input.RoleSessionName, expiresAtMs);
    context.stats.recordAssumeRole(input.RoleArn, 'ok');
    return xmlAnswer(200, requestId, assumeRoleResponse(session, roleId(input.RoleArn), input.RoleSessionName, expiresAtMs, requestId));
  } catch (caught) {
    const error = caught instanceof StsError ? caught : new StsError('InternalFailure', 'An internal error occurred.', 500, 'Receiver');
    if (!(caught instanceof StsError)) console.error('emulator: unexpected STS error', caught);
    context.stats.recordAssumeRole(roleArn, error.code);
    return xmlAnswer(error.status, requestId, errorResponse(error, requestId));
  }
}

function authenticateStsCall(request: ApiRequest, context: StsContext) {
  try {
    return authenticate(request, {
      service: STS_SERVICE,
      findKey: (accessKeyId) => context.identities.find(accessKeyId),
      verifySignatures: context.verifySignatures(),
      nowMs: Date.now(),
      clockMs: context.clock.now(),
    });
  } catch (error) {
    if (error instanceof CognitoError) {
      const mapped = AUTH_ERRORS[error.type] ?? { code: error.type, status: error.status };
      throw new StsError(mapped.code, error.message, mapped.status);
    }
    throw error;
  }
}

/** The body's form parameters, over any in the query string (the Query protocol allows both). */
function formParameters(request: ApiRequest): Map<string, string> {
  const params = new Map<string, string>();
  const query = request.url.indexOf('?');
  if (query >= 0) for (const [key, value] of new URLSearchParams(request.url.slice(query + 1))) params.set(key, value);
  for (const [key, value] of new URLSearchParams(request.body.toString('utf8'))) params.set(key, value);
  return params;
}

interface AssumeRoleInput {
  RoleArn: string;
  RoleSessionName: string;
  ExternalId?: string;
  DurationSeconds?: number;
}

function assumeRoleInput(params: Map<string, string>): AssumeRoleInput {
  const duration = params.get('DurationSeconds');
  if (duration !== undefined && !/^\d{1,9}$/.test(duration)) {
    throw new StsError('ValidationError', `Value '${duration}' at 'durationSeconds' failed to satisfy constraint: Member must be an integer`, 400);
  }
  const input: Record<string, unknown> = {};
  for (const name of ['RoleArn', 'RoleSessionName', 'ExternalId']) if (params.has(name)) input[name] = params.get(name);
  if (duration !== undefined) input.DurationSeconds = Number(duration);
  try {
    validateConstraints(ASSUME_ROLE_INPUT, input);
  } catch (error) {
    if (error instanceof CognitoError) throw new StsError('ValidationError', error.message, 400);
    throw error;
  }
  return input as unknown as AssumeRoleInput;
}

// ---- XML ----

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);
}

function element(name: string, content: string): string {
  return `<${name}>${content}</${name}>`;
}

function assumeRoleResponse(
  session: { accessKeyId: string; secretAccessKey: string; sessionToken?: string; arn: string },
  roleUniqueId: string,
  sessionName: string,
  expiresAtMs: number,
  requestId: string,
): string {
  const expiration = new Date(expiresAtMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return (
    `<AssumeRoleResponse xmlns="${XMLNS}">` +
    element(
      'AssumeRoleResult',
      element('AssumedRoleUser', element('AssumedRoleId', escapeXml(`${roleUniqueId}:${sessionName}`)) + element('Arn', escapeXml(session.arn))) +
        element(
          'Credentials',
          element('AccessKeyId', session.accessKeyId) +
            element('SecretAccessKey', escapeXml(session.secretAccessKey)) +
            element('SessionToken', escapeXml(session.sessionToken ?? '')) +
            element('Expiration', expiration),
        ),
    ) +
    element('ResponseMetadata', element('RequestId', requestId)) +
    '</AssumeRoleResponse>'
  );
}

function errorResponse(error: StsError, requestId: string): string {
  return (
    `<ErrorResponse xmlns="${XMLNS}">` +
    element('Error', element('Type', error.type) + element('Code', error.code) + element('Message', escapeXml(error.message))) +
    element('RequestId', requestId) +
    '</ErrorResponse>'
  );
}

function xmlAnswer(status: number, requestId: string, body: string): ApiAnswer {
  return { kind: 'respond', status, headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId }, body };
}

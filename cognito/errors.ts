/**
 * The one place that decides what an error from Cognito means: retry it,
 * treat the resource server as already absent, treat its user pool as missing,
 * or fail. Everything else asks this module.
 */

/**
 * - `retry`: throttling, internal errors, timeouts and connection failures: a later try can succeed.
 * - `absent`: the resource server (or app client) does not exist.
 * - `pool-absent`: the user pool itself does not exist as asked (another Region,
 *   another account's credentials, a typo). Never "already absent": nothing of
 *   ours was there to delete, and the operator's list is wrong.
 * - `fail`: anything else (access denied, invalid parameters, hard quotas).
 */
export type ErrorDisposition = 'retry' | 'absent' | 'pool-absent' | 'fail';

export interface ClassifiedError {
  disposition: ErrorDisposition;
  /** The AWS error code (`TooManyRequestsException`) or a network error code. */
  code: string;
  message: string;
  /** True when Cognito said we are going too fast: the limiter should slow down. */
  throttled: boolean;
  httpStatus?: number;
  requestId?: string;
}

/**
 * Errors Cognito returns when a retry can succeed; ExpiredTokenException (an
 * assumed role's credentials ran out: cognito/access.ts renews them) and STS's
 * own throttling too, neither of them a sign of Cognito's quota.
 */
const RETRYABLE_CODES = new Set(['TooManyRequestsException', 'InternalErrorException', 'ExpiredTokenException', 'ExpiredToken', 'Throttling']);
const RETRYABLE_STATUSES = new Set([500, 502, 503, 504]);
/** HTTP 429 is throttling whatever the body says. */
const THROTTLING_STATUS = 429;
/** Connection-level failures: the request may or may not have reached Cognito. */
const NETWORK_CODES = new Set([
  'ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH',
  'TimeoutError', 'RequestTimeout', 'NetworkingError',
]);
/** Cognito's message for a user pool that does not exist: "User pool us-east-1_AbC does not exist." */
const POOL_MISSING_MESSAGE = /^User pool \S+ does not exist/i;

interface AwsLikeError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number; requestId?: string };
}

export function classifyCognitoError(err: unknown): ClassifiedError {
  const e = (typeof err === 'object' && err !== null ? err : {}) as AwsLikeError;
  const code = e.name && e.name !== 'Error' ? e.name : e.code ?? 'UnknownError';
  const message = String(e.message ?? err);
  const httpStatus = e.$metadata?.httpStatusCode;
  const requestId = e.$metadata?.requestId;
  const base = { code, message, httpStatus, requestId };

  if (code === 'ResourceNotFoundException') {
    return { ...base, disposition: POOL_MISSING_MESSAGE.test(message) ? 'pool-absent' : 'absent', throttled: false };
  }
  if (code === 'TooManyRequestsException' || httpStatus === THROTTLING_STATUS) return { ...base, disposition: 'retry', throttled: true };
  // A 400 InternalErrorException would be odd, but Cognito documents the code as
  // transient whatever the status, so the code decides.
  if (RETRYABLE_CODES.has(code)) return { ...base, disposition: 'retry', throttled: false };
  // LimitExceededException is a hard quota in Cognito (the SDK would retry it as
  // throttling): it fails the item, like InvalidParameter, NotAuthorized,
  // AccessDenied and OperationNotEnabled.
  if (httpStatus !== undefined && RETRYABLE_STATUSES.has(httpStatus)) {
    return { ...base, disposition: 'retry', throttled: false };
  }
  const errno = e.code;
  if (NETWORK_CODES.has(code) || (errno && NETWORK_CODES.has(errno))) {
    return { ...base, code: errno ?? code, disposition: 'retry', throttled: false };
  }
  return { ...base, disposition: 'fail', throttled: false };
}

/**
 * Whether a DeleteResourceServer that ended with this error may still have been
 * applied: a timeout, a dropped connection or a 5xx may hide a delete that went
 * through; a 4xx answer (throttled, denied, invalid) says it was not.
 */
export function deleteMayHaveApplied(error: ClassifiedError): boolean {
  if (error.httpStatus !== undefined) return error.httpStatus >= 500;
  return error.disposition === 'retry';
}

/**
 * The one place that decides what an error from Cognito means for a delete:
 * retry it (Temporal's retry policy), treat the server as already absent, or
 * fail the item. Everything else asks this module.
 */

export type ErrorDisposition = 'retry' | 'absent' | 'fail';

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

/** Errors Cognito returns when a retry can succeed. */
const RETRYABLE_CODES = new Set(['TooManyRequestsException', 'InternalErrorException']);
const RETRYABLE_STATUSES = new Set([500, 502, 503, 504]);
/** Connection-level failures: the request may or may not have reached Cognito. */
const NETWORK_CODES = new Set([
  'ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND',
  'TimeoutError', 'RequestTimeout', 'NetworkingError',
]);

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

  if (code === 'ResourceNotFoundException') return { ...base, disposition: 'absent', throttled: false };
  if (code === 'TooManyRequestsException') return { ...base, disposition: 'retry', throttled: true };
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

/**
 * The errors the emulator answers with, in Cognito's words.
 *
 * One class carries the wire type, the HTTP status and the message, so every
 * layer (auth, validation, model, faults, quotas) throws the same thing and the
 * server turns it into the AWS JSON 1.1 error shape in one place.
 */

export class CognitoError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status: number = 400,
  ) {
    super(message);
    this.name = type;
  }
}

/** HTTP status Cognito uses for each error type the emulator can produce. */
const STATUS_BY_TYPE: Record<string, number> = {
  InternalErrorException: 500,
  RequestEntityTooLargeException: 413,
};

export function cognitoError(type: string, message: string): CognitoError {
  return new CognitoError(type, message, STATUS_BY_TYPE[type] ?? 400);
}

export const tooManyRequests = (): CognitoError => cognitoError('TooManyRequestsException', 'Rate exceeded');

export const internalError = (): CognitoError => cognitoError('InternalErrorException', 'Internal server error.');

export const resourceNotFound = (message: string): CognitoError => cognitoError('ResourceNotFoundException', message);

export const invalidParameter = (message: string): CognitoError => cognitoError('InvalidParameterException', message);

export const serializationError = (message: string): CognitoError => cognitoError('SerializationException', message);

/**
 * Error types that faults (random or "fail the next N") may inject. The status
 * matters for the SDK's retry decision, so it is fixed per type as Cognito sends it.
 */
export const INJECTABLE_ERRORS = {
  TooManyRequestsException: 'Rate exceeded',
  InternalErrorException: 'Internal server error.',
  NotAuthorizedException: 'Not authorized to perform this operation.',
  LimitExceededException: 'Limit exceeded for requested resource.',
  ResourceNotFoundException: 'Resource not found.',
  InvalidParameterException: 'Invalid parameter.',
  ConcurrentModificationException: 'Concurrent modification detected.',
} as const;

export type InjectableErrorType = keyof typeof INJECTABLE_ERRORS;

export function injectedError(type: InjectableErrorType): CognitoError {
  return cognitoError(type, INJECTABLE_ERRORS[type]);
}

import { describe, expect, it } from 'vitest';
import {
  InternalErrorException,
  InvalidParameterException,
  LimitExceededException,
  NotAuthorizedException,
  ResourceNotFoundException,
  TooManyRequestsException,
} from '@aws-sdk/client-cognito-identity-provider';
import { classifyCognitoError, deleteMayHaveApplied } from '../../cognito/errors';

const meta = (status: number) => ({ $metadata: { httpStatusCode: status, requestId: 'req-1' }, message: 'm' });

describe('classifyCognitoError', () => {
  it.each([
    [new TooManyRequestsException(meta(400)), 'retry', true],
    [new InternalErrorException(meta(500)), 'retry', false],
    [new ResourceNotFoundException(meta(400)), 'absent', false],
    [new LimitExceededException(meta(400)), 'fail', false],
    [new InvalidParameterException(meta(400)), 'fail', false],
    [new NotAuthorizedException(meta(400)), 'fail', false],
  ])('%s -> %s', (err, disposition, throttled) => {
    const c = classifyCognitoError(err);
    expect(c).toMatchObject({ disposition, throttled, requestId: 'req-1', code: err.name });
  });

  it('fails modeled-less 400s such as AccessDeniedException, and retries unknown 5xx', () => {
    expect(classifyCognitoError(Object.assign(new Error('no'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } })).disposition).toBe('fail');
    expect(classifyCognitoError(Object.assign(new Error('bad gateway'), { name: 'Unknown', $metadata: { httpStatusCode: 502 } })).disposition).toBe('retry');
  });

  it('retries connection failures, naming them by their errno code', () => {
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    expect(classifyCognitoError(reset)).toMatchObject({ disposition: 'retry', code: 'ECONNRESET' });
    expect(classifyCognitoError(Object.assign(new Error('t'), { name: 'TimeoutError' })).disposition).toBe('retry');
  });

  it('fails what it does not know', () => {
    expect(classifyCognitoError('weird').disposition).toBe('fail');
  });
});

describe('classifyCognitoError: missing pools, timeouts and unreachable networks', () => {
  it('tells a missing user pool from a missing resource server', () => {
    const pool = new ResourceNotFoundException({ ...meta(400), message: 'User pool eu-west-1_4wQ015vzn does not exist.' });
    const server = new ResourceNotFoundException({ ...meta(400), message: 'Resource server https://x does not exist in user pool us-east-1_A.' });
    expect(classifyCognitoError(pool).disposition).toBe('pool-absent');
    expect(classifyCognitoError(server).disposition).toBe('absent');
  });

  it('retries the handler timeout (throwOnRequestTimeout), EHOSTUNREACH, ENETUNREACH and HTTP 429', () => {
    const timeout = Object.assign(new Error('a request has exceeded the configured 800 ms requestTimeout.'), { name: 'TimeoutError', code: 'ETIMEDOUT' });
    expect(classifyCognitoError(timeout)).toMatchObject({ disposition: 'retry', code: 'ETIMEDOUT', throttled: false });
    for (const errno of ['EHOSTUNREACH', 'ENETUNREACH']) {
      expect(classifyCognitoError(Object.assign(new Error(errno), { code: errno }))).toMatchObject({ disposition: 'retry', code: errno });
    }
    const tooMany = Object.assign(new Error('slow down'), { name: 'Unknown', $metadata: { httpStatusCode: 429 } });
    expect(classifyCognitoError(tooMany)).toMatchObject({ disposition: 'retry', throttled: true });
  });

  it('knows which failed deletes may still have been applied', () => {
    expect(deleteMayHaveApplied(classifyCognitoError(new TooManyRequestsException(meta(400))))).toBe(false);
    expect(deleteMayHaveApplied(classifyCognitoError(new InternalErrorException(meta(500))))).toBe(true);
    expect(deleteMayHaveApplied(classifyCognitoError(Object.assign(new Error('reset'), { code: 'ECONNRESET' })))).toBe(true);
  });
});

import { describe, expect, it } from 'vitest';
import {
  InternalErrorException,
  InvalidParameterException,
  LimitExceededException,
  NotAuthorizedException,
  ResourceNotFoundException,
  TooManyRequestsException,
} from '@aws-sdk/client-cognito-identity-provider';
import { classifyCognitoError } from '../../cognito/errors';

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

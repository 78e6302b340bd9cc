/**
 * Shared helpers for the emulator tests: an SDK client pointed at an emulator,
 * raw AWS JSON 1.1 calls (for what the SDK would never send), and error capture.
 */
import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { DEFAULT_TEST_CREDENTIALS, type RunningEmulator } from '../../emulator';

export function sdkClient(
  emulator: RunningEmulator,
  options: { region?: string; maxAttempts?: number; credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } } = {},
): CognitoIdentityProviderClient {
  return new CognitoIdentityProviderClient({
    region: options.region ?? 'us-east-1',
    endpoint: emulator.url,
    // A copy: the SDK marks the credentials object it is given (`$source`).
    credentials: { ...(options.credentials ?? DEFAULT_TEST_CREDENTIALS) },
    maxAttempts: options.maxAttempts ?? 3,
  });
}

export interface CaughtError {
  name: string;
  message: string;
  status?: number;
  attempts?: number;
  code?: string;
}

/** Runs the call and returns what it threw; fails the test if it succeeded. */
export async function caught(call: Promise<unknown>): Promise<CaughtError> {
  try {
    await call;
  } catch (error) {
    const e = error as Error & { $metadata?: { httpStatusCode?: number; attempts?: number }; code?: string };
    return { name: e.name, message: e.message, status: e.$metadata?.httpStatusCode, attempts: e.$metadata?.attempts, code: e.code };
  }
  throw new Error('expected the call to fail, but it succeeded');
}

export function amzDate(ms = Date.now()): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

/** A well-formed (not cryptographically valid) SigV4 Authorization header. */
export function authorizationHeader(options: { accessKeyId?: string; region?: string; service?: string; date?: string; signedHeaders?: string } = {}): string {
  const date = options.date ?? amzDate().slice(0, 8);
  const scope = `${options.accessKeyId ?? DEFAULT_TEST_CREDENTIALS.accessKeyId}/${date}/${options.region ?? 'us-east-1'}/${options.service ?? 'cognito-idp'}/aws4_request`;
  const signedHeaders = options.signedHeaders ?? 'content-type;host;x-amz-date;x-amz-target';
  return `AWS4-HMAC-SHA256 Credential=${scope}, SignedHeaders=${signedHeaders}, Signature=${'0'.repeat(64)}`;
}

export interface RawResponse {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

/** POST / with AWS JSON 1.1 headers; `headers` entries set to null are left out. */
export async function rawCall(
  emulator: RunningEmulator,
  operation: string,
  body: string | Buffer | object,
  headers: Record<string, string | null> = {},
): Promise<RawResponse> {
  const all: Record<string, string | null> = {
    'content-type': 'application/x-amz-json-1.1',
    'x-amz-target': `AWSCognitoIdentityProviderService.${operation}`,
    'x-amz-date': amzDate(),
    authorization: authorizationHeader(),
    ...headers,
  };
  const sent: Record<string, string> = {};
  for (const [key, value] of Object.entries(all)) if (value !== null) sent[key] = value;
  const response = await fetch(emulator.url, {
    method: 'POST',
    headers: sent,
    body: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

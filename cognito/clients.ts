/**
 * One CognitoIdentityProviderClient per Region, built once and reused. The
 * Region is the prefix of the user pool ID (`us-east-1_AbC123`).
 *
 * The SDK's own retries are off (maxAttempts: 1): Temporal's retry policy owns
 * every retry, so each one is visible in the workflow history and the audit,
 * and LimitExceededException (which the SDK would retry as throttling, but is a
 * hard quota in Cognito) is never retried.
 */
import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { regionOfUserPoolId } from '../common/cognito-rules';
import { COGNITO_CALL_DEFAULTS } from '../common/options';

export interface CognitoClientOptions {
  /** Endpoint override, e.g. the local emulator; AWS when absent. */
  endpoint?: string;
  /** Per-request timeout; a hung connection becomes a retryable error. */
  requestTimeoutMs?: number;
}

export class CognitoClients {
  private readonly clients = new Map<string, CognitoIdentityProviderClient>();

  constructor(private readonly options: CognitoClientOptions = {}) {}

  forUserPool(userPoolId: string): CognitoIdentityProviderClient {
    return this.forRegion(regionOfUserPoolId(userPoolId));
  }

  forRegion(region: string): CognitoIdentityProviderClient {
    let client = this.clients.get(region);
    if (!client) {
      client = new CognitoIdentityProviderClient({
        region,
        maxAttempts: 1,
        ...(this.options.endpoint ? { endpoint: this.options.endpoint } : {}),
        requestHandler: {
          requestTimeout: this.options.requestTimeoutMs ?? COGNITO_CALL_DEFAULTS.requestTimeoutMs,
          // Without it the handler (@smithy/node-http-handler 4.x) only logs a warning
          // when requestTimeout passes, and a hung socket waits for the 300 s socket
          // timeout. With it the call fails with TimeoutError (ETIMEDOUT): retryable.
          throwOnRequestTimeout: true,
          connectionTimeout: COGNITO_CALL_DEFAULTS.connectionTimeoutMs,
        },
      });
      this.clients.set(region, client);
    }
    return client;
  }

  destroy(): void {
    for (const client of this.clients.values()) client.destroy();
    this.clients.clear();
  }
}

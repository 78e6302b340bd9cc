/**
 * One CognitoIdentityProviderClient per Region and credentials (the worker's
 * own, or a role assumed in an item's account), built once and reused. The
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
import { AccountCredentials, roleKey, type AssumedRole } from './credentials';

/** A client whose credentials were renewed is closed this long after (its last calls finish first). */
const RETIRED_CLIENT_GRACE_MS = 60_000;

export interface CognitoClientOptions {
  /** Endpoint override, e.g. the local emulator (which answers STS too); AWS when absent. */
  endpoint?: string;
  /** Per-request timeout; a hung connection becomes a retryable error. */
  requestTimeoutMs?: number;
}

export class CognitoClients {
  private readonly clients = new Map<string, CognitoIdentityProviderClient>();
  readonly credentials: AccountCredentials;

  constructor(private readonly options: CognitoClientOptions = {}) {
    this.credentials = new AccountCredentials(options.endpoint ? { endpoint: options.endpoint } : {});
  }

  forUserPool(userPoolId: string): CognitoIdentityProviderClient {
    return this.forRegion(regionOfUserPoolId(userPoolId));
  }

  forRegion(region: string, role?: AssumedRole): CognitoIdentityProviderClient {
    const key = `${region}\n${role ? roleKey(role) : ''}`;
    let client = this.clients.get(key);
    if (!client) {
      client = new CognitoIdentityProviderClient({
        region,
        maxAttempts: 1,
        ...(this.options.endpoint ? { endpoint: this.options.endpoint } : {}),
        ...(role ? { credentials: this.credentials.provider(role) } : {}),
        requestHandler: {
          requestTimeout: this.options.requestTimeoutMs ?? COGNITO_CALL_DEFAULTS.requestTimeoutMs,
          // Without it the handler (@smithy/node-http-handler 4.x) only logs a warning
          // when requestTimeout passes, and a hung socket waits for the 300 s socket
          // timeout. With it the call fails with TimeoutError (ETIMEDOUT): retryable.
          throwOnRequestTimeout: true,
          connectionTimeout: COGNITO_CALL_DEFAULTS.connectionTimeoutMs,
        },
      });
      this.clients.set(key, client);
    }
    return client;
  }

  /**
   * Cognito said the role's credentials expired: forget them, and the clients
   * that hold them (a client keeps the credentials it got until they expire
   * by its own clock), so the next call assumes the role again.
   */
  renew(role: AssumedRole): void {
    this.credentials.invalidate(role);
    const suffix = `\n${roleKey(role)}`;
    for (const [key, client] of this.clients) {
      if (!key.endsWith(suffix)) continue;
      this.clients.delete(key);
      // Calls may still be on their way through it: close it once they are done.
      setTimeout(() => client.destroy(), RETIRED_CLIENT_GRACE_MS).unref();
    }
  }

  destroy(): void {
    for (const client of this.clients.values()) client.destroy();
    this.clients.clear();
  }
}

/**
 * No AWS credentials at all is an everyday mistake on a laptop. The embedded
 * worker would meet it at its first Cognito call and fail the run with an
 * error that reads like a missing IAM permission; say it before anything
 * starts instead, and say how to provide them.
 */
import { UsageError } from './exit-codes';
import { collapseWhitespace } from '../common/display-text';

export const PROVIDE_CREDENTIALS =
  'provide them with AWS_PROFILE (after `aws configure` or `aws sso login`), with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or with an IAM role';

/** True for the AWS SDK's "no credentials" error, or a failure message or type that carries it. */
export function isMissingCredentials(error: { name?: string; type?: string | null; message?: string } | undefined): boolean {
  if (!error) return false;
  return [error.name, error.type ?? undefined, error.message].some((text) => text?.includes('CredentialsProviderError'));
}

/**
 * Resolves the default credential chain, as the worker's Cognito clients
 * will. Throws a UsageError when the chain finds nothing (or fails); returns when it
 * finds credentials or cannot decide within `timeoutMs` (the run then goes on
 * and meets whatever the chain finds).
 */
export async function requireAwsCredentials(timeoutMs: number): Promise<void> {
  // Loaded here: the commands that only read this module's wording never need the SDK.
  const { CognitoIdentityProviderClient } = await import('@aws-sdk/client-cognito-identity-provider');
  const client = new CognitoIdentityProviderClient({ region: 'us-east-1' });
  let timer: NodeJS.Timeout | undefined;
  try {
    // Settles either way, so a chain that answers after the timeout leaves no unhandled rejection behind.
    const resolved = Promise.resolve()
      .then(() => client.config.credentials())
      .then(
        () => undefined,
        (err: unknown) => err as Error,
      );
    const undecided = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), timeoutMs);
    });
    const error = await Promise.race([resolved, undecided]);
    if (!error) return;
    const found = isMissingCredentials(error) ? 'found none' : 'could not load them';
    throw new UsageError(
      `no AWS credentials: the embedded worker calls Cognito with the AWS SDK's default credential chain, which ${found} (${collapseWhitespace(error.message)}); ` +
        `${PROVIDE_CREDENTIALS}. Nothing was deleted`,
    );
  } finally {
    clearTimeout(timer);
    client.destroy();
  }
}


/**
 * SigV4 authentication and the deny policies.
 *
 * The Authorization header is parsed as strictly as AWS does (algorithm, the
 * three parameters, a 5-part credential scoped to the service, a signed Host,
 * X-Amz-Date matching the scope and within 5 minutes). The Region of the call
 * is the scope's Region, its account the account of the access key.
 * Signatures are checked cryptographically only when `verifySignatures` is on,
 * so load generators may send a well-formed header with any signature.
 * Temporary (AssumeRole) keys also need their session token in
 * X-Amz-Security-Token and must not have expired; for long-term keys the
 * header is ignored.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { cognitoError, CognitoError } from './errors';
import type { Principal } from './identities';
import type { Policy } from './types';

export const SERVICE = 'cognito-idp';
const ALGORITHM = 'AWS4-HMAC-SHA256';
const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;

export interface Caller {
  accessKeyId: string;
  /** The account of the access key. */
  accountId: string;
  /** An IAM user or an assumed-role session, as AccessDenied messages name it. */
  arn: string;
  /** Session credentials only. */
  roleArn?: string;
  /** From the credential scope: the Region this call is made in. */
  region: string;
}

export interface SignedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  /** Node's rawHeaders: name, value, name, value... (needed to rebuild the canonical request). */
  rawHeaders: string[];
  body: Buffer;
}

export interface AuthSettings {
  /** The service the credential scope must name. */
  service: string;
  findKey(accessKeyId: string): Principal | undefined;
  verifySignatures: boolean;
  /** The machine's clock, for the skew check against the client's X-Amz-Date. */
  nowMs: number;
  /** The emulator's clock, for the expiry of temporary credentials. */
  clockMs: number;
}

interface ParsedAuthorization {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  terminator: string;
  signedHeaders: string[];
  signature: string;
}

const invalidToken = (): CognitoError => cognitoError('UnrecognizedClientException', 'The security token included in the request is invalid.');
const incomplete = (message: string): CognitoError => cognitoError('IncompleteSignatureException', message);
const invalidSignature = (message: string): CognitoError => cognitoError('InvalidSignatureException', message);
const expiredToken = (): CognitoError => cognitoError('ExpiredTokenException', 'The security token included in the request is expired');

/** The service named in the Authorization header's credential scope, if the header has one. */
export function scopedService(headers: IncomingHttpHeaders): string | undefined {
  const match = /Credential=[^/,\s]*\/\d{8}\/[^/,\s]*\/([^/,\s]+)\//.exec(headers.authorization ?? '');
  return match?.[1];
}

export function authenticate(request: SignedRequest, settings: AuthSettings): Caller {
  const header = request.headers.authorization;
  if (header === undefined || header.trim() === '') throw invalidToken();
  const auth = parseAuthorization(header);

  const amzDate = request.headers['x-amz-date'];
  if (typeof amzDate !== 'string') {
    throw incomplete(`Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=${header}`);
  }
  if (!/^\d{8}T\d{6}Z$/.test(amzDate)) throw incomplete(`X-Amz-Date must be in ISO-8601 basic format (yyyyMMddTHHmmssZ), got '${amzDate}'.`);
  for (const name of auth.signedHeaders) {
    if (request.headers[name] === undefined) throw incomplete(`Header '${name}' is listed in SignedHeaders but missing from the request.`);
  }

  if (auth.service !== settings.service) throw invalidSignature(`Credential should be scoped to correct service: '${settings.service}'. `);
  if (auth.terminator !== 'aws4_request') throw invalidSignature(`Credential should be scoped with a valid terminator: 'aws4_request', not '${auth.terminator}'. `);
  if (!/^[a-z]{2}(-[a-z0-9]+)+$/.test(auth.region)) throw invalidSignature(`Credential should be scoped to a valid region, not '${auth.region}'. `);

  const principal = settings.findKey(auth.accessKeyId);
  if (!principal) throw invalidToken();

  if (amzDate.slice(0, 8) !== auth.date) {
    throw invalidSignature(`Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${auth.date}' != '${amzDate.slice(0, 8)}', from '${amzDate}'.`);
  }
  const signedAt = parseAmzDate(amzDate);
  if (signedAt < settings.nowMs - MAX_CLOCK_SKEW_MS) {
    throw invalidSignature(`Signature expired: ${amzDate} is now earlier than ${formatAmzDate(settings.nowMs - MAX_CLOCK_SKEW_MS)} (${formatAmzDate(settings.nowMs)} - 5 min.)`);
  }
  if (signedAt > settings.nowMs + MAX_CLOCK_SKEW_MS) {
    throw invalidSignature(`Signature not yet current: ${amzDate} is still later than ${formatAmzDate(settings.nowMs + MAX_CLOCK_SKEW_MS)} (${formatAmzDate(settings.nowMs)} + 5 min.)`);
  }

  if (settings.verifySignatures) {
    const expected = computeSignature(request, auth, amzDate, principal.secretAccessKey);
    if (!timingSafeEqual(Buffer.from(expected), Buffer.from(auth.signature))) {
      throw invalidSignature(
        'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
      );
    }
  }
  if (principal.sessionToken !== undefined) {
    if (request.headers['x-amz-security-token'] !== principal.sessionToken) throw invalidToken();
    if (settings.clockMs >= principal.expiresAtMs!) throw expiredToken();
  }
  return { accessKeyId: principal.accessKeyId, accountId: principal.accountId, arn: principal.arn, roleArn: principal.roleArn, region: auth.region };
}

/** `AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/cognito-idp/aws4_request, SignedHeaders=host;x-amz-date, Signature=<64 hex>` */
export function parseAuthorization(header: string): ParsedAuthorization {
  const space = header.indexOf(' ');
  const algorithm = space < 0 ? header : header.slice(0, space);
  const rest = space < 0 ? '' : header.slice(space + 1);
  if (algorithm !== ALGORITHM) {
    throw incomplete(`Unsupported AWS 'algorithm': '${algorithm}'. Authorization=${header}`);
  }
  const params = new Map<string, string>();
  for (const part of rest.split(',')) {
    const trimmed = part.trim();
    const eq = trimmed.indexOf('=');
    if (eq <= 0) throw incomplete(`'${trimmed}' not a valid key=value pair (missing equal-sign) in Authorization header: '${header}'.`);
    const key = trimmed.slice(0, eq);
    if (params.has(key)) throw incomplete(`Authorization header has a duplicate '${key}' parameter. Authorization=${header}`);
    params.set(key, trimmed.slice(eq + 1));
  }
  const missing = ['Credential', 'Signature', 'SignedHeaders'].filter((key) => !params.get(key));
  if (missing.length > 0) {
    throw incomplete(`${missing.map((key) => `Authorization header requires '${key}' parameter.`).join(' ')} Authorization=${header}`);
  }

  const credential = params.get('Credential')!;
  const scope = credential.split('/');
  if (scope.length !== 5 || scope.some((element) => element === '')) {
    throw incomplete(`Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '${credential}'`);
  }
  const [accessKeyId, date, region, service, terminator] = scope as [string, string, string, string, string];
  if (!/^\d{8}$/.test(date)) throw incomplete(`Credential date must be yyyyMMdd, got '${date}'.`);

  const signedHeadersText = params.get('SignedHeaders')!;
  if (!/^[a-z0-9-]+(;[a-z0-9-]+)*$/.test(signedHeadersText)) throw incomplete(`SignedHeaders must be lowercase header names separated by ';', got '${signedHeadersText}'.`);
  const signedHeaders = signedHeadersText.split(';');
  if (!signedHeaders.includes('host')) throw incomplete(`'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.`);

  const signature = params.get('Signature')!;
  if (!/^[0-9a-f]{64}$/.test(signature)) throw incomplete(`Signature must be 64 lowercase hexadecimal characters. Authorization=${header}`);

  return { accessKeyId, date, region, service, terminator, signedHeaders, signature };
}

function parseAmzDate(text: string): number {
  return Date.UTC(+text.slice(0, 4), +text.slice(4, 6) - 1, +text.slice(6, 8), +text.slice(9, 11), +text.slice(11, 13), +text.slice(13, 15));
}

export function formatAmzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

// ---- SigV4 signature (only with verifySignatures) ----

function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function canonicalQuery(query: string): string {
  if (query === '') return '';
  return query
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const key = decodeURIComponent(eq < 0 ? pair : pair.slice(0, eq));
      const value = eq < 0 ? '' : decodeURIComponent(pair.slice(eq + 1));
      return [uriEncode(key), uriEncode(value)] as const;
    })
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([key, value]) => `${key}=${value}`)
    .join('&');
}

function computeSignature(request: SignedRequest, auth: ParsedAuthorization, amzDate: string, secret: string): string {
  const values = new Map<string, string[]>();
  for (let i = 0; i + 1 < request.rawHeaders.length; i += 2) {
    const name = request.rawHeaders[i]!.toLowerCase();
    const list = values.get(name) ?? [];
    list.push(request.rawHeaders[i + 1]!.trim().replace(/\s+/g, ' '));
    values.set(name, list);
  }
  const canonicalHeaders = auth.signedHeaders.map((name) => `${name}:${(values.get(name) ?? []).join(',')}\n`).join('');
  const [path = '/', query = ''] = request.url.split('?', 2);
  const payloadHash = (request.headers['x-amz-content-sha256'] as string | undefined) ?? createHash('sha256').update(request.body).digest('hex');
  const canonicalRequest = [
    request.method,
    path.split('/').map((segment) => uriEncode(decodeURIComponent(segment))).join('/'),
    canonicalQuery(query),
    canonicalHeaders,
    auth.signedHeaders.join(';'),
    payloadHash,
  ].join('\n');
  const scope = `${auth.date}/${auth.region}/${auth.service}/${auth.terminator}`;
  const stringToSign = [ALGORITHM, amzDate, scope, createHash('sha256').update(canonicalRequest).digest('hex')].join('\n');
  let key: Buffer = createHmac('sha256', `AWS4${secret}`).update(auth.date).digest();
  for (const part of [auth.region, auth.service, auth.terminator]) key = createHmac('sha256', key).update(part).digest();
  return createHmac('sha256', key).update(stringToSign).digest('hex');
}

// ---- Authorization ----

/**
 * An explicit deny for this key (or the role of its session) and operation,
 * like an IAM policy with Effect: Deny.
 */
export function checkPolicy(caller: Caller, policies: Readonly<Record<string, Policy>>, operation: string, resourceArn: string): void {
  const deny = (policies[caller.accessKeyId] ?? (caller.roleArn !== undefined ? policies[caller.roleArn] : undefined))?.deny;
  if (!deny) return;
  const action = `${SERVICE}:${operation}`;
  if (deny.some((rule) => rule === '*' || rule === operation || rule === action || rule === `${SERVICE}:*`)) {
    throw cognitoError(
      'AccessDeniedException',
      `User: ${caller.arn} is not authorized to perform: ${action} on resource: ${resourceArn} with an explicit deny in an identity-based policy`,
    );
  }
}

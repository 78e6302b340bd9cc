/**
 * Input shapes of the modeled operations and the two checks AWS applies to them,
 * in the same order as the real service front end:
 *
 * 1. deserialization: a JSON value of the wrong type is a SerializationException
 *    (the request never reaches the service);
 * 2. constraints: lengths, patterns, ranges, enums and required members, all
 *    reported at once as one InvalidParameterException in AWS's words
 *    ("2 validation errors detected: Value 'x' at 'identifier' failed to ...").
 *
 * The shapes copy the service model (min/max/pattern/required) so the emulator
 * rejects exactly what Cognito rejects at this layer.
 */
import { invalidParameter, serializationError } from './errors';

export type Shape =
  | StringShape
  | { type: 'integer'; min?: number; max?: number }
  /** Any JSON number (dates in state dumps are epoch seconds with a fraction). */
  | { type: 'number' }
  | { type: 'boolean' }
  | { type: 'list'; member: Shape; min?: number; max?: number }
  | StructureShape
  | { type: 'map'; value: Shape }
  /** A member the emulator accepts but does not model (e.g. CreateUserPool's LambdaConfig). */
  | { type: 'document' };

export interface StringShape {
  type: 'string';
  min?: number;
  max?: number;
  /** The pattern as the service model writes it; shown verbatim in messages. */
  pattern?: string;
  regex?: RegExp;
  enum?: readonly string[];
  /** Sensitive members (client ids, secrets) are never echoed back in messages. */
  sensitive?: boolean;
}

export interface StructureShape {
  type: 'structure';
  members: Record<string, Shape>;
  required?: readonly string[];
}

export function string(options: Omit<StringShape, 'type' | 'regex'> = {}): StringShape {
  const shape: StringShape = { type: 'string', ...options };
  // Java's Matcher.matches() semantics: the whole value must match.
  if (options.pattern) shape.regex = new RegExp(`^(?:${options.pattern})$`, 'u');
  return shape;
}

export const integer = (min?: number, max?: number): Shape => ({ type: 'integer', min, max });
export const number = (): Shape => ({ type: 'number' });
export const boolean = (): Shape => ({ type: 'boolean' });
export const list = (member: Shape, max?: number, min?: number): Shape => ({ type: 'list', member, max, min });
export const structure = (members: Record<string, Shape>, required: readonly string[] = []): StructureShape => ({
  type: 'structure',
  members,
  required,
});
export const map = (value: Shape): Shape => ({ type: 'map', value });
export const document = (): Shape => ({ type: 'document' });

/** Checks JSON types and returns a copy holding only modeled members; nulls count as absent. */
export function deserialize(shape: StructureShape, body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw serializationError('Start of structure or map found where not expected.');
  }
  return readValue(shape, body) as Record<string, unknown>;
}

function jsonKind(value: unknown): string {
  if (Array.isArray(value)) return 'START_ARRAY';
  if (typeof value === 'object') return 'START_OBJECT';
  if (typeof value === 'string') return 'STRING_VALUE';
  if (typeof value === 'number') return 'NUMBER_VALUE';
  if (typeof value === 'boolean') return value ? 'TRUE_VALUE' : 'FALSE_VALUE';
  return 'VALUE';
}

function wrongType(value: unknown, expected: string): never {
  if (Array.isArray(value)) throw serializationError('Start of list found where not expected.');
  if (typeof value === 'object') throw serializationError('Start of structure or map found where not expected.');
  throw serializationError(`${jsonKind(value)} can not be converted to ${expected}`);
}

function readValue(shape: Shape, value: unknown): unknown {
  switch (shape.type) {
    case 'string':
      if (typeof value !== 'string') wrongType(value, 'a String');
      return value;
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value)) wrongType(value, 'an Integer');
      return value;
    case 'number':
      if (typeof value !== 'number') wrongType(value, 'a Number');
      return value;
    case 'boolean':
      if (typeof value !== 'boolean') wrongType(value, 'a Boolean');
      return value;
    case 'document':
      return value;
    case 'list': {
      if (!Array.isArray(value)) wrongType(value, 'a List');
      // A null inside a list is kept as null so the constraint pass can name it.
      return (value as unknown[]).map((item) => (item === null ? null : readValue(shape.member, item)));
    }
    case 'map': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) wrongType(value, 'a Map');
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
        // '__proto__' as a key would replace the copy's prototype instead of adding a member.
        if (item !== null && key !== '__proto__') out[key] = readValue(shape.value, item);
      }
      return out;
    }
    case 'structure': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) wrongType(value, 'a Structure');
      const out: Record<string, unknown> = {};
      const record = value as Record<string, unknown>;
      for (const [name, memberShape] of Object.entries(shape.members)) {
        const member = record[name];
        if (member !== undefined && member !== null) out[name] = readValue(memberShape, member);
      }
      return out;
    }
  }
}

/** Throws one InvalidParameterException listing every constraint violation, like AWS. */
export function validateConstraints(shape: StructureShape, input: Record<string, unknown>): void {
  const violations: string[] = [];
  checkStructure(shape, input, '', violations);
  if (violations.length > 0) throw invalidParameter(validationMessage(violations));
}

export function validationMessage(violations: readonly string[]): string {
  const n = violations.length;
  return `${n} validation error${n === 1 ? '' : 's'} detected: ${violations.join('; ')}`;
}

/** AWS names members in camelCase in these messages: 'userPoolId', 'scopes.1.member.scopeName'. */
function memberPath(parent: string, member: string): string {
  const camel = member.charAt(0).toLowerCase() + member.slice(1);
  return parent ? `${parent}.${camel}` : camel;
}

const MAX_ECHOED_VALUE = 1000;

function render(value: unknown): string {
  let text: string;
  if (Array.isArray(value)) text = `[${value.map((item) => (typeof item === 'object' && item !== null ? JSON.stringify(item) : String(item))).join(', ')}]`;
  else if (typeof value === 'object' && value !== null) text = JSON.stringify(value);
  else text = String(value);
  return text.length > MAX_ECHOED_VALUE ? `${text.slice(0, MAX_ECHOED_VALUE)}...` : text;
}

export function violation(value: unknown, path: string, constraint: string, sensitive = false): string {
  const shown = value === null || value === undefined ? 'Value null' : sensitive ? 'Value' : `Value '${render(value)}'`;
  return `${shown} at '${path}' failed to satisfy constraint: ${constraint}`;
}

function checkStructure(shape: StructureShape, value: Record<string, unknown>, path: string, out: string[]): void {
  for (const name of shape.required ?? []) {
    if (value[name] === undefined) out.push(violation(null, memberPath(path, name), 'Member must not be null'));
  }
  for (const [name, memberShape] of Object.entries(shape.members)) {
    const member = value[name];
    if (member !== undefined) checkValue(memberShape, member, memberPath(path, name), out);
  }
}

function checkValue(shape: Shape, value: unknown, path: string, out: string[]): void {
  switch (shape.type) {
    case 'string': {
      const text = value as string;
      const sensitive = shape.sensitive === true;
      // Length in code points, as Java's validator counts characters of the model.
      const length = [...text].length;
      if (shape.min !== undefined && length < shape.min) {
        out.push(violation(text, path, `Member must have length greater than or equal to ${shape.min}`, sensitive));
      }
      if (shape.max !== undefined && length > shape.max) {
        out.push(violation(text, path, `Member must have length less than or equal to ${shape.max}`, sensitive));
      }
      if (shape.regex && !shape.regex.test(text)) {
        out.push(violation(text, path, `Member must satisfy regular expression pattern: ${shape.pattern}`, sensitive));
      }
      if (shape.enum && !shape.enum.includes(text)) {
        out.push(violation(text, path, `Member must satisfy enum value set: [${shape.enum.join(', ')}]`, sensitive));
      }
      return;
    }
    case 'integer': {
      const n = value as number;
      if (shape.min !== undefined && n < shape.min) out.push(violation(n, path, `Member must have value greater than or equal to ${shape.min}`));
      if (shape.max !== undefined && n > shape.max) out.push(violation(n, path, `Member must have value less than or equal to ${shape.max}`));
      return;
    }
    case 'list': {
      const items = value as unknown[];
      if (shape.min !== undefined && items.length < shape.min) out.push(violation(items, path, `Member must have length greater than or equal to ${shape.min}`));
      if (shape.max !== undefined && items.length > shape.max) out.push(violation(items, path, `Member must have length less than or equal to ${shape.max}`));
      items.forEach((item, i) => {
        const itemPath = `${path}.${i + 1}.member`;
        if (item === null) out.push(violation(null, itemPath, 'Member must not be null'));
        else checkValue(shape.member, item, itemPath, out);
      });
      return;
    }
    case 'map':
      for (const [key, item] of Object.entries(value as Record<string, unknown>)) checkValue(shape.value, item, `${path}.${key}`, out);
      return;
    case 'structure':
      checkStructure(shape, value as Record<string, unknown>, path, out);
      return;
    case 'number':
    case 'boolean':
    case 'document':
      return;
  }
}

// ---- Shapes of the service model (cognito-idp 2016-04-18) ----

export const USER_POOL_ID_PATTERN = '[\\w-]+_[0-9a-zA-Z]+';
export const IDENTIFIER_PATTERN = '[\\x21\\x23-\\x5B\\x5D-\\x7E]+';
export const NAME_PATTERN = '[\\w\\s+=,.@-]+';
export const SCOPE_NAME_PATTERN = '[\\x21\\x23-\\x2E\\x30-\\x5B\\x5D-\\x7E]+';

export const userPoolId = string({ min: 1, max: 55, pattern: USER_POOL_ID_PATTERN });
export const identifier = string({ min: 1, max: 256, pattern: IDENTIFIER_PATTERN });
export const resourceServerName = string({ min: 1, max: 256, pattern: NAME_PATTERN });
export const scopeName = string({ min: 1, max: 256, pattern: SCOPE_NAME_PATTERN });
export const scopeDescription = string({ min: 1, max: 256 });
export const resourceServerScope = structure({ ScopeName: scopeName, ScopeDescription: scopeDescription }, ['ScopeName', 'ScopeDescription']);
export const MAX_SCOPES_PER_RESOURCE_SERVER = 100;
export const resourceServerScopes = list(resourceServerScope, MAX_SCOPES_PER_RESOURCE_SERVER);
export const userPoolName = string({ min: 1, max: 128, pattern: NAME_PATTERN });
export const clientName = string({ min: 1, max: 128, pattern: NAME_PATTERN });
export const clientId = string({ min: 1, max: 128, pattern: '[\\w+]+', sensitive: true });
export const paginationKey = string({ min: 1, pattern: '[\\S]+' });
export const MAX_SCOPES_PER_CLIENT = 50;
export const oauthScope = string({ min: 1, max: 256, pattern: IDENTIFIER_PATTERN });

const timeUnits = string({ enum: ['seconds', 'minutes', 'hours', 'days'] });
const redirectUrl = string({ min: 1, max: 1024, pattern: '[\\p{L}\\p{M}\\p{S}\\p{N}\\p{P}]+' });

/** Settable members shared by CreateUserPoolClient and UpdateUserPoolClient. */
export const clientSettingMembers: Record<string, Shape> = {
  RefreshTokenValidity: integer(0, 315360000),
  AccessTokenValidity: integer(1, 86400),
  IdTokenValidity: integer(1, 86400),
  TokenValidityUnits: structure({ AccessToken: timeUnits, IdToken: timeUnits, RefreshToken: timeUnits }),
  ReadAttributes: list(string({ min: 1, max: 2048 })),
  WriteAttributes: list(string({ min: 1, max: 2048 })),
  ExplicitAuthFlows: list(
    string({
      enum: [
        'ADMIN_NO_SRP_AUTH', 'CUSTOM_AUTH_FLOW_ONLY', 'USER_PASSWORD_AUTH', 'ALLOW_ADMIN_USER_PASSWORD_AUTH',
        'ALLOW_CUSTOM_AUTH', 'ALLOW_USER_PASSWORD_AUTH', 'ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH', 'ALLOW_USER_AUTH',
      ],
    }),
  ),
  SupportedIdentityProviders: list(string({ min: 1, max: 32, pattern: '[\\p{L}\\p{M}\\p{S}\\p{N}\\p{P}\\p{Z}]+' })),
  CallbackURLs: list(redirectUrl, 100, 0),
  LogoutURLs: list(redirectUrl, 100, 0),
  DefaultRedirectURI: redirectUrl,
  AllowedOAuthFlows: list(string({ enum: ['code', 'implicit', 'client_credentials'] }), 3, 0),
  AllowedOAuthScopes: list(oauthScope, MAX_SCOPES_PER_CLIENT),
  AllowedOAuthFlowsUserPoolClient: boolean(),
  AnalyticsConfiguration: document(),
  PreventUserExistenceErrors: string({ enum: ['LEGACY', 'ENABLED'] }),
  EnableTokenRevocation: boolean(),
  EnablePropagateAdditionalUserContextData: boolean(),
  AuthSessionValidity: integer(3, 15),
  RefreshTokenRotation: document(),
};

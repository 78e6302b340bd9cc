/**
 * Who is calling: access keys and the AWS accounts they belong to, IAM roles,
 * and the temporary credentials AssumeRole hands out.
 *
 * Keys of the config (options, POST /_emulator/config) live in ConfigStore and
 * survive a reset. Keys and roles added by seeds are state: a reset clears them
 * and the state dump carries them. Sessions last until their expiry on the
 * emulator's clock, or a reset; a session key is valid only together with its
 * session token.
 */
import { createHash } from 'node:crypto';
import { invalidParameter } from './errors';
import type { IdGenerator } from './ids';
import type { RoleDefinition, TestCredentials } from './types';
import { integer, list, string, structure } from './validation';

// ---- Shapes of seeded keys and roles (seed requests and state dumps) ----

export const accountIdShape = string({ pattern: '\\d{12}' });

export const accessKeyShape = structure(
  {
    accessKeyId: string({ min: 1, max: 128, pattern: '[\\w]+' }),
    secretAccessKey: string({ min: 1, max: 128, sensitive: true }),
    userName: string({ min: 1, max: 64, pattern: '[\\w+=,.@-]+' }),
    accountId: accountIdShape,
  },
  ['accessKeyId', 'secretAccessKey'],
);

export const roleShape = structure(
  {
    arn: string({ min: 20, max: 2048 }),
    trustedAccounts: list(accountIdShape),
    externalId: string({ min: 2, max: 1224, pattern: '[\\w+=,.@:\\/-]*' }),
    maxSessionDuration: integer(3600, 43200),
  },
  ['arn'],
);

/** The identity behind an access key. */
export interface Principal {
  accessKeyId: string;
  secretAccessKey: string;
  accountId: string;
  /** What AccessDenied messages name: an IAM user, or an assumed-role session. */
  arn: string;
  /** Session credentials only. */
  sessionToken?: string;
  /** Session credentials only: epoch ms on the emulator's clock. */
  expiresAtMs?: number;
  /** Session credentials only: the role they were issued for. */
  roleArn?: string;
}

export interface ParsedRoleArn {
  accountId: string;
  /** The last path segment. */
  name: string;
}

const ROLE_ARN = /^arn:aws:iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]{1,64})$/;

export function parseRoleArn(arn: string): ParsedRoleArn | undefined {
  const match = ROLE_ARN.exec(arn);
  return match ? { accountId: match[1]!, name: match[2]! } : undefined;
}

/** IAM's unique id of a role (AROA...), stable for an ARN. */
export function roleId(arn: string): string {
  const digest = createHash('sha256').update(arn).digest();
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let id = 'AROA';
  for (let i = 0; i < 17; i++) id += alphabet[digest[i]! % alphabet.length];
  return id;
}

export const userArn = (accountId: string, userName: string): string => `arn:aws:iam::${accountId}:user/${userName}`;

export class Identities {
  private seededKeys = new Map<string, TestCredentials & { accountId: string }>();
  private roles = new Map<string, RoleDefinition>();
  private sessions = new Map<string, Principal>();

  constructor(
    /** Keys of the config, read on every call so run-time changes apply at once. */
    private readonly configKeys: ReadonlyMap<string, TestCredentials>,
    private readonly defaultAccountId: () => string,
    private readonly ids: IdGenerator,
  ) {}

  find(accessKeyId: string): Principal | undefined {
    const session = this.sessions.get(accessKeyId);
    if (session) return session;
    const key = this.seededKeys.get(accessKeyId) ?? this.configKeys.get(accessKeyId);
    if (!key) return undefined;
    const accountId = key.accountId ?? this.defaultAccountId();
    return { accessKeyId, secretAccessKey: key.secretAccessKey, accountId, arn: userArn(accountId, key.userName ?? accessKeyId) };
  }

  role(arn: string): RoleDefinition | undefined {
    return this.roles.get(arn);
  }

  /** Seeds add keys one by one and remove them again if the seed fails. */
  addKey(key: TestCredentials): void {
    if (this.configKeys.has(key.accessKeyId) || this.seededKeys.has(key.accessKeyId)) throw invalidParameter(`Access key ${key.accessKeyId} already exists.`);
    this.seededKeys.set(key.accessKeyId, { ...key, accountId: key.accountId ?? this.defaultAccountId() });
  }

  removeKey(accessKeyId: string): void {
    this.seededKeys.delete(accessKeyId);
  }

  addRole(role: RoleDefinition): void {
    if (!parseRoleArn(role.arn)) throw invalidParameter(`Role ARN ${role.arn} is not of the form arn:aws:iam::<12-digit account>:role/<name>.`);
    if (this.roles.has(role.arn)) throw invalidParameter(`Role ${role.arn} already exists.`);
    this.roles.set(role.arn, structuredClone(role));
  }

  removeRole(arn: string): void {
    this.roles.delete(arn);
  }

  /** Issues temporary credentials for the role, valid until `expiresAtMs`. */
  createSession(roleArn: string, sessionName: string, expiresAtMs: number): Principal {
    const { accountId, name } = parseRoleArn(roleArn)!;
    let accessKeyId: string;
    do accessKeyId = this.ids.sessionAccessKeyId();
    while (this.sessions.has(accessKeyId));
    const session: Principal = {
      accessKeyId,
      secretAccessKey: this.ids.secretAccessKey(),
      sessionToken: this.ids.sessionToken(),
      accountId,
      arn: `arn:aws:sts::${accountId}:assumed-role/${name}/${sessionName}`,
      expiresAtMs,
      roleArn,
    };
    this.sessions.set(accessKeyId, session);
    return session;
  }

  clear(): void {
    this.seededKeys = new Map();
    this.roles = new Map();
    this.sessions = new Map();
  }

  dump(): { accessKeys: (TestCredentials & { accountId: string })[]; roles: RoleDefinition[] } {
    return { accessKeys: [...this.seededKeys.values()].map((key) => ({ ...key })), roles: [...this.roles.values()].map((role) => structuredClone(role)) };
  }

  /** Replaces seeded keys and roles (sessions end); on error nothing changes. */
  load(accessKeys: readonly TestCredentials[], roles: readonly RoleDefinition[]): void {
    const previous = { seededKeys: this.seededKeys, roles: this.roles, sessions: this.sessions };
    this.clear();
    try {
      for (const key of accessKeys) this.addKey(key);
      for (const role of roles) this.addRole(role);
    } catch (error) {
      this.seededKeys = previous.seededKeys;
      this.roles = previous.roles;
      this.sessions = previous.sessions;
      throw error;
    }
  }
}

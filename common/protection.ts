/**
 * Protected pools and identifiers: never deleted, even when listed.
 *
 * One pattern per entry: `POOL_PATTERN` protects whole user pools;
 * `POOL_PATTERN,IDENTIFIER_PATTERN` (split at the first comma, like --pair)
 * protects matching resource servers. `*` matches any run of characters and
 * `?` one character; everything else is literal. Lines starting with `#` and
 * blank lines are ignored. Pure code: the workflow bundle may import it.
 */

export interface ProtectionRule {
  /** The entry as written, shown in outcomes and the audit. */
  pattern: string;
  pool: RegExp;
  identifier?: RegExp;
}

function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

/** Parses patterns (one per line, or several separated by `;`), ignoring comments and blank lines. */
export function parseProtectionPatterns(text: string): string[] {
  return text
    .split(/[\n;]/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

export function compileProtection(patterns: string[]): ProtectionRule[] {
  return patterns.map((pattern) => {
    const comma = pattern.indexOf(',');
    const pool = comma === -1 ? pattern : pattern.slice(0, comma);
    const identifier = comma === -1 ? undefined : pattern.slice(comma + 1);
    if (pool === '' || identifier === '') {
      throw new Error(`protection pattern '${pattern}' has an empty part; write POOL or POOL,IDENTIFIER (use * for any)`);
    }
    return { pattern, pool: globToRegExp(pool), ...(identifier !== undefined ? { identifier: globToRegExp(identifier) } : {}) };
  });
}

/** The first rule that protects this item, if any. */
export function protectionFor(
  rules: ProtectionRule[],
  item: { userPoolId: string; identifier: string },
): string | undefined {
  for (const rule of rules) {
    if (!rule.pool.test(item.userPoolId)) continue;
    if (!rule.identifier || rule.identifier.test(item.identifier)) return rule.pattern;
  }
  return undefined;
}

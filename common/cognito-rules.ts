/**
 * Cognito's model constraints for the values rs-cleanup sends, checked before
 * anything is deleted so a bad input row is reported with a reason instead of
 * failing later as an InvalidParameterException.
 *
 * Pure functions only, no Node imports: the workflow bundle may import this file.
 */

export const USER_POOL_ID_MAX_LENGTH = 55;
export const IDENTIFIER_MAX_LENGTH = 256;

/** Cognito's UserPoolId pattern. */
const USER_POOL_ID_PATTERN = /^[\w-]+_[0-9a-zA-Z]+$/;
/** Cognito's resource server Identifier pattern: printable ASCII without space, `"` or `\`. */
const IDENTIFIER_PATTERN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;
/** Not Cognito's rule but ours: the pool ID prefix decides which Region's endpoint gets the call. */
const REGION_PATTERN = /^[a-z]{2}(-[a-z]+)+-\d+$/;

/**
 * The Regions where Cognito user pools exist (AWS General Reference, "Amazon
 * Cognito endpoints and quotas"). The one list in the project: a pool ID whose
 * prefix is a well-formed name outside it (us-east-9_AbC123) is a typo, and
 * would otherwise reach an endpoint that does not exist. A Region newer than
 * this list is added with RS_CLEANUP_EXTRA_REGIONS, without a release.
 */
export const COGNITO_REGIONS: readonly string[] = [
  'us-east-1', 'us-east-2', 'us-west-1', 'us-west-2',
  'ca-central-1', 'ca-west-1', 'sa-east-1', 'mx-central-1',
  'eu-west-1', 'eu-west-2', 'eu-west-3', 'eu-central-1', 'eu-central-2', 'eu-north-1', 'eu-south-1', 'eu-south-2',
  'ap-south-1', 'ap-south-2', 'ap-northeast-1', 'ap-northeast-2', 'ap-northeast-3',
  'ap-southeast-1', 'ap-southeast-2', 'ap-southeast-3', 'ap-southeast-4', 'ap-southeast-5', 'ap-east-1',
  'me-south-1', 'me-central-1', 'il-central-1', 'af-south-1',
  'us-gov-west-1', 'us-gov-east-1', 'cn-north-1', 'cn-northwest-1',
];

/** Comma-separated Region names accepted in addition to COGNITO_REGIONS. */
export const EXTRA_REGIONS_VARIABLE = 'RS_CLEANUP_EXTRA_REGIONS';

const KNOWN_REGIONS = new Set(COGNITO_REGIONS);
let extraRegionsCache: { text: string; regions: Set<string> } | undefined;

/**
 * Region names from RS_CLEANUP_EXTRA_REGIONS, read at each call so a test or an
 * operator can set it at any time. Read through globalThis because this file
 * stays free of Node imports; in the workflow sandbox there is no process and
 * no extra Region.
 */
function extraRegions(): Set<string> {
  const text = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[EXTRA_REGIONS_VARIABLE] ?? '';
  if (extraRegionsCache?.text !== text) {
    const names = text.split(',').map((name) => name.trim()).filter((name) => REGION_PATTERN.test(name));
    extraRegionsCache = { text, regions: new Set(names) };
  }
  return extraRegionsCache.regions;
}

const USER_POOL_ID_CHARACTER = /^[\w-]$/;
const IDENTIFIER_CHARACTER = /^[\x21\x23-\x5B\x5D-\x7E]$/;
const POOL_SUFFIX_CHARACTER = /^[0-9a-zA-Z]$/;

/**
 * Why a user pool ID is unusable, or undefined when it is fine.
 * Checks Cognito's length and pattern, then that the prefix is an AWS Region name.
 */
export function validateUserPoolId(value: string): string | undefined {
  // Fast path for the common case (a million rows are checked in one pass): a well-formed ID in a known Region.
  if (value.length <= USER_POOL_ID_MAX_LENGTH && USER_POOL_ID_PATTERN.test(value) && validateCognitoRegion(value.slice(0, value.indexOf('_'))) === undefined) {
    return undefined;
  }
  if (value.length === 0) return 'is empty';
  if (value.length > USER_POOL_ID_MAX_LENGTH) {
    return `is ${value.length} characters long; Cognito allows at most ${USER_POOL_ID_MAX_LENGTH}`;
  }
  const badCharacter = findFirstCharacterNotMatching(value, USER_POOL_ID_CHARACTER);
  if (badCharacter) return describeForbiddenCharacter(badCharacter);

  const firstUnderscore = value.indexOf('_');
  if (firstUnderscore === -1) {
    return "has no '_' between the Region and the pool's own ID (a user pool ID looks like us-east-1_AbC123)";
  }
  const lastUnderscore = value.lastIndexOf('_');
  const suffix = value.slice(lastUnderscore + 1);
  if (suffix.length === 0) {
    return "ends with '_'; the pool's own ID after the Region is missing (a user pool ID looks like us-east-1_AbC123)";
  }
  const badSuffixCharacter = findFirstCharacterNotMatching(suffix, POOL_SUFFIX_CHARACTER);
  if (badSuffixCharacter) {
    return `has ${describeCharacter(badSuffixCharacter.character)} in '${suffix}', the part after the last '_', which may only hold letters and digits`;
  }
  // Safety net: the specific checks above should have explained any mismatch.
  if (!USER_POOL_ID_PATTERN.test(value)) return `does not match Cognito's pattern ${USER_POOL_ID_PATTERN.source}`;

  const regionReason = validateCognitoRegion(value.slice(0, firstUnderscore));
  if (regionReason) return `its Region prefix ${regionReason}`;
  return undefined;
}

/** Why a resource server identifier is unusable, or undefined when it is fine. */
export function validateIdentifier(value: string): string | undefined {
  if (value.length <= IDENTIFIER_MAX_LENGTH && IDENTIFIER_PATTERN.test(value)) return undefined; // fast path
  if (value.length === 0) return 'is empty';
  if (value.length > IDENTIFIER_MAX_LENGTH) {
    return `is ${value.length} characters long; Cognito allows at most ${IDENTIFIER_MAX_LENGTH}`;
  }
  const badCharacter = findFirstCharacterNotMatching(value, IDENTIFIER_CHARACTER);
  if (badCharacter) return describeForbiddenCharacter(badCharacter);
  // Safety net: the checks above cover the whole pattern.
  if (!IDENTIFIER_PATTERN.test(value)) return `does not match Cognito's pattern ${IDENTIFIER_PATTERN.source}`;
  return undefined;
}

/**
 * Why a string is not an AWS Region name (us-east-1, ap-southeast-2, us-gov-west-1),
 * or undefined when it looks like one. The reason starts with the quoted value.
 */
export function validateRegionName(value: string): string | undefined {
  if (REGION_PATTERN.test(value)) return undefined;
  return `'${value}' is not an AWS Region name (expected a name like us-east-1)`;
}

/**
 * Why a string is not a Region where Cognito user pools exist, or undefined
 * when it is one (COGNITO_REGIONS, or RS_CLEANUP_EXTRA_REGIONS). The reason
 * starts with the quoted value and says how to add a new Region.
 */
export function validateCognitoRegion(value: string): string | undefined {
  const nameReason = validateRegionName(value);
  if (nameReason) return nameReason;
  if (KNOWN_REGIONS.has(value) || extraRegions().has(value)) return undefined;
  return `'${value}' is not a Region where Cognito user pools exist (a typo?); if it is a new Region, set ${EXTRA_REGIONS_VARIABLE}=${value}`;
}

/**
 * The Region a user pool lives in: the part of its ID before the first '_'
 * (`us-east-1_AbC123` -> `us-east-1`). Throws when the ID has no Region prefix,
 * because calling the wrong Region would report the pool as missing.
 */
export function regionOfUserPoolId(userPoolId: string): string {
  const firstUnderscore = userPoolId.indexOf('_');
  if (firstUnderscore === -1) {
    throw new Error(`user pool ID '${userPoolId}' has no '_' between the Region and the pool's own ID (a user pool ID looks like us-east-1_AbC123)`);
  }
  const region = userPoolId.slice(0, firstUnderscore);
  const reason = validateCognitoRegion(region);
  if (reason) throw new Error(`user pool ID '${userPoolId}': its Region prefix ${reason}`);
  return region;
}

const ACCOUNT_ID_PATTERN = /^\d{12}$/;
/** `{accountId}` in a role ARN stands for each item's account. */
export const ACCOUNT_PLACEHOLDER = '{accountId}';
const ROLE_ARN_PATTERN = /^arn:aws[a-z-]*:iam::(\d{12}|\{accountId\}):role\/[\w+=,.@/-]{1,512}$/;

/** Why a value is not an AWS account ID (12 digits), or undefined when it is one. */
export function validateAccountId(value: string): string | undefined {
  if (ACCOUNT_ID_PATTERN.test(value)) return undefined;
  return value === '' ? 'is empty; an AWS account ID is 12 digits' : `is not an AWS account ID (12 digits, such as 111122223333)`;
}

/** Why a role ARN (with `{accountId}` for the item's account) is unusable, or undefined. */
export function validateRoleArnTemplate(value: string): string | undefined {
  if (ROLE_ARN_PATTERN.test(value)) return undefined;
  return `is not a role ARN like arn:aws:iam::${ACCOUNT_PLACEHOLDER}:role/rs-cleanup (${ACCOUNT_PLACEHOLDER} stands for each item's account)`;
}

interface CharacterAt {
  character: string;
  /** 1-based, counted in characters (code points) as an operator would count them. */
  position: number;
  isLast: boolean;
}

function findFirstCharacterNotMatching(value: string, allowed: RegExp): CharacterAt | undefined {
  const characters = Array.from(value);
  for (let index = 0; index < characters.length; index++) {
    const character = characters[index]!;
    if (!allowed.test(character)) {
      return { character, position: index + 1, isLast: index === characters.length - 1 };
    }
  }
  return undefined;
}

function describeForbiddenCharacter({ character, position, isLast }: CharacterAt): string {
  const reason = `contains ${describeCharacter(character)} at position ${position}, which Cognito does not allow`;
  // Leading or trailing blanks usually come from a spreadsheet or a copy-paste, not from the real ID.
  const isBlank = /^\s$/u.test(character);
  if (isBlank && (position === 1 || isLast)) return `${reason} (check for stray whitespace around the value)`;
  return reason;
}

const CHARACTER_NAMES: Record<string, string> = {
  ' ': 'a space',
  '\t': 'a tab',
  '\n': 'a line break',
  '\r': 'a carriage return',
  '\u00A0': 'a no-break space (U+00A0)',
  '\u200B': 'a zero-width space (U+200B)',
  '\uFEFF': 'a byte order mark (U+FEFF)',
};

/** Names a character so that invisible or look-alike ones can be told apart in a terminal. */
export function describeCharacter(character: string): string {
  const named = CHARACTER_NAMES[character];
  if (named) return named;
  const codePoint = character.codePointAt(0) ?? 0;
  const unicode = `U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}`;
  if (codePoint < 0x20 || (codePoint >= 0x7f && codePoint <= 0x9f)) return `a control character (${unicode})`;
  if (codePoint > 0x7e) return `the non-ASCII character '${character}' (${unicode})`;
  return `'${character}'`;
}

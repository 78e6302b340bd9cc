/**
 * Text from an input file shown in an error message. An operator's file can
 * hold anything: an ANSI escape sequence (ESC [ 2 J clears the screen, ESC ] 8
 * writes a fake link), a carriage return that overwrites the line, a bidi
 * override that reorders it, or a 500,000-character header. None of that may
 * reach the terminal as it is: control characters are shown escaped, as
 * \u001b, and long values are cut with their length, so each message stays
 * one short, honest line.
 */

/** The longest value quoted in a message. */
export const MAX_SHOWN_VALUE = 80;
/** The longest column name quoted in a message. */
export const MAX_SHOWN_NAME = 40;
/** The longest one-line message, whatever it quotes. */
export const MAX_MESSAGE_LENGTH = 300;

/**
 * C0 controls, DEL, C1 controls, line and paragraph separators, bidi
 * controls, and the byte order mark: everything that moves the cursor,
 * changes the terminal's state, reorders or hides text.
 */
const UNSAFE_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g;

const SHORT_ESCAPES: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** The text with every unsafe character written as an escape (\n, \t, \u001b, ...). */
export function escapeControlCharacters(text: string): string {
  return text.replace(UNSAFE_CHARACTERS, (character) => SHORT_ESCAPES[character] ?? `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Cuts text to at most `max` characters, saying how long it was: `abc... (5000 characters)`. */
export function shorten(text: string, max: number): string {
  if (text.length <= max) return text;
  const suffix = `... (${text.length} characters)`;
  return `${text.slice(0, Math.max(0, max - suffix.length))}${suffix}`;
}

/** A value quoted for a message: JSON-quoted (so quotes and backslashes show), escaped, shortened. */
export function showValue(value: string, max = MAX_SHOWN_VALUE): string {
  if (value.length <= max) return escapeControlCharacters(JSON.stringify(value));
  return `${escapeControlCharacters(JSON.stringify(value.slice(0, max)))}... (${value.length} characters)`;
}

/** A column name or JSON key as it may be shown: escaped and shortened (saying its real length), without quotes. */
export function displayName(name: string, max = MAX_SHOWN_NAME): string {
  const escaped = escapeControlCharacters(name);
  if (escaped.length <= max) return escaped;
  // Whole characters (and whole escapes) up to `max`, then the real length.
  let shown = '';
  for (const character of name) {
    const written = escapeControlCharacters(character);
    if (shown.length + written.length > max) break;
    shown += written;
  }
  return `${shown}... (${name.length} characters)`;
}

/** A column name quoted for a message: 'name'. */
export function showName(name: string): string {
  return `'${displayName(name)}'`;
}

/** Names quoted and joined, at most `max` of them: 'a', 'b', ... (and 7 more). */
export function showNames(names: readonly string[], max = 8): string {
  const shown = names.slice(0, max).map(showName).join(', ');
  return names.length > max ? `${shown}, ... (${names.length} in all)` : shown;
}

/** Whitespace runs (line breaks included) as one space: an error message from elsewhere on one line. */
export function collapseWhitespace(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** One line for the terminal: escaped, at most MAX_MESSAGE_LENGTH characters. */
export function oneLine(message: string, max = MAX_MESSAGE_LENGTH): string {
  return shorten(escapeControlCharacters(message), max);
}

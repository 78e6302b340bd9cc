/**
 * The schema of every option value: each parser turns the text the operator
 * typed into the value a command uses, or refuses it with one line saying
 * what was expected. Bounds come from common/options.ts, the same ones the
 * workflow holds, so nothing the CLI accepts can wedge a run.
 *
 * commander calls these while parsing, before any command starts; its error
 * ("option '--rate <n>' argument '0' is invalid. expected ...") is printed as
 * one line and exits 2 (cli/main.ts).
 */
import { InvalidArgumentError } from 'commander';
import { INPUT_BOUNDS, LIMIT_BOUNDS, OPTION_BOUNDS } from '../common/options';

/** Decimal notation only: `0x10`, `Infinity` or an empty value is a typo, not a number. */
function number(value: string): number {
  const n = /^\s*[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?\s*$/i.test(value) ? Number(value) : NaN;
  if (!Number.isFinite(n)) throw new InvalidArgumentError(`expected a number, got '${value}'`);
  return n;
}

function wholeNumber(value: string, min: number, max: number, what: string): number {
  const n = number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new InvalidArgumentError(`expected ${what}: a whole number from ${min} to ${max}, got '${value}'`);
  }
  return n;
}

/** DeleteResourceServer calls per second (--rate, --pool-rate). */
export function rateValue(value: string): number {
  const n = number(value);
  if (n < LIMIT_BOUNDS.minRate || n > LIMIT_BOUNDS.maxRate) {
    throw new InvalidArgumentError(`expected calls per second from ${LIMIT_BOUNDS.minRate} to ${LIMIT_BOUNDS.maxRate}, got '${value}'`);
  }
  return n;
}

/** Delete activities in flight (--window). */
export function windowValue(value: string): number {
  return wholeNumber(value, 1, LIMIT_BOUNDS.maxWindow, 'items in flight');
}

/** A count of items (--max-deletes, --max-failures). */
export function itemCount(value: string): number {
  return wholeNumber(value, 1, Number.MAX_SAFE_INTEGER, 'a count of resource servers');
}

/** --max-failure-percent. */
export function percentValue(value: string): number {
  const n = number(value);
  if (n <= 0 || n > 100) throw new InvalidArgumentError(`expected a percentage above 0 and at most 100, got '${value}'`);
  return n;
}

/** --item-deadline, in minutes. */
export function itemDeadlineValue(value: string): number {
  const n = number(value);
  if (n <= 0 || n > INPUT_BOUNDS.maxItemDeadlineMinutes) {
    throw new InvalidArgumentError(`expected minutes above 0 and at most ${INPUT_BOUNDS.maxItemDeadlineMinutes}, got '${value}'`);
  }
  return n;
}

/** --max-attempts. */
export function attemptsValue(value: string): number {
  return wholeNumber(value, 1, OPTION_BOUNDS.maxAttempts, 'attempts per item');
}

/** A TCP port; 0 picks a free one. */
export function portValue(value: string): number {
  return wholeNumber(value, 0, 65_535, 'a port number (0 picks a free one)');
}

/** `--ui-port`: the Web UI of the embedded dev server. */
export function uiPortValue(value: string): number {
  return wholeNumber(value, 1, 65_535, 'a port number');
}

/** `rs-cleanup emulator`'s port unless --port says otherwise. */
export const DEFAULT_EMULATOR_PORT = 9229;

/** `list --limit`. */
export function listLimit(value: string): number {
  return wholeNumber(value, 1, OPTION_BOUNDS.maxListLimit, 'how many runs');
}

/**
 * A workflow ID, schedule ID or task-queue name: what Temporal accepts
 * (not empty, at most OPTION_BOUNDS.maxNameLength characters, no control characters).
 */
export function temporalName(value: string): string {
  if (value.trim() === '') throw new InvalidArgumentError('expected a name, got an empty one');
  if (value.length > OPTION_BOUNDS.maxNameLength) {
    throw new InvalidArgumentError(`expected at most ${OPTION_BOUNDS.maxNameLength} characters, got ${value.length}`);
  }
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(value)) throw new InvalidArgumentError(`expected no control characters, got ${JSON.stringify(value)}`);
  return value;
}

/** `schedule create --every`: an interval such as 30m, 6h or 1d. */
export function intervalValue(value: string): string {
  const match = /^(\d+)\s*(ms|s|m|h|d|seconds?|minutes?|hours?|days?)$/i.exec(value.trim());
  if (!match || Number(match[1]) === 0) {
    throw new InvalidArgumentError(`expected an interval such as 30m, 6h or 1d, got '${value}'`);
  }
  return value.trim();
}

const CRON_FIELDS = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'] },
  { name: 'day of week', min: 0, max: 7, names: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] },
] as const;

const CRON_SHORTHANDS = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly']);

/**
 * `schedule create --cron`: five fields (minute hour day-of-month month
 * day-of-week) of numbers, names, `*`, ranges, lists and steps, or a
 * shorthand such as @daily; optionally after `CRON_TZ=Zone `. Checked here so
 * a typo is refused before the confirmation, not by the server afterwards.
 */
export function cronValue(value: string): string {
  const text = value.trim().replace(/^CRON_TZ=\S+\s+/, '');
  if (CRON_SHORTHANDS.has(text.toLowerCase())) return value.trim();
  const fields = text.split(/\s+/);
  const refuse = (why: string): never => {
    throw new InvalidArgumentError(`'${value}' is not a cron expression: ${why} (e.g. "0 3 * * 1" is 03:00 every Monday)`);
  };
  if (fields.length !== CRON_FIELDS.length) refuse(`expected 5 fields (minute hour day-of-month month day-of-week), got ${fields.length}`);
  fields.forEach((field, i) => {
    const spec = CRON_FIELDS[i]!;
    const names: readonly string[] = 'names' in spec ? spec.names : [];
    const atom = (text: string): number => {
      const byName = names.indexOf(text.toLowerCase());
      if (byName >= 0) return spec.name === 'month' ? byName + 1 : byName;
      if (!/^\d+$/.test(text)) refuse(`${spec.name} '${field}'`);
      const n = Number(text);
      if (n < spec.min || n > spec.max) refuse(`${spec.name} ${n} is outside ${spec.min}-${spec.max}`);
      return n;
    };
    for (const part of field.split(',')) {
      const [range, step, extra] = part.split('/');
      if (extra !== undefined || range === undefined || range === '') refuse(`${spec.name} '${field}'`);
      if (step !== undefined && (!/^\d+$/.test(step) || Number(step) === 0)) refuse(`${spec.name} step '${step}'`);
      if (range === '*' || range === '?') continue;
      const [from, to, more] = range!.split('-');
      if (more !== undefined) refuse(`${spec.name} '${field}'`);
      const low = atom(from!);
      if (to !== undefined && atom(to) < low) refuse(`${spec.name} range '${range}' runs backwards`);
    }
  });
  return value.trim();
}

/** Collects a repeatable option's values. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

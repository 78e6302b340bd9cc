/** Exit codes of every rs-cleanup command. */
export const EXIT = {
  /** Every item ended deleted, already-absent or would-delete. */
  ok: 0,
  /** At least one item failed, or the run failed or is stuck. */
  failures: 1,
  /** Invalid input, usage, a refused run (--max-deletes, --in-use fail), no confirmation or no AWS credentials: nothing was deleted. */
  invalidInput: 2,
  /** The run was cancelled, terminated or stopped early (failure threshold) with no failed item. */
  stopped: 3,
  /** The run finished, but some items were skipped (in use by app clients, or protected). */
  skipped: 4,
  /**
   * Ctrl-C, or the rs-cleanup process whose embedded server this command followed a run through has
   * ended: the command stopped waiting (an embedded run resumes when the same command runs again).
   */
  interrupted: 130,
} as const;

/** A mistake in how the command was called: exit 2, nothing done. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/**
 * The typed confirmation before a real delete: in a terminal the operator
 * types the number of resource servers that will be deleted; without a
 * terminal, --execute needs --yes. A mistyped number deletes nothing.
 */
import { createInterface } from 'node:readline/promises';
import { UsageError } from './exit-codes';

export async function confirmDeletion(count: number, options: { yes: boolean; what: string }): Promise<void> {
  if (options.yes || count === 0) return;
  if (!process.stdin.isTTY) {
    throw new UsageError(
      `refusing to delete ${count} resource servers without confirmation: standard input is not a terminal. ` +
        'Pass --yes to confirm non-interactively (scripts, CI).',
    );
  }
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await prompt.question(
      `${options.what}\nThis deletes up to ${count} resource servers. Type ${count} to go on: `,
    );
    if (answer.trim() !== String(count)) {
      throw new UsageError(`confirmation '${answer.trim()}' does not match ${count}; nothing was deleted`);
    }
  } finally {
    prompt.close();
  }
}

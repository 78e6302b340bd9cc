/**
 * The typed confirmation before a real delete: in a terminal the operator
 * types the number of resource servers that will be deleted; without a
 * terminal, --execute needs --yes. A mistyped number, Ctrl-C or the end of
 * input deletes nothing (exit 2).
 */
import { createInterface } from 'node:readline';
import { UsageError } from './exit-codes';
import type { CommandIo } from './command-io';

export async function confirmDeletion(count: number, options: { yes: boolean; what: string }, io: CommandIo): Promise<void> {
  if (options.yes || count === 0) return;
  if (!io.stdin.isTTY) {
    throw new UsageError(
      `refusing to delete ${count} resource servers without confirmation: standard input is not a terminal. ` +
        'Pass --yes to confirm non-interactively (scripts, CI).',
    );
  }
  const prompt = createInterface({ input: io.stdin, output: io.stderr as NodeJS.WritableStream, terminal: true });
  let onAbort: (() => void) | undefined;
  try {
    const answer = await new Promise<string>((resolve, reject) => {
      const refuse = (why: string) => {
        io.stderr.write('\n');
        reject(new UsageError(`${why}: nothing was deleted`));
      };
      // In a terminal Ctrl-C reaches readline as a key, not as a signal to the process.
      prompt.once('SIGINT', () => refuse('interrupted at the confirmation (Ctrl-C)'));
      prompt.once('close', () => refuse('no confirmation (standard input ended)'));
      onAbort = () => refuse('interrupted at the confirmation');
      io.signal.addEventListener('abort', onAbort, { once: true });
      prompt.question(`${options.what}\nThis deletes up to ${count} resource servers. Type ${count} to go on: `, resolve);
    });
    if (answer.trim() !== String(count)) {
      throw new UsageError(`confirmation '${answer.trim()}' does not match ${count}; nothing was deleted`);
    }
  } finally {
    if (onAbort) io.signal.removeEventListener('abort', onAbort);
    prompt.removeAllListeners('close');
    prompt.close();
  }
}

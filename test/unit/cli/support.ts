import { expect } from 'vitest';
import { UsageError } from '../../../lib/cli/commands/common.ts';

/** A `readFile` over the given contents; any other path is missing (ENOENT). */
export const files = (content: Record<string, string>) => ({
  readFile: (path: string) => {
    if (!(path in content)) throw Object.assign(new Error('missing'), { code: 'ENOENT' });
    return content[path] as string;
  },
});

/** The message of the UsageError that `fn` throws; fails if it throws nothing or something else. */
export const usage = (fn: () => unknown): string => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as UsageError).message;
  }
  throw new Error('expected a UsageError');
};

import type * as z from 'zod';
import { type FieldIssue, ValidationError } from './errors.ts';

/**
 * Parses untrusted input with a zod schema and turns every problem into a {@link ValidationError}
 * whose message names the field, so callers never see a raw zod error.
 * @param what names the input in the message when the problem is the input as a whole.
 */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, what = 'input'): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues: FieldIssue[] = result.error.issues.map((issue) => ({
    // A path that starts with an index is relative to a list: name the list too.
    field:
      issue.path.length === 0
        ? what
        : typeof issue.path[0] === 'number'
          ? [what, ...issue.path.map(String)].join('.')
          : issue.path.map(String).join('.'),
    message: issue.message,
  }));
  throw new ValidationError(issues, { cause: result.error });
}

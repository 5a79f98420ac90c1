import type { z } from 'zod';
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
    field: issue.path.length > 0 ? issue.path.map(String).join('.') : what,
    message: issue.message,
  }));
  throw new ValidationError(issues, { cause: result.error });
}

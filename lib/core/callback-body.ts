import * as z from 'zod';

/**
 * What a long-running factory posts to `/callbacks/{token}`: `{status: 'succeeded', output}` or
 * `{status: 'failed', error}`. Other fields are allowed and ignored.
 */
export const callbackBody = z.discriminatedUnion('status', [
  z
    .object({
      status: z.literal('succeeded'),
      output: z.unknown().optional(),
      taskToken: z.string().optional(),
    })
    .loose(),
  z
    .object({ status: z.literal('failed'), error: z.unknown().optional(), taskToken: z.string().optional() })
    .loose(),
]);
export type CallbackBody = z.output<typeof callbackBody>;

/** A factory's failure report as text. */
export function failureText(error: unknown): string {
  return typeof error === 'string' ? error : JSON.stringify(error ?? 'factory reported failure');
}

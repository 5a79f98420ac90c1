import * as z from 'zod';
import { inlineRefusal } from './artifacts.ts';
import { PayloadTooLargeError } from './errors.ts';

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
      /** What the work cost (USD), when the factory says. */
      cost: z.number().min(0).max(1_000_000).optional(),
    })
    .loose(),
  z
    .object({
      status: z.literal('failed'),
      error: z.unknown().optional(),
      taskToken: z.string().optional(),
      cost: z.number().min(0).max(1_000_000).optional(),
    })
    .loose(),
]);
export type CallbackBody = z.output<typeof callbackBody>;

/** A factory's failure report as text. */
export function failureText(error: unknown): string {
  return typeof error === 'string' ? error : JSON.stringify(error ?? 'factory reported failure');
}

/**
 * A callback's output as it is kept: through `keep` (large outputs by artifact reference, see
 * `keepOutput`) when an artifact store is configured; refused when it is still over the inline limit.
 */
export async function keptOutput(
  output: unknown,
  keep: ((output: unknown) => Promise<unknown>) | undefined,
): Promise<unknown> {
  const kept = keep ? await keep(output ?? null) : (output ?? null);
  const refusal = inlineRefusal(kept);
  if (refusal !== undefined) throw new PayloadTooLargeError(refusal);
  return kept;
}

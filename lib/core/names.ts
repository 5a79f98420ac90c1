import * as z from 'zod';

/**
 * Identifiers used as DynamoDB key parts (service and module names, task types, actions, ids).
 * The character set keeps them safe inside composite keys, which use `#` as separator.
 */
export const identifier = z
  .string()
  .min(1, 'must not be empty')
  .max(128, 'must be at most 128 characters')
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_.:-]*$/,
    'may contain only letters, digits, _ . : - and must start with a letter or digit',
  );

/** An absolute http(s) URL of at most `maxLength` characters. */
export function httpUrlUpTo(maxLength: number): z.ZodString {
  return z
    .string()
    .max(maxLength)
    .refine(
      (value) => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol),
      'must be an http(s) URL',
    );
}

/** An absolute http(s) URL (factory endpoints, callback URLs). */
export const httpUrl = httpUrlUpTo(2_048);

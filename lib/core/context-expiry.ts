/**
 * True once a named context's expiry has passed. DynamoDB's TTL removes expired items only some
 * time later, so every reader checks. A module of its own: the task path reads contexts without
 * the rest of memory.
 */
export function isExpired(context: { expiresAt?: string | undefined }, now: Date): boolean {
  return context.expiresAt !== undefined && Date.parse(context.expiresAt) <= now.getTime();
}

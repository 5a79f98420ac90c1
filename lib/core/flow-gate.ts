/**
 * Flow control as a call sees it: a slot of a service for one call, or why there is none (see
 * `FlowControlStore`, and the policy's `limits`). A service without limits always has a slot,
 * at no cost.
 */
export type Slot =
  | { granted: true; release(): Promise<void> }
  | { granted: false; limit: 'inFlight' | 'perMinute'; reason: string; retryAfterMs: number };

export interface FlowGate {
  /** A slot of `service` held for at most `holdMs` if never released (a crashed caller). */
  acquire(service: string, holdMs: number): Promise<Slot>;
}

/** Slots are held this much longer than the call they are for, so a slow release cannot double-book. */
export const SLOT_MARGIN_MS = 5_000;

/**
 * How long a task waits when every service it may use is at its limit: until the next minute for
 * a per-minute limit, else 1 to 2 s (a slot in flight frees up as soon as a call ends; the jitter
 * keeps waiting tasks from coming back together).
 */
export function busyDelaySeconds(
  refusals: readonly Extract<Slot, { granted: false }>[],
  random: () => number,
): number {
  const inFlight = refusals.some((r) => r.limit === 'inFlight');
  const seconds = inFlight ? 1 : Math.min(...refusals.map((r) => r.retryAfterMs)) / 1000;
  return Math.max(1, seconds) + random();
}

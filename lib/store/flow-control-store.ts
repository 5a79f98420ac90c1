import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { FlowLimits } from '../core/routing/policy.ts';
import { minuteOf } from '../core/statistics.ts';
import {
  epochSeconds,
  IF_ABSENT,
  IF_PRESENT,
  type Item,
  type Key,
  Table,
  type UpdateSpec,
} from './dynamo.ts';

/**
 * Per-service flow control in the registry table, exact across concurrent workers: a service at
 * its limit is unavailable for the moment. Two limits, each one item and one conditional write:
 *
 * - calls in flight: `FLOW#<service>` / `INFLIGHT` holds a map of leases (`id` → expiry in epoch
 *   ms) and their count. A lease has an expiry so that a worker that crashes while holding one
 *   does not take the slot forever: a refused acquire reclaims expired leases and tries again.
 * - calls per minute: `FLOW#<service>` / `MINUTE#<yyyy-mm-ddThh:mm>` counts the calls of a UTC
 *   minute, and expires a few minutes after it.
 */

/** What {@link FlowControlStore.acquire} hands out, and {@link FlowControlStore.release} takes back. */
export interface FlowLease {
  service: string;
  /**
   * The lease's entry in the service's in-flight item; empty when the grant holds no in-flight
   * slot (no `maxInFlight`), so that releasing it costs no request.
   */
  id: string;
  /** The minute (`yyyy-mm-ddThh:mm`, UTC) the call was counted in, when a per-minute limit applies. */
  minute?: string | undefined;
}

export type FlowGrant =
  | { granted: true; lease: FlowLease }
  | {
      granted: false;
      /** Which limit refused. */
      limit: 'inFlight' | 'perMinute';
      /** Which limit refused, in words, e.g. "media-a has 5 of 5 calls in flight" */
      reason: string;
      /** When a slot may be free: ms (>= 0), e.g. to the next minute for the per-minute limit */
      retryAfterMs: number;
    };

/** Keys of the flow-control items: one partition per service, beside the registry's own partitions. */
const flowKeys = {
  service: (service: string): string => `FLOW#${service}`,
  inFlight: (service: string): Key => ({ pk: flowKeys.service(service), sk: 'INFLIGHT' }),
  minute: (service: string, minute: string): Key => ({
    pk: flowKeys.service(service),
    sk: `MINUTE#${minute}`,
  }),
};

const MINUTE_MS = 60_000;
/** How long a minute's counter outlives its minute: long enough for `usage` and give-backs to find it. */
const MINUTE_TTL_SECONDS = 5 * 60;
/**
 * Expired leases removed by one reclaim, so that its expression stays far below DynamoDB's size
 * limits; any others are removed by later refusals.
 */
const MAX_RECLAIM = 50;

/**
 * Attribute names of the in-flight item (`leases`, `inFlight`) and of a minute's counter (`calls`),
 * always through placeholders so that none can clash with a reserved word.
 */
const IN_FLIGHT_NAMES = { '#leases': 'leases', '#count': 'inFlight' };
const MINUTE_NAMES = { '#calls': 'calls' };

type Leases = Record<string, number>;

type InFlightOutcome =
  | { granted: true }
  | { granted: false; limit: 'inFlight'; reason: string; retryAfterMs: number };

export class FlowControlStore {
  readonly #table: Table;
  readonly #now: () => Date;
  readonly #random: () => number;

  constructor(
    doc: DynamoDBDocumentClient,
    options: { table: string; now?: () => Date; random?: () => number },
  ) {
    this.#table = new Table(doc, options.table);
    this.#now = options.now ?? (() => new Date());
    this.#random = options.random ?? Math.random;
  }

  /**
   * Takes a slot for one call, or says why not. A service with no limits is always granted
   * without any request. `leaseMs`: how long the slot is held at most if its holder never
   * releases it (crash).
   *
   * The per-minute slot is taken first; when the in-flight one is then refused, the minute's
   * count is given back, so that refused attempts do not use up the rate.
   */
  async acquire(service: string, limits: FlowLimits, leaseMs: number): Promise<FlowGrant> {
    const maxInFlight = positiveInteger('maxInFlight', limits.maxInFlight);
    const callsPerMinute = positiveInteger('callsPerMinute', limits.callsPerMinute);
    if (!(Number.isFinite(leaseMs) && leaseMs > 0))
      throw new RangeError(`leaseMs must be a positive number, got ${leaseMs}`);
    const now = this.#now();
    let minute: string | undefined;
    if (callsPerMinute !== undefined) {
      minute = minuteOf(now.toISOString());
      if (!(await this.#countCall(service, minute, callsPerMinute, now)))
        return {
          granted: false,
          limit: 'perMinute',
          reason: `${service} has made ${callsPerMinute} of ${callsPerMinute} calls this minute`,
          retryAfterMs: MINUTE_MS - (now.getTime() % MINUTE_MS),
        };
    }
    let id = '';
    if (maxInFlight !== undefined) {
      id = this.#newLeaseId();
      const outcome = await this.#takeInFlight(service, id, maxInFlight, now.getTime(), leaseMs);
      if (!outcome.granted) {
        if (minute !== undefined) await this.#uncountCall(service, minute);
        return outcome;
      }
    }
    return { granted: true, lease: { service, id, ...(minute === undefined ? {} : { minute }) } };
  }

  /**
   * Gives the slot back (idempotent: releasing twice, or an expired/reclaimed lease, is harmless):
   * the lease's entry and the count go together, and only while the entry is there.
   */
  async release(lease: FlowLease): Promise<void> {
    if (lease.id === '') return;
    await this.#table.updateIf(flowKeys.inFlight(lease.service), {
      UpdateExpression: 'REMOVE #leases.#id ADD #count :minus',
      ConditionExpression: 'attribute_exists(#leases.#id)',
      ExpressionAttributeNames: { ...IN_FLIGHT_NAMES, '#id': lease.id },
      ExpressionAttributeValues: { ':minus': -1 },
    });
  }

  /** Calls in flight now (unexpired leases) and calls this minute, for reports/tests. */
  async usage(service: string): Promise<{ inFlight: number; thisMinute: number }> {
    const now = this.#now();
    const [inFlight, minute] = await Promise.all([
      this.#table.get(flowKeys.inFlight(service), { consistent: true }),
      this.#table.get(flowKeys.minute(service, minuteOf(now.toISOString())), { consistent: true }),
    ]);
    return {
      inFlight: liveExpiries(inFlight, now.getTime()).length,
      thisMinute: typeof minute?.calls === 'number' ? minute.calls : 0,
    };
  }

  /** Counts one call in `minute` unless the minute already has `limit`; false when it had. */
  #countCall(service: string, minute: string, limit: number, now: Date): Promise<boolean> {
    return this.#table.updateIf(flowKeys.minute(service, minute), {
      UpdateExpression: 'ADD #calls :one SET expiresAt = :expiresAt',
      ConditionExpression: 'attribute_not_exists(#calls) OR #calls < :limit',
      ExpressionAttributeNames: MINUTE_NAMES,
      ExpressionAttributeValues: {
        ':one': 1,
        ':limit': limit,
        ':expiresAt': epochSeconds(now) + MINUTE_TTL_SECONDS,
      },
    });
  }

  /** Gives back a call counted by {@link #countCall}; never recreates an expired counter. */
  async #uncountCall(service: string, minute: string): Promise<void> {
    await this.#table.updateIf(flowKeys.minute(service, minute), {
      UpdateExpression: 'ADD #calls :minus',
      ConditionExpression: IF_PRESENT.ConditionExpression,
      ExpressionAttributeNames: MINUTE_NAMES,
      ExpressionAttributeValues: { ':minus': -1 },
    });
  }

  /**
   * Adds lease `id` to the service's in-flight item while fewer than `max` are counted. On refusal
   * it reads the item: a missing item is created holding the lease (a lost race to create is
   * followed by one more try), and when the unexpired leases leave room, the expired ones are
   * reclaimed and the add tried once more. A request per step, and only when refused.
   */
  async #takeInFlight(
    service: string,
    id: string,
    max: number,
    nowMs: number,
    leaseMs: number,
  ): Promise<InFlightOutcome> {
    const key = flowKeys.inFlight(service);
    const expires = nowMs + leaseMs;
    let item: Item | undefined;
    for (let attempt = 0; attempt < 2; attempt++) {
      if (await this.#table.updateIf(key, addLease(id, expires, max))) return { granted: true };
      item = await this.#table.get(key, { consistent: true });
      if (attempt === 1) break;
      if (!item) {
        if (await this.#table.put({ ...key, inFlight: 1, leases: { [id]: expires } }, IF_ABSENT))
          return { granted: true };
        continue;
      }
      if (liveExpiries(item, nowMs).length >= max) break;
      const expired = Object.entries(leasesOf(item)).filter(([, at]) => at <= nowMs);
      if (expired.length > 0) await this.#table.updateIf(key, reclaim(expired.slice(0, MAX_RECLAIM)));
    }
    return refusal(service, max, liveExpiries(item, nowMs), nowMs);
  }

  /** 64 random bits in base 36: unique among the leases of a service without coordination. */
  #newLeaseId(): string {
    const part = (): string =>
      Math.floor(this.#random() * 2 ** 32)
        .toString(36)
        .padStart(7, '0');
    return `${part()}${part()}`;
  }
}

/** A limit as given, checked: a limit below one would refuse every call, which is a setting's mistake. */
function positiveInteger(name: string, value: number | undefined): number | undefined {
  if (value !== undefined && !(Number.isInteger(value) && value >= 1))
    throw new RangeError(`${name} must be a positive integer, got ${value}`);
  return value;
}

/**
 * Adds a lease and counts it, while the count is below `max`. The lease's own entry must not exist
 * yet, so that the count never counts one entry twice. An update cannot both create `leases` and
 * set `leases.<id>` (overlapping paths), so an item that does not exist yet fails the condition and
 * is created by a conditional put instead.
 */
function addLease(id: string, expires: number, max: number): UpdateSpec {
  return {
    UpdateExpression: 'SET #leases.#id = :expires ADD #count :one',
    ConditionExpression: '#count < :max AND attribute_not_exists(#leases.#id)',
    ExpressionAttributeNames: { ...IN_FLIGHT_NAMES, '#id': id },
    ExpressionAttributeValues: { ':expires': expires, ':one': 1, ':max': max },
  };
}

/**
 * Removes expired leases and uncounts them, only if each is still there with the expiry read: a
 * lease released or reclaimed meanwhile must not be uncounted twice.
 */
function reclaim(expired: readonly (readonly [string, number])[]): UpdateSpec {
  const names: Record<string, string> = { ...IN_FLIGHT_NAMES };
  const values: Item = { ':minus': -expired.length };
  const conditions: string[] = [];
  const removals: string[] = [];
  expired.forEach(([leaseId, at], i) => {
    names[`#r${i}`] = leaseId;
    values[`:r${i}`] = at;
    conditions.push(`#leases.#r${i} = :r${i}`);
    removals.push(`#leases.#r${i}`);
  });
  return {
    UpdateExpression: `REMOVE ${removals.join(', ')} ADD #count :minus`,
    ConditionExpression: conditions.join(' AND '),
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
}

function leasesOf(item: Item | undefined): Leases {
  return (item?.leases ?? {}) as Leases;
}

/** Expiries (epoch ms) of the unexpired leases of an in-flight item, earliest first. */
function liveExpiries(item: Item | undefined, nowMs: number): number[] {
  return Object.values(leasesOf(item))
    .filter((at) => at > nowMs)
    .sort((a, b) => a - b);
}

/**
 * The refusal of the in-flight limit. A slot is free at the latest when enough of the live leases
 * have expired to bring them below `max` (sooner if their holders release them).
 */
function refusal(service: string, max: number, live: readonly number[], nowMs: number): InFlightOutcome {
  const freedBy = live[live.length - max];
  return {
    granted: false,
    limit: 'inFlight',
    reason: `${service} has ${live.length} of ${max} calls in flight`,
    retryAfterMs: live.length >= max && freedBy !== undefined ? Math.max(0, freedBy - nowMs) : 0,
  };
}

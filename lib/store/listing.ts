import type { ListWindow } from '../core/list-window.ts';
import type { Item, Table } from './dynamo.ts';
import { memoryKeys } from './keys.ts';
import { BY_TIME_INDEX } from './tables.ts';

/**
 * Newest-first lists of tasks and workflow runs from the `byTime` index of the memory table.
 *
 * An item enters the index under `LIST#<kind>#<day>#<shard>` with sort key `<createdAt>#<id>`:
 * one key per kind and UTC day would take every write of a busy day, so each day is spread over
 * {@link LIST_SHARDS} keys by a hash of the id, and a read merges them. A page walks back day by
 * day from its upper bound, reads each day's shards at once, and keeps the items `accept` takes
 * (filters run on the index entries, as a FilterExpression would, so they cost what they read).
 *
 * The cursor is a position: the page after it holds only items strictly older. A page ends when it
 * has `limit` items, at its lower bound, or after {@link READ_LIMITS} queries, so a sparse filter
 * over a long window answers in bounded time with a cursor to go on from.
 */
export const LIST_SHARDS = 4;
/** How much one page may read: queries (32 days of 4 shards when nothing matches, so the default 30-day window fits one page), entries per query. */
export interface ReadLimits {
  queries: number;
  entriesPerQuery: number;
}
export const READ_LIMITS: ReadLimits = { queries: 128, entriesPerQuery: 500 };

export type ListedKind = 'TASK' | 'RUN';

/** The index attributes of an item created at `createdAt` (ISO-8601) with id `id`. */
export function listingKeys(
  kind: ListedKind,
  createdAt: string,
  id: string,
): { gsi2pk: string; gsi2sk: string } {
  return {
    gsi2pk: memoryKeys.listed(kind, createdAt.slice(0, 10), shardOf(id)),
    gsi2sk: memoryKeys.listedPosition(createdAt, id),
  };
}

export interface ListedPage {
  items: Item[];
  /** Where the next page starts; absent when the window is exhausted. */
  next?: string | undefined;
}

/** One page of `kind`'s index entries in `window`, newest first, that `accept` takes. */
export async function listNewest(
  table: Table,
  kind: ListedKind,
  window: ListWindow,
  accept: (item: Item) => boolean,
  limits: ReadLimits = READ_LIMITS,
): Promise<ListedPage> {
  // A query reads the entry at its upper end again (BETWEEN includes it) and drops it: with two
  // entries or more per query, every query gets past it, so each page moves on.
  if (limits.entriesPerQuery < 2) throw new RangeError('entriesPerQuery must be at least 2');
  const upper = window.after !== undefined && window.after < window.until ? window.after : window.until;
  const lower = window.since;
  const items: Item[] = [];
  let reads = 0;
  for (let day = upper.slice(0, 10); day >= lower.slice(0, 10); day = previousDay(day)) {
    const wanted = window.limit - items.length;
    const budget = Math.floor((limits.queries - reads) / LIST_SHARDS);
    // Every day after this one was read whole: the next page starts after all of this day.
    if (budget === 0) return { items, next: `${day}T~` };
    const shards = await Promise.all(
      Array.from({ length: LIST_SHARDS }, (_, shard) =>
        readShard(table, memoryKeys.listed(kind, day, shard), {
          lower,
          upper,
          wanted,
          budget,
          pageSize: limits.entriesPerQuery,
          accept,
        }),
      ),
    );
    reads += shards.reduce((sum, shard) => sum + shard.reads, 0);
    // A shard cut short by the budget was read down to `stoppedAt` only: nothing older is known.
    const boundary = shards.reduce<string | undefined>(
      (highest, shard) =>
        shard.stoppedAt !== undefined && (highest === undefined || shard.stoppedAt > highest)
          ? shard.stoppedAt
          : highest,
      undefined,
    );
    const merged = shards
      .flatMap((shard) => shard.matches)
      .filter((item) => boundary === undefined || position(item) >= boundary)
      .sort((a, b) => (position(a) < position(b) ? 1 : -1));
    // A shard that found `wanted` stopped there: anything it did not read is older than all of them.
    items.push(...merged.slice(0, wanted));
    if (items.length === window.limit) return { items, next: position(items[items.length - 1] as Item) };
    if (boundary !== undefined) return { items, next: boundary };
  }
  return { items };
}

interface ShardRead {
  matches: Item[];
  reads: number;
  /** Set when the budget ran out before the shard's end: the position read down to. */
  stoppedAt?: string;
}

async function readShard(
  table: Table,
  pk: string,
  options: {
    lower: string;
    upper: string;
    wanted: number;
    budget: number;
    pageSize: number;
    accept(item: Item): boolean;
  },
): Promise<ShardRead> {
  const matches: Item[] = [];
  let start: Item | undefined;
  let reads = 0;
  do {
    if (reads === options.budget) return { matches, reads, stoppedAt: position(start as Item) };
    const page = await table.queryPage({
      IndexName: BY_TIME_INDEX.indexName,
      KeyConditionExpression: 'gsi2pk = :pk AND gsi2sk BETWEEN :lower AND :upper',
      ExpressionAttributeValues: { ':pk': pk, ':lower': options.lower, ':upper': options.upper },
      ScanIndexForward: false,
      Limit: options.pageSize,
      ExclusiveStartKey: start,
    });
    reads++;
    for (const item of page.items) {
      // BETWEEN includes its upper end: the item at the cursor was on the page before.
      if (position(item) >= options.upper || !options.accept(item)) continue;
      matches.push(item);
      if (matches.length === options.wanted) return { matches, reads };
    }
    start = page.lastKey;
  } while (start);
  return { matches, reads };
}

function position(item: Item): string {
  return item.gsi2sk as string;
}

function previousDay(day: string): string {
  return new Date(Date.parse(`${day}T00:00:00.000Z`) - 86_400_000).toISOString().slice(0, 10);
}

/** The shard of an id: a small stable hash (FNV-1a). */
export function shardOf(id: string, shards: number = LIST_SHARDS): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    hash ^= id.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % shards;
}

import {
  addObservation,
  type CallObservation,
  callFeatures,
  emptyCounters,
  type MinuteCounters,
  minuteOf,
  type ServiceStats,
  sumByService,
} from './statistics.ts';

/** What storage answers for one task type. */
export interface StatsSnapshot {
  /** All-time counters per service: rolled up, plus the minutes not rolled up yet. */
  allTime: ServiceStats[];
  /** Per-minute counters since the start of the recent window. */
  minutes: MinuteCounters[];
}

export interface LiveStatsOptions {
  /** How long a snapshot is used before it is read again. */
  ttlMs: number;
  /** The recent window learned routing leads with. */
  windowMs: number;
  now(): Date;
  /** Observations kept between two reads, at most (older ones are dropped first). */
  maxPending?: number;
}

interface Entry {
  snapshot: StatsSnapshot;
  readAt: number;
  loading?: Promise<Entry> | undefined;
  /** Aggregates cached until the snapshot or the pending calls change. */
  allTime?: ServiceStats[] | undefined;
  recent?: { minute: string; stats: ServiceStats[] } | undefined;
}

/**
 * The statistics a worker routes on: a per-process copy of what storage holds for a task type,
 * read at most once per `ttlMs`, plus the calls this process settled since. Its own calls count at
 * once, so a worker reacts to a failing or slow service on the next task; other workers' calls
 * count from the next read. A call settled while a read is in flight may be counted twice until
 * the read after: a small, short-lived overcount, never a lost count.
 */
export class LiveStats {
  readonly #load: (taskType: string, since: Date) => Promise<StatsSnapshot>;
  readonly #options: Required<LiveStatsOptions>;
  readonly #entries = new Map<string, Entry>();
  readonly #pending = new Map<string, Array<CallObservation & { observedAt: number }>>();

  constructor(load: (taskType: string, since: Date) => Promise<StatsSnapshot>, options: LiveStatsOptions) {
    this.#load = load;
    this.#options = { maxPending: 10_000, ...options };
  }

  /** All-time counters of each service for `taskType`. */
  async allTime(taskType: string): Promise<ServiceStats[]> {
    const entry = await this.#entry(taskType);
    entry.allTime ??= sumByService(taskType, [...entry.snapshot.allTime, ...this.#pendingStats(taskType)]);
    return entry.allTime;
  }

  /** Counters of each service for `taskType` over the recent window. */
  async recent(taskType: string): Promise<ServiceStats[]> {
    const entry = await this.#entry(taskType);
    const from = minuteOf(new Date(this.#options.now().getTime() - this.#options.windowMs).toISOString());
    if (entry.recent?.minute !== from) {
      const minutes = entry.snapshot.minutes.filter((m) => m.minute >= from);
      entry.recent = {
        minute: from,
        stats: sumByService(taskType, [...minutes, ...this.#pendingStats(taskType)]),
      };
    }
    return entry.recent.stats;
  }

  /** Counts a call this process settled, until the next read brings it from storage. */
  observe(call: CallObservation): void {
    let list = this.#pending.get(call.taskType);
    if (!list) {
      list = [];
      this.#pending.set(call.taskType, list);
    }
    list.push({ ...call, observedAt: this.#options.now().getTime() });
    if (list.length > this.#options.maxPending) list.shift();
    const entry = this.#entries.get(call.taskType);
    if (entry) {
      entry.allTime = undefined;
      entry.recent = undefined;
    }
  }

  #pendingStats(taskType: string): ServiceStats[] {
    return (this.#pending.get(taskType) ?? []).map((call) => {
      const counters = emptyCounters();
      addObservation(counters, call);
      return { taskType, service: call.service, ...counters, features: callFeatures(call) };
    });
  }

  async #entry(taskType: string): Promise<Entry> {
    const now = this.#options.now().getTime();
    const entry = this.#entries.get(taskType);
    if (entry && now - entry.readAt < this.#options.ttlMs) return entry;
    if (entry?.loading) return entry.loading;
    const loading = this.#read(taskType, now);
    if (entry) entry.loading = loading;
    else {
      // The first read: later callers wait for it.
      this.#entries.set(taskType, {
        snapshot: { allTime: [], minutes: [] },
        readAt: Number.NEGATIVE_INFINITY,
        loading,
      });
    }
    return loading;
  }

  async #read(taskType: string, startedAt: number): Promise<Entry> {
    try {
      const snapshot = await this.#load(taskType, new Date(startedAt - this.#options.windowMs));
      // Calls settled before the read started are in storage now; later ones may not be.
      const pending = this.#pending.get(taskType);
      if (pending)
        this.#pending.set(
          taskType,
          pending.filter((c) => c.observedAt >= startedAt),
        );
      const entry: Entry = { snapshot, readAt: this.#options.now().getTime() };
      this.#entries.set(taskType, entry);
      return entry;
    } catch (error) {
      const stale = this.#entries.get(taskType);
      if (stale) stale.loading = undefined;
      // A failed read is not kept; an older snapshot, if any, stays usable until the next try.
      if (stale && stale.readAt > Number.NEGATIVE_INFINITY) return stale;
      this.#entries.delete(taskType);
      throw error;
    }
  }
}

import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { StatsSnapshot } from '../core/live-stats.ts';
import type { PatternCounters } from '../core/patterns.ts';
import {
  type CallObservation,
  callFeatures,
  emptyCounters,
  type FeatureCounters,
  LATENCY_BUCKETS_MS,
  latencyBucket,
  type MinuteCounters,
  mergeCounters,
  mergeFeatures,
  minuteOf,
  type OutcomeCounters,
  type ServiceStats,
  sumByService,
} from '../core/statistics.ts';
import { additions, epochSeconds, IF_ABSENT, type Item, ifVersion, Table } from './dynamo.ts';
import { patternKeys, SERVICE_STATS_PREFIX } from './keys.ts';

/**
 * Statistics in the patterns table. The hot path writes one item per call: the counters of its
 * minute, in one of `shards` partitions per task type, so that no key takes more than its share
 * of a busy service's writes. Everything else is derived from those minutes, off the hot path:
 * - `RECENT#<type>#<shard>` / `<yyyy-mm-ddThh:mm>#<service>`: per-minute counters (ADD; kept 7 days);
 * - `STATS#<type>` / `SERVICE#<service>`: all-time counters rolled up from the minutes, with
 *   `through` (the last minute added) and counts by hour of day; `STATS#<type>` / `ROLLED`: the
 *   minute through which every service of the type is rolled up;
 * - `HOUR#<yyyy-mm-ddThh>` / `<type>#<service>`: counters of one hour, for windowed analysis;
 * - `PATTERN#<type>` / `PARAMS`: success counts by parameter value, rolled up from finished tasks;
 * - `TYPES` / `<type>`: the task types seen (noted at most hourly by each process).
 * Readers add the minutes not rolled up yet to the rolled-up counters, so they are never stale.
 */
export interface StatsStoreOptions {
  table: string;
  /** Partitions per task type for the per-minute counters. */
  shards?: number;
  hourlyRetentionDays?: number;
  random?: () => number;
  now?: () => Date;
}

const HISTOGRAM_SIZE = LATENCY_BUCKETS_MS.length + 1;
/** Minutes are kept long enough for a roll-up that was down for days to catch up. */
const MINUTE_RETENTION_SECONDS = 7 * 86_400;
/** How often a process notes a task type it works on. */
const TYPE_NOTE_INTERVAL_MS = 3_600_000;
/** Minutes this recent may still receive calls and are not rolled up yet. */
const OPEN_MINUTES = 2;
/** The parameter features kept per task type (the most frequent). */
const MAX_PARAMETER_FEATURES = 500;
/** The task features an all-time item counts per service (the first seen). */
const MAX_FEATURES_PER_SERVICE = 200;

export class StatsStore {
  readonly #table: Table;
  readonly #shards: number;
  readonly #hourlyRetentionSeconds: number;
  readonly #random: () => number;
  readonly #now: () => Date;
  readonly #noted = new Map<string, number>();

  constructor(doc: DynamoDBDocumentClient, options: StatsStoreOptions) {
    this.#table = new Table(doc, options.table);
    this.#shards = options.shards ?? 4;
    this.#hourlyRetentionSeconds = (options.hourlyRetentionDays ?? 90) * 86_400;
    this.#random = options.random ?? Math.random;
    this.#now = options.now ?? (() => new Date());
  }

  /** The hot-path write: one `ADD` to the counters of the call's minute, per call. */
  async recordCalls(calls: readonly CallObservation[]): Promise<void> {
    await Promise.all([
      ...calls.map((call) => this.#recordCall(call)),
      ...calls.map((c) => this.#noteType(c.taskType)),
    ]);
  }

  async #recordCall(call: CallObservation): Promise<void> {
    const shard = Math.floor(this.#random() * this.#shards);
    const { add, names, values } = additions(increments(call));
    await this.#table.updateIf(patternKeys.minute(call.taskType, shard, minuteOf(call.at), call.service), {
      UpdateExpression: `ADD ${add.join(', ')} SET #type = :type, #service = :service, #exp = :exp`,
      ExpressionAttributeNames: { ...names, '#type': 'taskType', '#service': 'service', '#exp': 'expiresAt' },
      ExpressionAttributeValues: {
        ...values,
        ':type': call.taskType,
        ':service': call.service,
        ':exp': epochSeconds(new Date(call.at)) + MINUTE_RETENTION_SECONDS,
      },
    });
  }

  /** Notes a task type in `TYPES`, at most once an hour per process: the roll-up and readers list types there. */
  async #noteType(taskType: string): Promise<void> {
    const now = this.#now().getTime();
    if (now - (this.#noted.get(taskType) ?? Number.NEGATIVE_INFINITY) < TYPE_NOTE_INTERVAL_MS) return;
    this.#noted.set(taskType, now);
    await this.#table.put({ ...patternKeys.type(taskType), seenAt: new Date(now).toISOString() });
  }

  /**
   * What a worker routes on for a task type: all-time counters per service (rolled up, plus the
   * minutes since) and the minutes since `since`. One query of the rolled-up items and one per shard.
   */
  async snapshot(taskType: string, since: Date): Promise<StatsSnapshot> {
    const rolled = await this.#rolledUp(taskType);
    const sinceMinute = minuteOf(since.toISOString());
    const from = rolled.through === undefined || sinceMinute < rolled.through ? sinceMinute : rolled.through;
    const minutes = await this.#minutes(taskType, rolled.through === undefined ? '' : from);
    return {
      allTime: allTimeOf(taskType, rolled.services, minutes),
      minutes: minutes.filter((m) => m.minute >= sinceMinute),
    };
  }

  async statsFor(taskType: string): Promise<ServiceStats[]> {
    return (await this.snapshot(taskType, this.#now())).allTime;
  }

  /**
   * Counters of every (type, service) over the hours from `from` to `to`, both included: the
   * hourly items, plus the minutes each of them does not hold yet.
   */
  async windowStats(from: Date, to: Date): Promise<ServiceStats[]> {
    const rows = await this.#windowRows(from, to);
    const groups = Map.groupBy(rows, (s) => `${s.taskType}#${s.service}`);
    return [...groups.values()].map((group) => ({
      taskType: (group[0] as ServiceStats).taskType,
      service: (group[0] as ServiceStats).service,
      ...mergeCounters(group),
    }));
  }

  /**
   * One service's counters over every task type, per minute (`yyyy-mm-ddThh:mm`, from the minute
   * counters: the last 7 days) or per hour (`yyyy-mm-ddThh`, as {@link windowStats} reads them),
   * from `from` to `to`.
   */
  async serviceCounters(
    service: string,
    from: Date,
    to: Date,
    granularity: 'minute' | 'hour',
  ): Promise<Array<{ period: string; counters: OutcomeCounters }>> {
    const width = granularity === 'minute' ? 16 : 13;
    const rows =
      granularity === 'hour'
        ? await this.#windowRows(from, to)
        : (
            await Promise.all(
              (
                await this.taskTypes()
              ).map((type) => this.#minutes(type, minuteOf(from.toISOString()), minuteOf(to.toISOString()))),
            )
          ).flat();
    const byPeriod = Map.groupBy(
      rows.filter((r) => r.service === service),
      (r) => ('minute' in r ? (r.minute as string) : (r as { hour: string }).hour).slice(0, width),
    );
    return [...byPeriod].map(([period, group]) => ({ period, counters: mergeCounters(group) }));
  }

  /** Every (type, service)'s counters of each hour from `from` to `to`: hourly items, and the minutes they do not hold yet. */
  async #windowRows(from: Date, to: Date): Promise<Array<ServiceStats & { hour: string }>> {
    const hours: string[] = [];
    for (let t = Math.floor(from.getTime() / 3_600_000); t <= Math.floor(to.getTime() / 3_600_000); t++) {
      hours.push(new Date(t * 3_600_000).toISOString().slice(0, 13));
    }
    const hourItems = (
      await Promise.all(
        hours.map(async (hour) =>
          (await this.#table.queryPartition(patternKeys.hour(hour))).map((item) => ({ hour, item })),
        ),
      )
    ).flat();
    // What each hourly item holds: the minutes of its hour up to its `through`.
    const covered = new Map(
      hourItems.map(({ hour, item }) => [`${hour}#${item.taskType}#${item.service}`, item.through as string]),
    );
    const first = `${hours[0]}:00`;
    const last = `${hours.at(-1)}:59`;
    const unrolled = (
      await Promise.all(
        (
          await this.taskTypes()
        ).map(async (type) => {
          const rolled = await this.#rolledUp(type);
          const start = rolled.through === undefined || rolled.through < first ? first : rolled.through;
          return (await this.#minutes(type, start, last)).filter((m) => {
            const through = covered.get(`${m.minute.slice(0, 13)}#${type}#${m.service}`);
            return through === undefined || m.minute > through;
          });
        }),
      )
    ).flat();
    return [
      ...hourItems.map(({ hour, item }) => ({ ...toServiceStats(item), hour })),
      ...unrolled.map((m) => ({ ...m, hour: m.minute.slice(0, 13) })),
    ];
  }

  async taskTypes(): Promise<string[]> {
    return (await this.#table.queryPartition(patternKeys.types)).map((item) => item.sk as string);
  }

  /**
   * Success counts per feature of a task type: each service and each hour of day (from the call
   * counters, every call counted) and each parameter value (from finished tasks, as rolled up).
   */
  async patternsFor(taskType: string): Promise<PatternCounters[]> {
    const [rolled, params] = await Promise.all([this.#rolledUp(taskType), this.#parameterPatterns(taskType)]);
    const minutes = await this.#minutes(taskType, rolled.through ?? '');
    const services = allTimeOf(taskType, rolled.services, minutes).map((s) => ({
      taskType,
      key: `service:${s.service}`,
      total: s.count,
      successes: s.successes,
    }));
    const hours = new Map<string, { total: number; successes: number }>();
    const addHour = (hour: string, total: number, successes: number) => {
      const h = hours.get(hour) ?? { total: 0, successes: 0 };
      hours.set(hour, { total: h.total + total, successes: h.successes + successes });
    };
    for (const item of rolled.items) {
      for (let h = 0; h < 24; h++) {
        const hour = String(h).padStart(2, '0');
        const total = Number(item[`d${hour}n`] ?? 0);
        if (total > 0) addHour(hour, total, Number(item[`d${hour}s`] ?? 0));
      }
    }
    for (const m of minutes) {
      const through = rolled.services.get(m.service)?.through;
      if (through === undefined || m.minute > through) addHour(m.minute.slice(11, 13), m.count, m.successes);
    }
    return [
      ...services,
      ...[...hours].map(([hour, h]) => ({ taskType, key: `hour:${hour}`, ...h })),
      ...Object.entries(params.features).map(([key, [total, successes]]) => ({
        taskType,
        key,
        total,
        successes,
      })),
    ].filter((p) => p.total > 0);
  }

  /** Routing decisions counted by the statistics: `total`, `strategy:<name>`, `service:<name>`. */
  async routeCounters(): Promise<Record<string, number>> {
    const totals: Record<string, number> = {};
    const add = (key: string, n: number) => {
      if (n > 0) totals[key] = (totals[key] ?? 0) + n;
    };
    for (const taskType of await this.taskTypes()) {
      const rolled = await this.#rolledUp(taskType);
      const minutes = await this.#minutes(taskType, rolled.through ?? '');
      for (const item of rolled.items) {
        add('total', Number(item.routes ?? 0));
        add(`service:${item.service as string}`, Number(item.routes ?? 0));
        for (const [field, n] of Object.entries(item))
          if (field.startsWith('strategy:')) add(field, Number(n));
      }
      for (const m of minutes) {
        const through = rolled.services.get(m.service)?.through;
        if (through !== undefined && m.minute <= through) continue;
        add('total', m.routes);
        add(`service:${m.service}`, m.routes);
        for (const [strategy, n] of Object.entries(m.byStrategy)) add(`strategy:${strategy}`, n);
      }
    }
    return totals;
  }

  /**
   * Rolls the closed minutes of a task type into its all-time and hourly counters. Each service's
   * all-time item moves from its `through` to the new one in one conditional write, so a roll-up
   * that is run twice, or dies half-way and is run again, adds every minute once.
   */
  async rollUp(taskType: string): Promise<{ minutes: number; services: number }> {
    const now = this.#now();
    const closed = minuteOf(new Date(now.getTime() - OPEN_MINUTES * 60_000).toISOString());
    const rolled = await this.#rolledUp(taskType);
    // From the start of the hour of the first minute to roll, so that its hour is recomputed whole.
    const hourStart = rolled.through === undefined ? '' : `${rolled.through.slice(0, 13)}:00`;
    const minutes = (await this.#minutes(taskType, hourStart)).filter((m) => m.minute <= closed);
    const fresh = minutes.filter((m) => rolled.through === undefined || m.minute > rolled.through);
    if (fresh.length === 0) return { minutes: 0, services: 0 };
    // Per service from its own `through`: a roll-up that stopped half-way moved some services on.
    const byService = Map.groupBy(
      fresh.filter((m) => {
        const through = rolled.services.get(m.service)?.through;
        return through === undefined || m.minute > through;
      }),
      (m) => m.service,
    );
    await Promise.all(
      [...byService].map(([service, rows]) =>
        this.#addToAllTime(taskType, service, rows, rolled.services.get(service), closed),
      ),
    );
    const hours = new Set(fresh.map((m) => m.minute.slice(0, 13)));
    await Promise.all(
      [...hours].map((hour) =>
        this.#putHour(
          taskType,
          hour,
          minutes.filter((m) => m.minute.startsWith(hour)),
          closed,
        ),
      ),
    );
    await this.#table.put({ ...patternKeys.rolledThrough(taskType), through: closed });
    return { minutes: new Set(fresh.map((m) => m.minute)).size, services: byService.size };
  }

  /**
   * Adds finished tasks' parameter features to the type's pattern counts: `read` gives the tasks
   * finished after a position. The counts and the position are one item, written only if it is
   * unchanged since it was read, so no task is counted twice.
   */
  async rollUpParameters(
    taskType: string,
    read: (after: string) => Promise<Array<{ position: string; succeeded: boolean; features: string[] }>>,
  ): Promise<number> {
    const current = await this.#parameterPatterns(taskType);
    const tasks = await read(current.position);
    if (tasks.length === 0) return 0;
    const features = { ...current.features };
    for (const task of tasks) {
      for (const key of task.features) {
        const [total, successes] = features[key] ?? [0, 0];
        features[key] = [total + 1, successes + (task.succeeded ? 1 : 0)];
      }
    }
    const kept = Object.fromEntries(
      Object.entries(features)
        .sort((a, b) => b[1][0] - a[1][0])
        .slice(0, MAX_PARAMETER_FEATURES),
    );
    const written = await this.#table.put(
      {
        ...patternKeys.parameters(taskType),
        position: (tasks.at(-1) as { position: string }).position,
        features: kept,
        version: current.version + 1,
      },
      current.version === 0 ? IF_ABSENT : ifVersion(current.version),
    );
    return written ? tasks.length : 0;
  }

  async #parameterPatterns(
    taskType: string,
  ): Promise<{ position: string; version: number; features: Record<string, [number, number]> }> {
    const item = await this.#table.get(patternKeys.parameters(taskType));
    return {
      position: (item?.position as string | undefined) ?? '',
      version: Number(item?.version ?? 0),
      features: (item?.features as Record<string, [number, number]> | undefined) ?? {},
    };
  }

  async #addToAllTime(
    taskType: string,
    service: string,
    rows: MinuteCounters[],
    current: (ServiceStats & { through: string | undefined }) | undefined,
    through: string,
  ): Promise<void> {
    const previous = current?.through;
    const sum = mergeCounters(rows);
    const adds: Record<string, number> = {
      count: sum.count,
      successes: sum.successes,
      failures: sum.failures,
      timeouts: sum.timeouts,
      totalMs: sum.totalMs,
      costed: sum.costed,
      totalCost: sum.totalCost,
      routes: rows.reduce((n, r) => n + r.routes, 0),
      ...featureIncrements(mergeFeatures(rows.map((r) => r.features)), current?.features),
    };
    sum.histogram.forEach((n, i) => {
      if (n > 0) adds[`h${i}`] = n;
    });
    for (const row of rows) {
      for (const [strategy, n] of Object.entries(row.byStrategy))
        adds[`strategy:${strategy}`] = (adds[`strategy:${strategy}`] ?? 0) + n;
      const hour = row.minute.slice(11, 13);
      adds[`d${hour}n`] = (adds[`d${hour}n`] ?? 0) + row.count;
      adds[`d${hour}s`] = (adds[`d${hour}s`] ?? 0) + row.successes;
    }
    const { add, names, values } = additions(adds);
    // Another roll-up got there first (the condition fails): its minutes are added already.
    await this.#table.updateIf(patternKeys.serviceStats(taskType, service), {
      UpdateExpression: `SET #through = :through, #type = :type, #service = :service${add.length > 0 ? ` ADD ${add.join(', ')}` : ''}`,
      ConditionExpression: previous === undefined ? 'attribute_not_exists(#through)' : '#through = :previous',
      ExpressionAttributeNames: {
        ...names,
        '#through': 'through',
        '#type': 'taskType',
        '#service': 'service',
      },
      ExpressionAttributeValues: {
        ...values,
        ':through': through,
        ':type': taskType,
        ':service': service,
        ...(previous === undefined ? {} : { ':previous': previous }),
      },
    });
  }

  async #putHour(taskType: string, hour: string, minutes: MinuteCounters[], through: string): Promise<void> {
    await Promise.all(
      sumByService(taskType, minutes).map((s) => {
        const histogram = Object.fromEntries(
          s.histogram.map((n, i) => [`h${i}`, n]).filter(([, n]) => n !== 0),
        );
        return this.#table.put({
          ...patternKeys.hourOf(hour, taskType, s.service),
          taskType,
          service: s.service,
          through,
          count: s.count,
          successes: s.successes,
          failures: s.failures,
          timeouts: s.timeouts,
          totalMs: s.totalMs,
          ...histogram,
          expiresAt: epochSeconds(new Date(`${hour}:00:00Z`)) + this.#hourlyRetentionSeconds,
        });
      }),
    );
  }

  /** The rolled-up items of a type: per service (with its `through`) and the type's watermark. */
  async #rolledUp(taskType: string): Promise<{
    through: string | undefined;
    services: Map<string, ServiceStats & { through: string | undefined }>;
    items: Item[];
  }> {
    const items = await this.#table.queryPartition(patternKeys.stats(taskType));
    const serviceItems = items.filter((i) => (i.sk as string).startsWith(SERVICE_STATS_PREFIX));
    return {
      through: items.find((i) => i.sk === 'ROLLED')?.through as string | undefined,
      services: new Map(
        serviceItems.map((i) => [
          i.service as string,
          { ...toServiceStats(i), through: i.through as string | undefined },
        ]),
      ),
      items: serviceItems,
    };
  }

  /**
   * The minute counters of a type from minute `from` on, up to minute `through` when given (every
   * shard, summed per minute and service).
   */
  async #minutes(taskType: string, from: string, through?: string): Promise<MinuteCounters[]> {
    if (through !== undefined && from > through) return [];
    // DynamoDB refuses an empty key value: from the start is no lower bound at all. A minute's
    // keys are `<minute>#<service>`: `~` sorts after `#`, so `<through>~` ends at that minute.
    const condition =
      from === ''
        ? through === undefined
          ? ''
          : ' AND sk <= :through'
        : through === undefined
          ? ' AND sk >= :from'
          : ' AND sk BETWEEN :from AND :through';
    const pages = await Promise.all(
      Array.from({ length: this.#shards }, (_, shard) =>
        this.#table.query({
          KeyConditionExpression: `pk = :pk${condition}`,
          ExpressionAttributeValues: {
            ':pk': patternKeys.minutes(taskType, shard),
            ...(from === '' ? {} : { ':from': from }),
            ...(through === undefined ? {} : { ':through': `${through}~` }),
          },
        }),
      ),
    );
    const byKey = new Map<string, MinuteCounters>();
    for (const item of pages.flat()) {
      const row = toMinuteCounters(item);
      const key = item.sk as string;
      const seen = byKey.get(key);
      byKey.set(key, seen ? addMinutes(seen, row) : row);
    }
    return [...byKey.values()].sort((a, b) => (a.minute < b.minute ? -1 : a.minute > b.minute ? 1 : 0));
  }
}

/** The ADD amounts of one call: counts, latency sum, one histogram bucket, the route it started. */
function increments(call: CallObservation): Record<string, number> {
  return {
    count: 1,
    successes: call.success ? 1 : 0,
    failures: call.success ? 0 : 1,
    timeouts: call.timedOut ? 1 : 0,
    totalMs: call.latencyMs,
    [`h${latencyBucket(call.latencyMs)}`]: 1,
    ...(call.routedBy ? { routes: 1, [`strategy:${call.routedBy}`]: 1 } : {}),
    ...(call.cost === undefined ? {} : { costed: 1, totalCost: call.cost }),
    ...featureIncrements(callFeatures(call)),
  };
}

/**
 * The ADD amounts of feature counters: `f:<feature>:n` (calls) and `f:<feature>:s` (successes).
 * With the features an item holds already, new ones are added only while it holds fewer than
 * {@link MAX_FEATURES_PER_SERVICE}, so free-text keywords cannot grow an all-time item without bound.
 */
function featureIncrements(
  features: Record<string, FeatureCounters>,
  held?: Record<string, FeatureCounters>,
): Record<string, number> {
  const adds: Record<string, number> = {};
  let room =
    held === undefined ? Number.POSITIVE_INFINITY : MAX_FEATURES_PER_SERVICE - Object.keys(held).length;
  for (const [feature, c] of Object.entries(features).sort((a, b) => b[1].count - a[1].count)) {
    if (held !== undefined && held[feature] === undefined) {
      if (room <= 0) continue;
      room--;
    }
    adds[`f:${feature}:n`] = c.count;
    adds[`f:${feature}:s`] = c.successes;
  }
  return adds;
}

/** All-time counters: each service's rolled-up counters plus its minutes after its `through`. */
function allTimeOf(
  taskType: string,
  rolled: Map<string, ServiceStats & { through: string | undefined }>,
  minutes: MinuteCounters[],
): ServiceStats[] {
  const unrolled = minutes.filter((m) => {
    const through = rolled.get(m.service)?.through;
    return through === undefined || m.minute > through;
  });
  return sumByService(taskType, [...[...rolled.values()].map(({ through: _t, ...s }) => s), ...unrolled]);
}

function addMinutes(a: MinuteCounters, b: MinuteCounters): MinuteCounters {
  const byStrategy = { ...a.byStrategy };
  for (const [s, n] of Object.entries(b.byStrategy)) byStrategy[s] = (byStrategy[s] ?? 0) + n;
  return {
    ...a,
    ...mergeCounters([a, b]),
    routes: a.routes + b.routes,
    byStrategy,
    features: mergeFeatures([a.features, b.features]),
  };
}

function toServiceStats(item: Item): ServiceStats {
  const counters: OutcomeCounters = emptyCounters();
  counters.count = Number(item.count ?? 0);
  counters.successes = Number(item.successes ?? 0);
  counters.failures = Number(item.failures ?? 0);
  counters.timeouts = Number(item.timeouts ?? 0);
  counters.totalMs = Number(item.totalMs ?? 0);
  counters.histogram = Array.from({ length: HISTOGRAM_SIZE }, (_, i) => Number(item[`h${i}`] ?? 0));
  counters.costed = Number(item.costed ?? 0);
  counters.totalCost = Number(item.totalCost ?? 0);
  const features: Record<string, FeatureCounters> = {};
  for (const [field, n] of Object.entries(item)) {
    if (!field.startsWith('f:')) continue;
    const feature = field.slice(2, -2);
    const seen = features[feature] ?? { count: 0, successes: 0 };
    if (field.endsWith(':n')) seen.count = Number(n);
    else if (field.endsWith(':s')) seen.successes = Number(n);
    features[feature] = seen;
  }
  return { taskType: item.taskType as string, service: item.service as string, ...counters, features };
}

function toMinuteCounters(item: Item): MinuteCounters {
  const byStrategy: Record<string, number> = {};
  for (const [field, n] of Object.entries(item)) {
    if (field.startsWith('strategy:')) byStrategy[field.slice('strategy:'.length)] = Number(n);
  }
  return {
    ...toServiceStats(item),
    minute: (item.sk as string).slice(0, 16),
    routes: Number(item.routes ?? 0),
    byStrategy,
  };
}

/**
 * One of five capable factories turns ten times slower: what share of tasks still finish within
 * their SLA? A simulation in virtual time that runs the orchestrator's own decision code (Brain,
 * Router with the learned strategy, TaskRun with its time budget and failover, LiveStats and
 * PassiveHealth per worker process) against simulated factories, so it measures the routing
 * and timeout logic, not this machine.
 *
 * Tasks arrive at a steady rate and are spread over several worker processes, as SQS spreads
 * messages over Lambda instances. Each process reads the shared statistics at most every 5 s (as
 * deployed) and counts its own calls at once. A call's outcome reaches the shared statistics
 * when it ends. The SLA is the task's time budget (`resources.timeoutSeconds`): a task is within
 * it when it succeeds before the budget ends.
 */
import { pathToFileURL } from 'node:url';
import { Brain } from '../lib/core/brain.ts';
import type { FactoryCaller, FactoryCallResult } from '../lib/core/factory-call.ts';
import { LiveStats, type StatsSnapshot } from '../lib/core/live-stats.ts';
import { PassiveHealth } from '../lib/core/passive-health.ts';
import { mulberry32 } from '../lib/core/random.ts';
import { Router, type StrategyName } from '../lib/core/routing/router.ts';
import { DEFAULT_OUTLIER_POLICY, type Service } from '../lib/core/service.ts';
import {
  addObservation,
  type CallObservation,
  emptyCounters,
  type MinuteCounters,
  minuteOf,
  sumByService,
} from '../lib/core/statistics.ts';
import { taskSchema } from '../lib/core/task.ts';
import { TaskRun } from '../lib/core/task-run.ts';

export interface SlowFactoryOptions {
  tasks: number;
  tasksPerSecond: number;
  /** The task at which one factory turns slow. */
  turnAtTask: number;
  /** Worker processes sharing the statistics. */
  workers: number;
  /** The tasks' budget (their SLA), seconds. */
  slaSeconds: number;
  /** Median latency of a healthy factory (lognormal), ms, and the spread (sigma of the log). */
  medianMs: number;
  sigma: number;
  /** How much slower the slow factory turns. */
  slowdown: number;
  strategy: StrategyName;
  seed: number;
}

export const DEFAULT_SLOW_FACTORY_OPTIONS: SlowFactoryOptions = {
  tasks: 20_000,
  tasksPerSecond: 20,
  turnAtTask: 4_000,
  workers: 4,
  slaSeconds: 2,
  medianMs: 200,
  sigma: 0.4,
  slowdown: 10,
  strategy: 'learned',
  seed: 11,
};

const TASK_TYPE = 'summarize';
const ROUTING_CACHE_MS = 5_000;
const RECENT_WINDOW_MS = 15 * 60_000;

/** The shared statistics: per-minute counters, as the per-call write keeps them. */
class SharedStats {
  readonly #minutes = new Map<string, MinuteCounters>();
  /** Calls still running: they count from the moment they end. */
  #pending: CallObservation[] = [];

  add(call: CallObservation): void {
    this.#pending.push(call);
  }

  snapshot(now: number, since: Date): StatsSnapshot {
    const due = this.#pending.filter((c) => Date.parse(c.at) <= now);
    this.#pending = this.#pending.filter((c) => Date.parse(c.at) > now);
    for (const call of due) {
      const key = `${minuteOf(call.at)}#${call.service}`;
      let row = this.#minutes.get(key);
      if (!row) {
        row = {
          taskType: call.taskType,
          service: call.service,
          minute: minuteOf(call.at),
          routes: 0,
          byStrategy: {},
          ...emptyCounters(),
        };
        this.#minutes.set(key, row);
      }
      addObservation(row, call);
    }
    const rows = [...this.#minutes.values()];
    const from = minuteOf(since.toISOString());
    return { allTime: sumByService(TASK_TYPE, rows), minutes: rows.filter((r) => r.minute >= from) };
  }
}

/** A lognormal draw (Box-Muller) with the given median and sigma. */
function lognormal(random: () => number, median: number, sigma: number): number {
  const u = Math.max(random(), 1e-12);
  const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
  return median * Math.exp(sigma * z);
}

export async function slowFactorySla(options: SlowFactoryOptions = DEFAULT_SLOW_FACTORY_OPTIONS) {
  const random = mulberry32(options.seed);
  const start = Date.parse('2026-06-01T00:00:00.000Z');
  const services: Service[] = Array.from({ length: 5 }, (_, i) => ({
    name: `factory-${i + 1}`,
    endpoint: `https://factory-${i + 1}.example.com`,
    capabilities: [TASK_TYPE],
    weight: 1,
    enabled: true,
    health: 'healthy',
    load: 0,
    version: 1,
    updatedAt: new Date(start).toISOString(),
  }));
  const slow = 'factory-3';
  const shared = new SharedStats();
  let taskIndex = 0;
  /** The virtual time of the current call (each task runs on its own clock from its arrival). */
  let clock = start;
  const now = () => new Date(clock);

  const factories: FactoryCaller = {
    async execute(endpoint, _request, timeoutMs): Promise<FactoryCallResult> {
      const name = new URL(endpoint).hostname.split('.')[0] as string;
      const median =
        name === slow && taskIndex >= options.turnAtTask
          ? options.medianMs * options.slowdown
          : options.medianMs;
      const latency = lognormal(random, median, options.sigma);
      if (latency > timeoutMs) {
        clock += timeoutMs;
        return {
          ok: false,
          error: { kind: 'timeout', message: `no answer within ${timeoutMs} ms` },
          retryable: true,
          latencyMs: timeoutMs,
        };
      }
      clock += latency;
      return { ok: true, output: 'done', latencyMs: Math.round(latency) };
    },
  };

  const workers = Array.from({ length: options.workers }, () => {
    const live = new LiveStats(async (_type, since) => shared.snapshot(clock, since), {
      ttlMs: ROUTING_CACHE_MS,
      windowMs: RECENT_WINDOW_MS,
      now,
    });
    const health = new PassiveHealth(DEFAULT_OUTLIER_POLICY, now);
    const listServices = async () => health.apply(services);
    const brain = new Brain({ listServices, statsFor: (t) => live.allTime(t), now });
    const router = new Router({
      listServices,
      statsFor: (t) => live.allTime(t),
      recentStatsFor: (t) => live.recent(t),
      random,
      now,
    });
    return { live, health, brain, router };
  });

  let withinSla = 0;
  let succeeded = 0;
  let routedToSlow = 0;
  let missedAfterTurn = 0;
  const perService = new Map<string, number>();
  for (taskIndex = 0; taskIndex < options.tasks; taskIndex++) {
    const arrival = start + (taskIndex * 1000) / options.tasksPerSecond;
    clock = arrival;
    const worker = workers[taskIndex % workers.length] as (typeof workers)[number];
    const task = taskSchema.parse({
      id: `task-${taskIndex}`,
      type: TASK_TYPE,
      resources: { timeoutSeconds: options.slaSeconds },
    });
    const decision = await worker.brain.decideTask(task);
    const route = await worker.router.routeTask(task, options.strategy);
    if (route.primary === slow) routedToSlow++;
    const run = new TaskRun(
      {
        router: worker.router,
        factories,
        health: worker.health,
        observe: (call) => {
          worker.live.observe(call);
          shared.add(call);
        },
        context: async () => ({}),
        callTimeoutMs: 10_000,
        now,
        random,
      },
      {
        task,
        decision,
        route,
        attempts: [],
        startedAt: new Date(arrival).toISOString(),
        services: new Map(services.map((s) => [s.name, s])),
        stats: await worker.live.allTime(TASK_TYPE),
      },
    );
    let outcome = await run.proceed({ retries: true });
    // A retry is a delayed message: the task's clock moves on by the delay.
    while (outcome.kind === 'retry') {
      clock += outcome.delaySeconds * 1000;
      outcome = await run.proceed({ retries: true });
    }
    const last = run.attempts.at(-1)?.service ?? 'none';
    perService.set(last, (perService.get(last) ?? 0) + 1);
    if (outcome.kind === 'succeeded') succeeded++;
    const inTime = outcome.kind === 'succeeded' && clock - arrival <= options.slaSeconds * 1000;
    if (inTime) withinSla++;
    else if (taskIndex >= options.turnAtTask) missedAfterTurn++;
  }
  return {
    setup: {
      ...options,
      slowFactory: slow,
      definition:
        'share of all tasks that succeeded within their budget (the SLA); the factory turns slow at turnAtTask and stays slow',
    },
    withinSla: withinSla / options.tasks,
    succeeded: succeeded / options.tasks,
    missedAfterTurn,
    routedToSlowShare: routedToSlow / options.tasks,
    servedBy: Object.fromEntries(perService),
  };
}

export type SlowFactoryReport = Awaited<ReturnType<typeof slowFactorySla>>;

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(JSON.stringify(await slowFactorySla(), null, 2));
}

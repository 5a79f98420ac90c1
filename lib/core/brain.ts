import { confidenceFrom } from './confidence.ts';
import { type Priority, priorityScore } from './priority.ts';
import { expectedUtility } from './routing/learned.ts';
import { byName } from './routing/strategy.ts';
import { eligibleServices, isCapable, type Service } from './service.ts';
import { latencyQuantileMs, meanMs, type ServiceStats } from './statistics.ts';
import { type Task, type TaskInput, taskSchema } from './task.ts';
import type { TaskResultInput } from './task-result.ts';
import { parseInput } from './validation.ts';

/**
 * Resources a task is given: what the submitter asked for, else its type's profile, stretched by
 * history. `timeoutSeconds` is the task's time budget from submission: every call, retry and
 * callback wait must fit in it.
 */
export interface Resources {
  cpu: number;
  memoryMb: number;
  timeoutSeconds: number;
}

/** Default resources per task type; `default` covers the rest. */
export const TASK_PROFILES: Readonly<Record<string, Resources>> = Object.freeze({
  default: { cpu: 1, memoryMb: 1_024, timeoutSeconds: 30 },
  video_generation: { cpu: 4, memoryMb: 8_192, timeoutSeconds: 300 },
  image_generation: { cpu: 2, memoryMb: 4_096, timeoutSeconds: 120 },
  fraud_detection: { cpu: 2, memoryMb: 2_048, timeoutSeconds: 10 },
  market_research: { cpu: 1, memoryMb: 2_048, timeoutSeconds: 120 },
});

/** A timeout is never set below twice the observed p95, so slow-but-healthy services are not cut off. */
export const TIMEOUT_P95_FACTOR = 2;
export const MAX_TIMEOUT_SECONDS = 900;

export interface Decision {
  taskId: string;
  taskType: string;
  priority: Priority;
  priorityScore: number;
  /** The service the brain prefers, or undefined when none can take the task. */
  selectedService: string | undefined;
  confidence: number;
  resources: Resources;
  /** Every capable service with its record, best first: what the choice was made from. */
  alternatives: Array<{ service: string; expectedUtility: number; count: number; successes: number }>;
  reason: string;
}

/** What the brain reads. Decisions are counted by metrics and by the statistics, not here. */
export interface BrainPorts {
  listServices(): Promise<Service[]>;
  statsFor(taskType: string): Promise<ServiceStats[]>;
  /**
   * Memory's exactly-once store-and-learn ({@link Memory.storeTaskResult}), for results of work
   * done outside the task path; a brain that only decides does without.
   */
  storeTaskResult?(result: TaskResultInput): Promise<{ recorded: boolean }>;
  now(): Date;
}

/**
 * The decision maker: scores priority, picks the service with the best learned record (success,
 * then latency), sizes resources and says how sure it is and why. It exploits what it knows;
 * exploration is the learned router's job.
 */
export class Brain {
  readonly #ports: BrainPorts;
  readonly #multipliers: Readonly<Record<string, number>> | undefined;

  constructor(ports: BrainPorts, options: { multipliers?: Readonly<Record<string, number>> } = {}) {
    this.#ports = ports;
    this.#multipliers = options.multipliers;
  }

  async decide(taskInput: TaskInput): Promise<Decision> {
    return this.decideTask(parseInput(taskSchema, taskInput, 'task'));
  }

  /** {@link decide} for a task that is already validated (the worker's). */
  async decideTask(task: Task): Promise<Decision> {
    const services = await this.#ports.listServices();
    const stats = await this.#ports.statsFor(task.type);
    const byService = new Map(stats.map((s) => [s.service, s]));
    const candidates = eligibleServices(services, (s) => isCapable(s, task), this.#ports.now()).sort(byName);
    const alternatives = candidates
      .map((service) => {
        const s = byService.get(service.name);
        return {
          service: service.name,
          expectedUtility: round(expectedUtility(s)),
          count: s?.count ?? 0,
          successes: s?.successes ?? 0,
        };
      })
      .sort((a, b) => b.expectedUtility - a.expectedUtility || b.count - a.count);
    const withHistory = alternatives.filter((a) => a.count > 0);
    const selected = withHistory[0] ?? alternatives[0];
    const selectedStats = selected ? byService.get(selected.service) : undefined;
    const p95 = selectedStats ? latencyQuantileMs(selectedStats, 0.95) : undefined;
    const resources = allocate(task, p95);
    return {
      taskId: task.id,
      taskType: task.type,
      priority: task.priority,
      priorityScore: priorityScore(task, this.#multipliers),
      selectedService: selected?.service,
      confidence: confidenceFrom(selectedStats),
      resources,
      alternatives,
      reason: explain(task, selected?.service, selectedStats, p95, withHistory.length > 0, resources),
    };
  }

  /**
   * Learns from a finished task: the result is stored and the statistics, patterns and type list
   * updated, once per task id. Returns false for a repeated delivery.
   */
  async learn(result: TaskResultInput): Promise<boolean> {
    if (!this.#ports.storeTaskResult) throw new Error('this brain has no memory to learn into');
    return (await this.#ports.storeTaskResult(result)).recorded;
  }
}

/** Submitter's request first, else the type's profile; the timeout grows to cover twice the observed p95. */
export function allocate(task: Task, p95: number | undefined): Resources {
  const profile = TASK_PROFILES[task.type] ?? (TASK_PROFILES.default as Resources);
  const fromHistory = p95 === undefined ? 0 : Math.ceil((TIMEOUT_P95_FACTOR * p95) / 1000);
  return {
    cpu: task.resources.cpu ?? profile.cpu,
    memoryMb: task.resources.memoryMb ?? profile.memoryMb,
    timeoutSeconds:
      task.resources.timeoutSeconds ??
      Math.min(MAX_TIMEOUT_SECONDS, Math.max(profile.timeoutSeconds, fromHistory)),
  };
}

const roundedMs = (ms: number | undefined) => (ms !== undefined && Number.isFinite(ms) ? Math.round(ms) : ms);

function explain(
  task: Task,
  service: string | undefined,
  stats: ServiceStats | undefined,
  p95: number | undefined,
  learned: boolean,
  resources: Resources,
): string {
  const parts = [`${task.priority} ${task.type} task`];
  if (service === undefined) {
    parts.push('no enabled, healthy service can take it');
  } else if (learned && stats) {
    const mean = meanMs(stats);
    parts.push(
      `${service} has the best record: ${stats.successes}/${stats.count} successes` +
        (mean === undefined ? '' : `, mean ${Math.round(mean)} ms, p95 ${roundedMs(p95)} ms`),
    );
  } else {
    parts.push(`no history yet, following router order: ${service}`);
  }
  parts.push(`${resources.cpu} cpu, ${resources.memoryMb} MB, ${resources.timeoutSeconds} s timeout`);
  return parts.join('; ');
}

function round(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}

import type { Brain, Decision } from '../brain.ts';
import { NoRouteError } from '../errors.ts';
import type { Memory } from '../memory.ts';
import { retryDelaySeconds } from '../retry-policy.ts';
import type { Router, RoutingDecision, StrategyName } from '../routing/router.ts';
import type { Service } from '../service.ts';
import type { Task } from '../task.ts';
import type { CallAttempt, TaskRecord } from '../task-record.ts';
import type { FactoryCaller } from './factory-call.ts';

/** A route that has run out of services. */
export interface ExhaustedRoute {
  exhausted: true;
  tried: string[];
  reason: string;
}

export type CallOutcome =
  | { outcome: 'succeeded'; service: string; output: unknown; latencyMs: number }
  | {
      outcome: 'retry';
      service: string;
      delaySeconds: number;
      error: NonNullable<CallAttempt['error']>;
      latencyMs: number;
    }
  | { outcome: 'failover'; service: string; error: NonNullable<CallAttempt['error']>; latencyMs: number };

/**
 * The data that flows through the task pipeline state machine: each step receives it whole and
 * returns it with its own part filled in. It stays small: outputs larger than a few hundred KB
 * are refused by memory before they could hit the Step Functions payload limit.
 */
export interface PipelineState {
  taskId: string;
  task: Task;
  strategy?: StrategyName | undefined;
  decision?: Decision;
  route?: RoutingDecision | ExhaustedRoute;
  /** Calls made to the current primary. */
  attempt: number;
  call?: CallOutcome;
  status?: 'SUCCEEDED' | 'FAILED';
  /** Set by the state machine's Catch when a step itself failed. */
  fault?: { Error?: string; Cause?: string };
}

export interface TaskPipelinePorts {
  brain: Pick<Brain, 'decide'>;
  router: Pick<Router, 'route' | 'failover'>;
  memory: Pick<Memory, 'storeTaskResult' | 'learnCall' | 'getContext'>;
  factories: FactoryCaller;
  getService(name: string): Promise<Service | undefined>;
  adjustLoad(service: string, delta: number): Promise<void>;
  recordCallOutcome(service: string, success: boolean): Promise<void>;
  updateTask(taskId: string, patch: Partial<TaskRecord>): Promise<void>;
  appendAttempt(taskId: string, attempt: CallAttempt): Promise<void>;
  /** Upper bound of one synchronous factory call (ms). */
  callTimeoutMs: number;
  now(): Date;
}

/**
 * The steps of the single-task pipeline: Decide, Route, CallFactory (retried with the task's
 * policy, then failed over), Failover, Record. The state machine wires them together; each step
 * is a plain function of the pipeline state so it can run in a Lambda or in-process.
 */
export class TaskPipeline {
  readonly #ports: TaskPipelinePorts;
  constructor(ports: TaskPipelinePorts) {
    this.#ports = ports;
  }

  async decide(state: PipelineState): Promise<PipelineState> {
    const decision = await this.#ports.brain.decide(state.task);
    await this.#ports.updateTask(state.taskId, { status: 'RUNNING', decision, updatedAt: this.#now() });
    return { ...state, decision, attempt: 0 };
  }

  /** Routes the task; the brain's resource decision sets the per-call timeout. No route is a task failure, not a fault. */
  async route(state: PipelineState): Promise<PipelineState> {
    let route: RoutingDecision | ExhaustedRoute;
    try {
      const decided = await this.#ports.router.route(state.task, state.strategy);
      const timeoutSeconds = state.decision?.resources.timeoutSeconds ?? decided.retryPolicy.timeoutSeconds;
      route = { ...decided, retryPolicy: { ...decided.retryPolicy, timeoutSeconds } };
    } catch (error) {
      if (!(error instanceof NoRouteError)) throw error;
      route = { exhausted: true, tried: [], reason: error.message };
    }
    await this.#ports.updateTask(state.taskId, {
      route: 'exhausted' in route ? undefined : route,
      updatedAt: this.#now(),
    });
    return { ...state, route, attempt: 0 };
  }

  /**
   * Calls the current primary once. A failure is retried on the same service while the policy
   * allows (the state machine waits `delaySeconds`), then handed to failover.
   */
  async callFactory(state: PipelineState): Promise<PipelineState> {
    const route = liveRoute(state);
    const service = route.primary;
    const context = state.task.contextId
      ? (await this.#ports.memory.getContext(state.task.contextId)).data
      : {};
    const timeoutMs = Math.min(route.retryPolicy.timeoutSeconds * 1000, this.#ports.callTimeoutMs);
    await this.#ports.adjustLoad(service, 1);
    let result: Awaited<ReturnType<FactoryCaller['execute']>>;
    try {
      result = await this.#ports.factories.execute(
        route.endpoint,
        {
          action: state.task.action ?? state.task.type,
          parameters: state.task.parameters,
          taskId: state.taskId,
          context,
        },
        timeoutMs,
      );
    } finally {
      await this.#ports.adjustLoad(service, -1);
    }
    const attempt = state.attempt + 1;
    const at = this.#now();
    await this.#ports.memory.learnCall(`${state.taskId}:${service}:${attempt}`, {
      taskId: state.taskId,
      taskType: state.task.type,
      service,
      action: state.task.action,
      priority: state.task.priority,
      success: result.ok,
      executionMs: result.latencyMs,
      completedAt: at,
      parameters: state.task.parameters,
      error: result.ok
        ? undefined
        : { kind: result.error.kind, message: result.error.message.slice(0, 2_000) },
    });
    await this.#ports.recordCallOutcome(service, result.ok);
    await this.#ports.appendAttempt(state.taskId, {
      service,
      attempt,
      outcome: result.ok ? 'succeeded' : 'failed',
      latencyMs: result.latencyMs,
      error: result.ok ? undefined : result.error,
      at,
    });
    if (result.ok) {
      return {
        ...state,
        attempt,
        call: {
          outcome: 'succeeded',
          service,
          output: result.accepted ? null : result.output,
          latencyMs: result.latencyMs,
        },
      };
    }
    const delay = result.retryable ? retryDelaySeconds(route.retryPolicy, attempt) : undefined;
    const call: CallOutcome =
      delay === undefined
        ? { outcome: 'failover', service, error: result.error, latencyMs: result.latencyMs }
        : {
            outcome: 'retry',
            service,
            delaySeconds: Math.ceil(delay),
            error: result.error,
            latencyMs: result.latencyMs,
          };
    return { ...state, attempt, call };
  }

  /** Moves to the next usable fallback, or marks the route exhausted. */
  async failover(state: PipelineState): Promise<PipelineState> {
    const next = await this.#ports.router.failover(liveRoute(state));
    const route = next.exhausted ? next : next.decision;
    await this.#ports.updateTask(state.taskId, {
      route: next.exhausted ? undefined : next.decision,
      updatedAt: this.#now(),
    });
    return { ...state, route, attempt: 0 };
  }

  /** Stores the outcome (learning from it once per task) and closes the task record. */
  async record(state: PipelineState): Promise<PipelineState> {
    const call = state.call;
    const succeeded = call?.outcome === 'succeeded' && state.fault === undefined;
    const error = succeeded ? undefined : failureOf(state);
    if (call) {
      // Every call was learned from as it happened; this stores the task's own result.
      await this.#ports.memory.storeTaskResult(
        {
          taskId: state.taskId,
          taskType: state.task.type,
          service: call.service,
          action: state.task.action,
          priority: state.task.priority,
          success: succeeded,
          executionMs: call.latencyMs,
          completedAt: this.#now(),
          parameters: state.task.parameters,
          output: succeeded && call.outcome === 'succeeded' ? call.output : undefined,
          error: error && {
            kind: call.outcome === 'succeeded' ? 'error' : call.error.kind,
            message: error.message.slice(0, 2_000),
          },
          contextId: state.task.contextId,
        },
        { learn: false },
      );
    }
    const status = succeeded ? 'SUCCEEDED' : 'FAILED';
    await this.#ports.updateTask(state.taskId, {
      status,
      output: succeeded && call?.outcome === 'succeeded' ? call.output : undefined,
      error,
      updatedAt: this.#now(),
    });
    return { ...state, status };
  }

  #now(): string {
    return this.#ports.now().toISOString();
  }
}

function liveRoute(state: PipelineState): RoutingDecision {
  if (!state.route || 'exhausted' in state.route) throw new Error(`task ${state.taskId} has no live route`);
  return state.route;
}

function failureOf(state: PipelineState): { kind: string; message: string } {
  if (state.fault)
    return {
      kind: 'fault',
      message: `${state.fault.Error ?? 'Error'}: ${state.fault.Cause ?? 'step failed'}`,
    };
  if (state.route && 'exhausted' in state.route) {
    const last =
      state.call && state.call.outcome !== 'succeeded' ? `; last error: ${state.call.error.message}` : '';
    return { kind: state.call ? 'exhausted' : 'no_route', message: `${state.route.reason}${last}` };
  }
  if (state.call && state.call.outcome !== 'succeeded')
    return { kind: state.call.error.kind, message: state.call.error.message };
  return { kind: 'error', message: 'task ended without a result' };
}

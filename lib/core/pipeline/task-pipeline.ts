import { createHash } from 'node:crypto';
import type { Brain, Decision } from '../brain.ts';
import { NoRouteError } from '../errors.ts';
import type { Memory } from '../memory.ts';
import { retryDelaySeconds } from '../retry-policy.ts';
import type { Router, RoutingDecision, StrategyName } from '../routing/router.ts';
import type { Service } from '../service.ts';
import type { Task } from '../task.ts';
import type { CallAttempt, TaskRecord } from '../task-record.ts';
import type { FactoryCaller, FactoryCallResult } from './factory-call.ts';

/** A route that has run out of services. */
export interface ExhaustedRoute {
  exhausted: true;
  tried: string[];
  reason: string;
}

/** How a step's task ended when the pipeline ran inline. */
export type InlineOutcome =
  | { ok: true; accepted: false; service: string; output: unknown; latencyMs: number }
  | { ok: true; accepted: true; service: string }
  | { ok: false; error: string; tried: string[] };

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
    const attempt = state.attempt + 1;
    const { result, at } = await this.#callOnce(state.task, route, `${state.taskId}:${service}:${attempt}`);
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

  /**
   * The whole pipeline in one go, for a workflow step: decide, route, then the primary and each
   * usable fallback once, learning from every call. Retrying the step with back-off is the
   * workflow state machine's job. With `callback`, a factory may answer 202 and post the result
   * to `callback.url` later.
   */
  async runInline(
    task: Task,
    options: { callId: string; callback?: { url: string; token: string } },
  ): Promise<InlineOutcome> {
    const outcome = await this.#runInline(task, options);
    // Every run of a step is remembered like any task (its calls were learned from already).
    if (!(outcome.ok && outcome.accepted)) {
      await this.#ports.memory.storeTaskResult(
        {
          taskId: resultId(options.callId),
          taskType: task.type,
          service: outcome.ok ? outcome.service : (outcome.tried.at(-1) ?? 'none'),
          action: task.action,
          priority: task.priority,
          success: outcome.ok,
          executionMs: outcome.ok ? outcome.latencyMs : 0,
          completedAt: this.#now(),
          parameters: task.parameters,
          output: outcome.ok ? outcome.output : undefined,
          error: outcome.ok ? undefined : { kind: 'error', message: outcome.error.slice(0, 2_000) },
          contextId: task.contextId,
        },
        { learn: false },
      );
    }
    return outcome;
  }

  async #runInline(
    task: Task,
    options: { callId: string; callback?: { url: string; token: string } },
  ): Promise<InlineOutcome> {
    await this.#ports.brain.decide(task);
    let route: RoutingDecision;
    try {
      route = await this.#ports.router.route(task);
    } catch (error) {
      if (error instanceof NoRouteError) return { ok: false, error: error.message, tried: [] };
      throw error;
    }
    for (;;) {
      const { result } = await this.#callOnce(
        task,
        route,
        `${options.callId}:${route.primary}`,
        options.callback,
      );
      if (result.ok) {
        return result.accepted
          ? { ok: true, accepted: true, service: route.primary }
          : {
              ok: true,
              accepted: false,
              service: route.primary,
              output: result.output,
              latencyMs: result.latencyMs,
            };
      }
      const next = await this.#ports.router.failover(route);
      if (next.exhausted)
        return { ok: false, error: `${next.reason}; last error: ${result.error.message}`, tried: next.tried };
      route = next.decision;
    }
  }

  /** One call to a route's primary, with load accounting, learning and passive health. */
  async #callOnce(
    task: Task,
    route: RoutingDecision,
    callId: string,
    callback?: { url: string; token: string },
  ) {
    const service = route.primary;
    const context = task.contextId ? (await this.#ports.memory.getContext(task.contextId)).data : {};
    const timeoutMs = Math.min(route.retryPolicy.timeoutSeconds * 1000, this.#ports.callTimeoutMs);
    await this.#ports.adjustLoad(service, 1);
    let result: FactoryCallResult;
    try {
      result = await this.#ports.factories.execute(
        route.endpoint,
        {
          action: task.action ?? task.type,
          parameters: task.parameters,
          taskId: task.id,
          context,
          ...(callback ? { callbackUrl: callback.url, taskToken: callback.token } : {}),
        },
        timeoutMs,
      );
    } finally {
      await this.#ports.adjustLoad(service, -1);
    }
    const at = this.#now();
    // Accepted long work is learned from when its callback arrives, not now.
    if (!(result.ok && result.accepted)) {
      await this.#ports.memory.learnCall(callId, {
        taskId: task.id,
        taskType: task.type,
        service,
        action: task.action,
        priority: task.priority,
        success: result.ok,
        executionMs: result.latencyMs,
        completedAt: at,
        parameters: task.parameters,
        error: result.ok
          ? undefined
          : { kind: result.error.kind, message: result.error.message.slice(0, 2_000) },
      });
    }
    await this.#ports.recordCallOutcome(service, result.ok);
    return { result, at };
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

/** A task result id from a call id: the call id itself when it is a valid id, else its hash. */
function resultId(callId: string): string {
  return /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/.test(callId)
    ? callId
    : `r_${createHash('sha256').update(callId).digest('hex').slice(0, 40)}`;
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

import type { Decision } from './brain.ts';
import type { FactoryCaller } from './factory-call.ts';
import { busyDelaySeconds, type FlowGate, SLOT_MARGIN_MS, type Slot } from './flow-gate.ts';
import type { HealthChange, PassiveHealth } from './passive-health.ts';
import { retryAfterDelaySeconds, retryDelaySeconds } from './retry-policy.ts';
import type { FailoverResult, RoutingDecision } from './routing/router.ts';
import { taskFeatures } from './routing/task-features.ts';
import type { Service } from './service.ts';
import { type CallObservation, latencyQuantileMs, type ServiceStats } from './statistics.ts';
import type { Task } from './task.ts';
import type { CallAttempt, CallError } from './task-record.ts';

/** No call is started with less time than this left in the task's budget. */
export const MIN_CALL_MS = 250;

/** One call's result: an answer, a callback to wait for, or a failure and whether to try again. */
type CallResult =
  | Extract<RunOutcome, { kind: 'succeeded' | 'waiting' }>
  | { kind: 'failed'; error: CallError; retryable: boolean; retryAfterMs: number | undefined };

/** Where the factory posts the result of long work, and the token it sends back. */
export interface CallbackOffer {
  url: string;
  token: string;
  tokenHash: string;
}

/** Makes the callback offer of one call. */
export type CallbackOffers = (attempt: number, service: string) => CallbackOffer;

/** How a run of calls ended for now. */
export type RunOutcome =
  | { kind: 'succeeded'; service: string; output: unknown; latencyMs: number }
  /** The factory took the work (202) and will call back before `until`. */
  | { kind: 'waiting'; service: string; tokenHash: string; until: string }
  /** Every service the task may use is at its flow limit: try again after `delaySeconds`. */
  | { kind: 'busy'; delaySeconds: number; reason: string }
  /** Call the same service again after `delaySeconds` (only when retries are asked for). */
  | { kind: 'retry'; service: string; delaySeconds: number }
  | { kind: 'failed'; error: { kind: string; message: string } };

export interface TaskRunPorts {
  router: { failover(decision: RoutingDecision, task: Task): Promise<FailoverResult> };
  factories: FactoryCaller;
  /** Flow control per service; without it, calls are never held back. */
  flow?: FlowGate | undefined;
  health: PassiveHealth;
  /** Counts a settled call at once in this process (see `LiveStats.observe`). */
  observe(call: CallObservation): void;
  /** The data of a named context, sent to the factory with the call. */
  context(contextId: string): Promise<Record<string, unknown>>;
  /** Upper bound of one synchronous call (ms). */
  callTimeoutMs: number;
  now(): Date;
  random(): number;
}

export interface TaskRunState {
  task: Task;
  decision: Decision;
  /** The current route; undefined when no service could take the task. */
  route: RoutingDecision | undefined;
  /** Calls made so far, in every invocation. */
  attempts: CallAttempt[];
  /** When the task's time budget (`decision.resources.timeoutSeconds`) started. */
  startedAt: string;
  /** Each service as this process last read it, and its all-time counters. */
  services: ReadonlyMap<string, Service>;
  stats: readonly ServiceStats[];
}

/**
 * One invocation's work on a task: calls the route's primary and, on failure, retries it (when the
 * caller handles retries) or fails over to a service chosen at failure time, within the task's
 * time budget. Each call leaves room for the fallback that may follow it: its timeout stops short
 * of the budget by the next candidate's p95 latency, so one slow service cannot use up the whole
 * budget. What happened is kept for the caller to save: the attempts, one observation per settled
 * call for the statistics, and the health changes passive health asks for.
 */
export class TaskRun {
  readonly #ports: TaskRunPorts;
  readonly #state: TaskRunState;
  readonly observations: CallObservation[] = [];
  readonly healthChanges: HealthChange[] = [];
  #context: Record<string, unknown> | undefined;

  constructor(ports: TaskRunPorts, state: TaskRunState) {
    this.#ports = ports;
    this.#state = { ...state, attempts: [...state.attempts] };
  }

  get route(): RoutingDecision | undefined {
    return this.#state.route;
  }

  get attempts(): CallAttempt[] {
    return this.#state.attempts;
  }

  /**
   * Calls until the task succeeds, waits (a callback, or a retry when `retries` is set) or fails.
   * `callback` offers the factory a callback for the call with the given attempt number and service.
   */
  async proceed(options: { retries: boolean; callback?: CallbackOffers | undefined }): Promise<RunOutcome> {
    const { contextId } = this.#state.task;
    if (contextId !== undefined) {
      try {
        this.#context = await this.#ports.context(contextId);
      } catch (error) {
        if ((error as Error).name !== 'NotFoundError') throw error;
        return { kind: 'failed', error: { kind: 'context', message: (error as Error).message } };
      }
    }
    // Services passed over because they were at their limits, and the route before the first of them.
    const busy: Array<Extract<Slot, { granted: false }>> = [];
    let beforeBusy: RoutingDecision | undefined;
    for (;;) {
      const route = this.#state.route;
      if (!route) return { kind: 'failed', error: { kind: 'no_route', message: 'no route' } };
      const timeoutMs = this.#timeoutFor(route);
      if (timeoutMs === undefined) return this.#outOfTime();
      const slot = this.#ports.flow
        ? await this.#ports.flow.acquire(route.primary, timeoutMs + SLOT_MARGIN_MS)
        : undefined;
      if (slot && !slot.granted) {
        // At its limit: unavailable for the moment, not failed. The next service is tried; with
        // none left the task waits, and starts again from the route it had.
        busy.push(slot);
        beforeBusy ??= route;
        const next = await this.#ports.router.failover(route, this.#state.task);
        if (next.exhausted) {
          this.#state.route = beforeBusy;
          return {
            kind: 'busy',
            delaySeconds: busyDelaySeconds(busy, this.#ports.random),
            reason: busy.map((r) => r.reason).join('; '),
          };
        }
        this.#state.route = {
          ...next.decision,
          reason: `${slot.reason}, so ${next.decision.primary} instead: ${next.decision.reason}`,
        };
        continue;
      }
      beforeBusy = undefined;
      let call: CallResult;
      try {
        call = await this.#call(route, timeoutMs, options.callback);
      } finally {
        await slot?.release();
      }
      if (!('retryable' in call)) return call;
      const next = await this.afterFailure(call.error, call.retryable, options.retries, call.retryAfterMs);
      if (next) return next;
    }
  }

  /**
   * The waiting call is over without an answer in time: it counts as a timed-out call of its
   * service, learned from like any other.
   */
  settleWaiting(error: CallError): void {
    const index = this.#state.attempts.findLastIndex((a) => a.outcome === 'waiting');
    const waiting = this.#state.attempts[index];
    if (!waiting) return;
    const at = this.#now();
    const latencyMs = Math.max(0, Date.parse(at) - Date.parse(waiting.at) + waiting.latencyMs);
    this.#state.attempts[index] = { ...waiting, outcome: 'failed', error, latencyMs, at };
    this.#learn(waiting.service, false, error.kind === 'timeout', latencyMs, at, undefined, waiting.cost);
  }

  /**
   * After a failed call of the primary: a retry of the same service if `retries` is set, the
   * failure is worth retrying, the policy has retries left and the delay fits in the budget;
   * otherwise a failover. Returns the outcome when the run stops, undefined when it goes on with
   * a new primary.
   *
   * The delay is the policy's back-off, unless the factory said when to come back (`retryAfterMs`,
   * from `Retry-After` on a 429 or 503): then it is the factory's delay, capped by the policy's
   * `maxDelaySeconds` when set (`retryAfterDelaySeconds`). Either way the delay must leave time for
   * the call within the task's budget (delay + `MIN_CALL_MS` <= time left); when it does not, the
   * run fails over at once: a delay is never shortened to fit the budget.
   */
  async afterFailure(
    error: CallError,
    retryable: boolean,
    retries: boolean,
    retryAfterMs?: number,
  ): Promise<RunOutcome | undefined> {
    const route = this.#state.route;
    if (!route) return { kind: 'failed', error: { kind: 'no_route', message: 'no route' } };
    if (retries && retryable) {
      const calls = Math.max(1, this.#state.attempts.filter((a) => a.service === route.primary).length);
      const delay =
        retryAfterMs === undefined
          ? retryDelaySeconds(route.retryPolicy, calls, this.#ports.random)
          : retryAfterDelaySeconds(route.retryPolicy, calls, retryAfterMs / 1000);
      if (delay !== undefined && delay * 1000 + MIN_CALL_MS <= this.#remainingMs()) {
        return { kind: 'retry', service: route.primary, delaySeconds: delay };
      }
    }
    const next = await this.#ports.router.failover(route, this.#state.task);
    if (next.exhausted) {
      return {
        kind: 'failed',
        error: { kind: 'exhausted', message: `${next.reason}; last error: ${error.message}` },
      };
    }
    this.#state.route = next.decision;
    return undefined;
  }

  #outOfTime(): RunOutcome {
    const budget = this.#state.decision.resources.timeoutSeconds;
    const last = this.#state.attempts.at(-1)?.error?.message;
    return {
      kind: 'failed',
      error: {
        kind: 'deadline',
        message: `the task's ${budget} s budget ran out after ${this.#state.attempts.length} calls${last ? `; last error: ${last}` : ''}`,
      },
    };
  }

  #remainingMs(): number {
    const end = Date.parse(this.#state.startedAt) + this.#state.decision.resources.timeoutSeconds * 1000;
    return end - this.#ports.now().getTime();
  }

  /**
   * The timeout of the next call: the policy's per-attempt timeout and the process's cap, within
   * the budget less what the best fallback usually needs (its p95). Undefined: no time for a call.
   */
  #timeoutFor(route: RoutingDecision): number | undefined {
    const remaining = this.#remainingMs();
    const reserve = Math.min(remaining / 2, this.#fallbackReserveMs(route));
    const timeout = Math.min(
      this.#ports.callTimeoutMs,
      route.retryPolicy.timeoutSeconds * 1000,
      remaining - reserve,
    );
    return timeout >= MIN_CALL_MS ? Math.floor(timeout) : remaining >= MIN_CALL_MS ? MIN_CALL_MS : undefined;
  }

  #fallbackReserveMs(route: RoutingDecision): number {
    const p95 = route.fallbacks
      .map((name) => this.#state.stats.find((s) => s.service === name))
      .map((stats) => (stats ? latencyQuantileMs(stats, 0.95) : undefined))
      .filter((ms): ms is number => ms !== undefined && Number.isFinite(ms));
    return p95.length === 0 ? 0 : Math.min(...p95);
  }

  async #call(
    route: RoutingDecision,
    timeoutMs: number,
    offer: CallbackOffers | undefined,
  ): Promise<CallResult> {
    const { task } = this.#state;
    const service = route.primary;
    const attempt = this.#state.attempts.length + 1;
    const first = this.#state.attempts.length === 0 && route.tried.length === 0;
    const callback = offer?.(attempt, service);
    this.#ports.health.begin(service);
    let result: Awaited<ReturnType<FactoryCaller['execute']>>;
    try {
      result = await this.#ports.factories.execute(
        route.endpoint,
        {
          action: task.action ?? task.type,
          parameters: task.parameters,
          taskId: task.id,
          ...(task.contextId === undefined ? {} : { contextId: task.contextId }),
          context: this.#context ?? {},
          ...(callback ? { callbackUrl: callback.url, taskToken: callback.token } : {}),
        },
        timeoutMs,
      );
    } finally {
      this.#ports.health.end(service);
    }
    const at = this.#now();
    const price = this.#state.services.get(service)?.costPerCall;
    if (result.ok && result.accepted) {
      this.#state.attempts.push({
        service,
        attempt,
        outcome: 'waiting',
        latencyMs: result.latencyMs,
        at,
        ...(price === undefined ? {} : { cost: price }),
      });
      const end = Date.parse(this.#state.startedAt) + this.#state.decision.resources.timeoutSeconds * 1000;
      return {
        kind: 'waiting',
        service,
        tokenHash: (callback as CallbackOffer).tokenHash,
        until: new Date(end).toISOString(),
      };
    }
    const error = result.ok ? undefined : { ...result.error, message: result.error.message.slice(0, 2_000) };
    // A call that failed before the factory did anything (a timeout, a refusal) is charged the
    // service's price all the same: what the factory bills for an aborted call is not known here.
    const cost = (result.ok ? result.cost : undefined) ?? price;
    this.#state.attempts.push({
      service,
      attempt,
      outcome: result.ok ? 'succeeded' : 'failed',
      latencyMs: result.latencyMs,
      error,
      at,
      ...(cost === undefined ? {} : { cost }),
    });
    this.#learn(
      service,
      result.ok,
      error?.kind === 'timeout',
      result.latencyMs,
      at,
      first ? route.strategy : undefined,
      cost,
    );
    if (result.ok) return { kind: 'succeeded', service, output: result.output, latencyMs: result.latencyMs };
    return {
      kind: 'failed',
      error: error as CallError,
      retryable: result.retryable,
      retryAfterMs: result.retryAfterMs,
    };
  }

  #learn(
    service: string,
    success: boolean,
    timedOut: boolean,
    latencyMs: number,
    at: string,
    routedBy: string | undefined,
    cost?: number,
  ): void {
    const call: CallObservation = {
      taskType: this.#state.task.type,
      service,
      success,
      timedOut,
      latencyMs,
      at,
      routedBy,
      cost,
      features: taskFeatures(this.#state.task),
    };
    this.observations.push(call);
    this.#ports.observe(call);
    const change = this.#ports.health.observe(service, success, this.#state.services.get(service));
    if (change) this.healthChanges.push(change);
  }

  #now(): string {
    return this.#ports.now().toISOString();
  }
}

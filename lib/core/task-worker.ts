import { inlineRefusal } from './artifacts.ts';
import type { Brain, Decision } from './brain.ts';
import { taskCallbackToken, tokenHash } from './callback-tokens.ts';
import { NoRouteError } from './errors.ts';
import type { HealthChange } from './passive-health.ts';
import type { Router, RoutingDecision } from './routing/router.ts';
import type { Service } from './service.ts';
import type { CallObservation, ServiceStats } from './statistics.ts';
import {
  continuationOf,
  followUp,
  MAX_QUEUE_DELAY_SECONDS,
  type TaskMessage,
  type TaskQueue,
} from './task-message.ts';
import type { CallAttempt, TaskRecord, TaskStatus, TaskWaiting } from './task-record.ts';
import { parameterFeatures } from './task-result.ts';
import { type CallbackOffers, type RunOutcome, TaskRun, type TaskRunPorts } from './task-run.ts';

/** What one save of a task writes: the record's state after an invocation. */
export interface TaskProgress {
  taskType: string;
  status: TaskStatus;
  decision: TaskRecord['decision'];
  route: RoutingDecision | undefined;
  attempts: CallAttempt[];
  waiting?: TaskWaiting | undefined;
  output?: unknown;
  error?: TaskRecord['error'];
  updatedAt: string;
  completedAt?: string | undefined;
  /** For a finished task: the parameter features success patterns are learned from. */
  features?: string[] | undefined;
}

export interface TaskWorkerPorts extends Omit<TaskRunPorts, 'router'> {
  brain: Pick<Brain, 'decideTask'>;
  router: Pick<Router, 'routeTask' | 'failover'>;
  /** The registry as routing sees it in this process (cached). */
  services(): Promise<Service[]>;
  /** All-time counters per service for a task type (cached). */
  statsFor(taskType: string): Promise<ServiceStats[]>;
  getTask(taskId: string): Promise<TaskRecord | undefined>;
  /** Saves progress if the record's `seq` is still `expectedSeq` (and moves it on); false otherwise. */
  saveTask(taskId: string, expectedSeq: number, progress: TaskProgress): Promise<boolean>;
  /** The statistics write: one per settled call. */
  recordCalls(calls: readonly CallObservation[]): Promise<void>;
  recordHealth(changes: readonly HealthChange[]): Promise<void>;
  queue: TaskQueue;
  /** The API's base URL for callbacks; without it a factory cannot take work asynchronously. */
  callbackBaseUrl?: string | undefined;
}

/** What became of one message. */
export type WorkResult =
  | {
      taskId: string;
      result: TaskStatus | 'RETRY' | 'CALLBACK';
      calls: number;
      /** The strategy, when this invocation made the routing decision. */
      routedBy?: string | undefined;
    }
  /** Not due yet: sent back to the queue for the rest of its wait. */
  | { taskId: string; result: 'DEFERRED'; calls: 0 }
  /** The task had moved on: a copy of a message already handled (its lost follow-up is sent again). */
  | { taskId: string; result: 'DUPLICATE'; calls: 0; resent: boolean };

/**
 * The single-task path: one queue message, one invocation. The worker decides, routes, calls the
 * factory (failing over in the same invocation, to a service re-scored at failure time) and saves
 * the task with one conditional write. A retry of the same service is the message sent again with
 * a delay; a factory that answers 202 gets a callback URL, and the task waits for it with a
 * deadline message. The statistics are written after the save, one write per call, so a message
 * delivered twice counts its calls once; a crash between the save and that write loses those
 * counts (it never doubles them).
 */
export class TaskWorker {
  readonly #ports: TaskWorkerPorts;
  constructor(ports: TaskWorkerPorts) {
    this.#ports = ports;
  }

  /** Works on one message; `receiveCount` above 1 means an earlier delivery may have got far. */
  async process(message: TaskMessage, delivery: { receiveCount: number }): Promise<WorkResult> {
    const ports = this.#ports;
    const now = ports.now().getTime();
    const due = message.notBefore === undefined ? now : Date.parse(message.notBefore);
    if (due - now >= 500) {
      await ports.queue.send(message, delayUntil(message.notBefore, ports.now()));
      return { taskId: message.taskId, result: 'DEFERRED', calls: 0 };
    }
    // A redelivery, or a deadline that a callback may have beaten: read where the task stands. A
    // task one step ahead and waiting may lack its follow-up (its saver stopped before sending
    // it, or a callback's send failed): it is sent again, at worst a second copy.
    if (delivery.receiveCount > 1 || message.resume?.kind === 'callback-deadline') {
      const record = await ports.getTask(message.taskId);
      if (!record || record.seq !== message.seq) {
        const resent =
          record !== undefined && record.seq === message.seq + 1 ? await this.#resend(record) : false;
        return { taskId: message.taskId, result: 'DUPLICATE', calls: 0, resent };
      }
    }
    const { task } = message;
    const stats = await ports.statsFor(task.type);
    const decision = message.decision ?? (await ports.brain.decideTask(task));
    let route = message.route;
    let outcome: RunOutcome | undefined;
    if (!route) {
      try {
        route = await ports.router.routeTask(task, message.strategy);
      } catch (error) {
        if (!(error instanceof NoRouteError)) throw error;
        outcome = { kind: 'failed', error: { kind: 'no_route', message: error.message } };
      }
    }
    // Read after routing: a registry the router had to read again (a service new since the cache
    // was filled) is the one the calls see, with its price.
    const services = await ports.services();
    const run = new TaskRun(ports, {
      task,
      decision,
      route,
      attempts: message.attempts ?? [],
      startedAt: message.submittedAt,
      services: new Map(services.map((s) => [s.name, s])),
      stats,
    });
    if (!outcome) {
      const resume = message.resume;
      if (resume?.kind === 'callback-deadline' || resume?.kind === 'callback-failed') {
        const error =
          resume.kind === 'callback-failed'
            ? resume.error
            : { kind: 'timeout' as const, message: 'no callback before the task ran out of time' };
        if (resume.kind === 'callback-deadline') run.settleWaiting(error);
        outcome = await run.afterFailure(error, true, true);
      }
      outcome ??= await run.proceed({ retries: true, callback: this.#offer(message.taskId) });
    }
    const routedBy = message.route === undefined ? route?.strategy : undefined;
    return this.#finish(message, decision, run, outcome, routedBy);
  }

  async #finish(
    message: TaskMessage,
    decision: Decision,
    run: TaskRun,
    outcome: RunOutcome,
    routedBy: string | undefined,
  ): Promise<WorkResult> {
    const ports = this.#ports;
    const now = ports.now().toISOString();
    const progress = this.#progress(message, decision, run, outcome, now);
    const calls = run.observations.length;
    if (!(await ports.saveTask(message.taskId, message.seq, progress))) {
      return { taskId: message.taskId, result: 'DUPLICATE', calls: 0, resent: false };
    }
    const follow =
      progress.waiting &&
      followUp(
        {
          ...message,
          seq: message.seq + 1,
          decision: progress.decision,
          route: progress.route,
          attempts: progress.attempts,
        },
        progress.waiting,
      );
    await Promise.all([
      ports.recordCalls(run.observations),
      ports.recordHealth(run.healthChanges),
      follow ? ports.queue.send(follow, delayUntil(follow.notBefore, ports.now())) : undefined,
    ]);
    const result =
      progress.waiting?.for === 'callback' ? 'CALLBACK' : progress.waiting ? 'RETRY' : progress.status;
    return { taskId: message.taskId, result, calls, routedBy };
  }

  #progress(
    message: TaskMessage,
    decision: Decision,
    run: TaskRun,
    outcome: RunOutcome,
    now: string,
  ): TaskProgress {
    const base = {
      taskType: message.task.type,
      decision,
      route: run.route,
      attempts: run.attempts,
      updatedAt: now,
    };
    switch (outcome.kind) {
      case 'succeeded':
        return finishedProgress(
          message.task.parameters,
          base,
          now,
          inlineResult(outcome.service, outcome.output),
        );
      case 'failed':
        return finishedProgress(message.task.parameters, base, now, { error: outcome.error });
      case 'retry':
      case 'busy':
        return {
          ...base,
          status: 'RUNNING',
          waiting: {
            for: 'retry',
            until: new Date(Date.parse(now) + outcome.delaySeconds * 1000).toISOString(),
          },
        };
      case 'waiting':
        return {
          ...base,
          status: 'RUNNING',
          waiting: {
            for: 'callback',
            service: outcome.service,
            until: outcome.until,
            tokenHash: outcome.tokenHash,
          },
        };
    }
  }

  /** A callback offer for each call, when the API's URL is known. */
  #offer(taskId: string): CallbackOffers | undefined {
    const base = this.#ports.callbackBaseUrl;
    if (!base) return undefined;
    return () => {
      const token = taskCallbackToken(taskId);
      return {
        token,
        tokenHash: tokenHash(token),
        url: `${base.replace(/\/+$/, '')}/callbacks/${encodeURIComponent(token)}`,
      };
    };
  }

  /** Sends the continuation a record waits on again (its sender stopped before sending it). */
  async #resend(record: TaskRecord): Promise<boolean> {
    const follow = continuationOf(record);
    if (!follow) return false;
    await this.#ports.queue.send(follow, delayUntil(follow.notBefore, this.#ports.now()));
    return true;
  }
}

/**
 * The output to keep, or the error saying it is too large to keep inline: outputs above the inline
 * limit were kept as artifacts on the way (see `ArtifactCalls`), unless no artifact store is configured.
 */
export function inlineResult(
  service: string,
  output: unknown,
): { output: unknown } | { error: { kind: string; message: string } } {
  const refusal = inlineRefusal(output);
  if (refusal === undefined) return { output: output ?? null };
  return { error: { kind: 'output_too_large', message: `${service} answered: ${refusal}` } };
}

/** The progress that ends a task, with what its success patterns learn from. */
export function finishedProgress(
  parameters: Record<string, unknown>,
  base: Omit<TaskProgress, 'status'>,
  now: string,
  result: { output: unknown } | { error: { kind: string; message: string } },
): TaskProgress {
  return {
    ...base,
    ...result,
    waiting: undefined,
    status: 'output' in result ? 'SUCCEEDED' : 'FAILED',
    completedAt: now,
    features: parameterFeatures(parameters),
  };
}

/**
 * The queue delay until `iso`, in the whole seconds a queue counts: to the nearest second, so a
 * message comes at most half a second early (the worker then takes it: see `process`).
 */
function delayUntil(iso: string | undefined, now: Date): number {
  const ms = iso === undefined ? 0 : Date.parse(iso) - now.getTime();
  return Math.max(0, Math.min(Math.round(ms / 1000), MAX_QUEUE_DELAY_SECONDS));
}

import { type ArtifactStore, inlineRefusal, isReference } from '../artifacts.ts';
import type { Brain } from '../brain.ts';
import { tokenHash } from '../callback-tokens.ts';
import { NoRouteError, ValidationError, VobeeError } from '../errors.ts';
import { jsonBytes, LIMITS, overLimitMessage } from '../limits.ts';
import type { HealthChange } from '../passive-health.ts';
import type { Router, RoutingDecision } from '../routing/router.ts';
import type { Service } from '../service.ts';
import type { CallObservation, ServiceStats } from '../statistics.ts';
import { type Task, taskSchema } from '../task.ts';
import { type CallAttempt, costOfCalls } from '../task-record.ts';
import { type CallbackOffers, type RunOutcome, TaskRun, type TaskRunPorts } from '../task-run.ts';
import {
  admissibleOptions,
  type BudgetRefusal,
  type BudgetStep,
  budgetCommitment,
  DEFAULT_BUDGET_MARGIN,
} from './budget.ts';
import {
  GATE_WAIT_SECONDS,
  type GatePayload,
  type RunEndPayload,
  type RunRef,
  type StepFailurePayload,
} from './compile.ts';
import {
  type CollectPayload,
  checkItemList,
  collectOutputs,
  type ItemList,
  type ItemPayload,
  type ItemsPayload,
  objectLocation,
  placeItems,
  withItem,
} from './fan-out.ts';
import { BudgetExceeded, type RunBudgetPlan } from './run-budget.ts';
import {
  gateReady,
  openGate,
  openReadyGates,
  outOfTime,
  type RunControl,
  type StepEnd,
} from './run-control.ts';
import {
  decideStep,
  referencedOutputs,
  resolveParameters,
  type StepResult,
  type StepResults,
} from './step-readiness.ts';
import { stepCallbackToken } from './step-token.ts';
import type { WorkflowStep } from './template.ts';
import type { WorkflowEngine, WorkflowRepository } from './workflow-ports.ts';

/** The execution is paused: the state machine asks again later (a dedicated Retry), holding nothing. */
export class WorkflowPaused extends VobeeError {
  constructor(executionName: string) {
    super(`execution '${executionName}' is paused`);
    this.name = 'WorkflowPaused';
  }
}

/** The execution was cancelled: no new step starts. */
export class WorkflowCancelled extends VobeeError {
  constructor(executionName: string) {
    super(`execution '${executionName}' was cancelled`);
    this.name = 'WorkflowCancelled';
  }
}

/** An Express gate's dependencies are still running: the state machine asks again (see `SUPPORT_RETRY`). */
export class GateStillWaiting extends VobeeError {
  constructor(stepId: string) {
    super(`'${stepId}' still waits for its dependencies`);
    this.name = 'GateStillWaiting';
  }
}

/** The run has used up its time (time spent paused aside): no new step starts. */
export class WorkflowTimedOut extends VobeeError {
  constructor(executionName: string) {
    super(`execution '${executionName}' has used up its time`);
    this.name = 'WorkflowTimedOut';
  }
}

/**
 * Every service the step may use is at its flow limit: nothing was called, and the state machine
 * asks again later (a dedicated Retry, see `compile.ts`).
 */
export class ServiceBusy extends VobeeError {
  constructor(message: string) {
    super(message);
    this.name = 'ServiceBusy';
  }
}

/** The step's task failed on every capable service; the state machine retries or catches it. */
export class StepFailed extends VobeeError {
  constructor(message: string) {
    super(message);
    this.name = 'StepFailed';
  }
}

/** What the compiled state machine sends to the step handler for a step. */
export interface StepPayload {
  executionId: string;
  /** Absent from definitions compiled before runs could take several executions. */
  run?: RunRef;
  workflowId: string;
  stepId: string;
  step: Pick<
    WorkflowStep,
    'step_id' | 'factory_type' | 'action' | 'parameters' | 'dependencies' | 'any_of' | 'timeout_seconds'
  > & {
    callback?: boolean;
    /** A gate waits for this step: its success is recorded on the control item (see the compiler). */
    releases?: boolean;
  };
  input: Record<string, unknown>;
  /** Definitions compiled before step statuses moved to the control item carry them here. */
  results?: StepResults;
  taskToken?: string;
}

/** Everything the compiled state machine sends to the step handler. */
export type RunStepPayload =
  | StepPayload
  | GatePayload
  | StepFailurePayload
  | RunEndPayload
  | ItemsPayload
  | ItemPayload
  | CollectPayload;

/**
 * What the step handler answers. The state discards it (statuses live on the control item), but
 * for a fan-out's list, which the Choice after `(items)` reads.
 */
export type StepAnswer =
  | { status: 'SUCCEEDED' | 'FAILED' | 'SKIPPED' | 'CALLBACK' | 'RECORDED' | 'WAITING' | 'OPEN' }
  | ItemList;

export interface StepRunnerPorts extends Omit<TaskRunPorts, 'router'> {
  workflows: WorkflowRepository;
  brain: Pick<Brain, 'decideTask'>;
  router: Pick<Router, 'routeTask' | 'failover'>;
  services(): Promise<Service[]>;
  statsFor(taskType: string): Promise<ServiceStats[]>;
  recordCalls(calls: readonly CallObservation[]): Promise<void>;
  recordHealth(changes: readonly HealthChange[]): Promise<void>;
  /** Where factories post callbacks: the API's `/callbacks` route. */
  callbackBaseUrl?: string | undefined;
  /** Where outputs above the inline limit are kept; without it, such outputs fail their step. */
  artifacts?: ArtifactStore | undefined;
  /** Opens gates (`sendTaskSuccess` on their tokens). */
  engine: Pick<WorkflowEngine, 'sendTaskSuccess'>;
  /** How an Express gate waits between looks at the control item (tests pass a fast one). */
  sleep?(ms: number): Promise<void>;
  /** The planner's view of a budgeted run's steps, from the registry and learned statistics. */
  budgetSteps?(plan: RunBudgetPlan): Promise<BudgetStep[]>;
}

/** What a budgeted step may use, and the money it holds while it runs. */
interface BudgetGuard {
  /** Undefined for a step the plan does not know (the run was changed since it started). */
  allowed: string[] | undefined;
  /** Commits the expected cost of the routed service, or throws `BudgetExceeded`. */
  commit(route: RoutingDecision): Promise<void>;
  /** Replaces what was committed by what the calls cost. */
  settle(calls: readonly CallAttempt[]): Promise<void>;
}

/** Longest pause between two looks of an Express gate at its dependencies. */
const EXPRESS_GATE_MAX_POLL_MS = 500;

/**
 * Runs one workflow step in one invocation with three writes: the start (which is also the check
 * that the run is not paused or cancelled), the end (status, calls, output), and the statistics
 * of each call; a fourth, its end on the control item, when a gate waits for it. A step whose dependencies did not succeed is recorded as skipped. The step's task
 * is decided, routed and called like a single task, failing over within the invocation; retrying
 * the step with back-off is the state machine's `Retry`.
 */
export class StepRunner {
  readonly #ports: StepRunnerPorts;
  constructor(ports: StepRunnerPorts) {
    this.#ports = ports;
  }

  /** Runs a step, or one of the states around steps: a gate, a failure record, an Express run's end. */
  async run(payload: RunStepPayload): Promise<StepAnswer> {
    const executionName = payload.run?.id ?? (payload.executionId.split(':').pop() as string);
    if ('end' in payload) {
      // The results are the steps' outputs, which the step records hold already.
      await this.#ports.workflows.recordRunEnd(
        executionName,
        { ...payload.end, at: this.#ports.now().toISOString() },
        { executionArn: payload.executionId },
      );
      return { status: 'RECORDED' };
    }
    if ('gate' in payload) return this.#gate(executionName, payload);
    if ('failed' in payload) return this.#failed(executionName, payload);
    if ('collect' in payload) return this.#collect(executionName, payload);
    if ('items' in payload) return this.#items(executionName, payload);
    if ('index' in payload) return this.#item(executionName, payload);
    return this.#step(executionName, payload);
  }

  /**
   * What every start of a step does: the conditional start write, then what it may find: the run
   * paused or cancelled (thrown), the step ended in an earlier execution or waiting for a callback
   * carried over from one (answered), or the run out of time (thrown, the step recorded FAILED);
   * else when it started and how the other steps ended.
   */
  async #begin(
    executionName: string,
    stepId: string,
    payload: { run?: RunRef | undefined; taskToken?: string | undefined },
  ): Promise<
    { answer: StepAnswer } | { startedAt: string; statuses: Record<string, StepResult>; run: RunControl }
  > {
    const { workflows } = this.#ports;
    const startedAt = this.#ports.now().toISOString();
    const token = payload.taskToken;
    const start = await workflows.startStep(executionName, stepId, {
      startedAt,
      tokenHash: token === undefined ? undefined : tokenHash(token),
    });
    if (!start.started) {
      if ('ended' in start)
        return { answer: await this.#endedBefore(executionName, stepId, start.ended, token) };
      if (start.control === 'cancelled') throw new WorkflowCancelled(executionName);
      throw new WorkflowPaused(executionName);
    }
    const carried = start.run.carried[stepId];
    if (carried !== undefined && token !== undefined) {
      // Its factory still holds the callback token of the earlier execution: it keeps waiting for it.
      await workflows.rebindCallback(executionName, stepId, { tokenHash: carried, engineToken: token });
      return { answer: { status: 'CALLBACK' } };
    }
    if (outOfTime(start.run, payload.run?.deadline, this.#ports.now())) {
      await workflows.updateStep(executionName, stepId, {
        status: 'FAILED',
        at: startedAt,
        endedAt: startedAt,
        error: 'the run used up its time before the step started',
      });
      throw new WorkflowTimedOut(executionName);
    }
    // How the other steps ended, as the results the step's readiness is decided on.
    const statuses = Object.fromEntries(
      Object.entries(start.run.ended).map(([id, status]) => [id, { status }]),
    );
    return { startedAt, statuses, run: start.run };
  }

  async #step(executionName: string, payload: StepPayload): Promise<StepAnswer> {
    const { workflows } = this.#ports;
    const stepId = payload.stepId;
    const now = () => this.#ports.now().toISOString();
    const begun = await this.#begin(executionName, stepId, payload);
    if ('answer' in begun) return begun.answer;
    const { startedAt, statuses } = begun;
    const results = { ...dependenciesEnded(payload.step, statuses), ...payload.results };
    const readiness = decideStep(
      payload.step,
      await this.#withOutputs(executionName, payload, results),
      payload.input,
    );
    if (!readiness.run) return this.#skipped(executionName, stepId, readiness.reason);
    if (payload.taskToken !== undefined && !this.#ports.callbackBaseUrl)
      throw new StepFailed('a callback step needs the callback URL configured (VOBEE_CALLBACK_URL)');
    const parametersBytes = jsonBytes(readiness.parameters);
    if (parametersBytes > LIMITS.taskParameters.bytes) {
      throw new ValidationError([
        {
          field: `steps.${stepId}.parameters`,
          message: `${overLimitMessage('taskParameters', parametersBytes)} after references; pass a large output whole ('{{steps.<id>.output}}'), which travels by reference`,
        },
      ]);
    }
    const plan = payload.run?.budget;
    const guard = plan && (await this.#budgetGuard(executionName, stepId, plan, begun.run, startedAt));
    const task = taskSchema.parse({
      id: `${executionName}.${stepId}`.slice(0, 128),
      type: payload.step.action,
      action: payload.step.action,
      factoryType: payload.step.factory_type,
      parameters: readiness.parameters,
      resources:
        payload.step.timeout_seconds === undefined ? {} : { timeoutSeconds: payload.step.timeout_seconds },
    });
    const engineToken = payload.taskToken;
    const { outcome, calls, route, learned } = await this.#call(
      task,
      startedAt,
      engineToken === undefined
        ? undefined
        : (_attempt, service) => {
            const token = stepCallbackToken({
              executionName,
              stepId,
              service,
              taskType: task.type,
              engineToken,
            });
            return {
              token,
              tokenHash: tokenHash(engineToken),
              url: `${(this.#ports.callbackBaseUrl as string).replace(/\/+$/, '')}/callbacks/${encodeURIComponent(token)}`,
            };
          },
      guard,
    );
    if (outcome.kind === 'waiting') {
      // The callback may already have come and settled the step: only a running step starts waiting.
      await Promise.all([
        workflows.updateStep(executionName, stepId, {
          status: 'CALLBACK',
          at: now(),
          startedAt,
          service: outcome.service,
          calls,
          route,
          costUsd: costOfCalls(calls),
          onlyIf: ['RUNNING'],
        }),
        learned,
      ]);
      return { status: 'CALLBACK' };
    }
    // Outputs above the inline limit were kept as artifacts on the way (see `ArtifactCalls`).
    const failure =
      outcome.kind === 'failed'
        ? outcome.error.message
        : outcome.kind === 'succeeded'
          ? inlineRefusal(outcome.output)
          : undefined;
    // The step's end: its record and what the statistics learned, written together.
    const end = (
      fields: { status: 'FAILED'; error: string } | { status: 'SUCCEEDED'; service: string; output: unknown },
    ) => {
      const at = now();
      return Promise.all([
        workflows.updateStep(executionName, stepId, {
          ...fields,
          at,
          startedAt,
          endedAt: at,
          calls,
          route,
          costUsd: costOfCalls(calls),
        }),
        learned,
        guard?.settle(calls),
      ]);
    };
    if (failure !== undefined || outcome.kind !== 'succeeded') {
      const error = failure ?? 'the step ended without a result';
      await end({ status: 'FAILED', error });
      throw new StepFailed(error);
    }
    await end({ status: 'SUCCEEDED', service: outcome.service, output: outcome.output ?? null });
    if (payload.step.releases) await this.#ended(executionName, stepId, 'SUCCEEDED');
    return { status: 'SUCCEEDED' };
  }

  /**
   * The budget check of a step of a budgeted run (see `budget.ts`): the services that keep the run
   * within its budget, given what is committed (ended steps' costs and running steps' estimates,
   * on the control item the start just returned) and the time elapsed. With none, the step is
   * recorded FAILED and the run fails with `BudgetExceeded`, before anything more is spent. The
   * routed service's estimate is then committed with a conditional write, so parallel steps
   * cannot both take the last of the budget; the step's end replaces it with what it cost.
   */
  async #budgetGuard(
    executionName: string,
    stepId: string,
    plan: RunBudgetPlan,
    run: RunControl,
    startedAt: string,
  ): Promise<BudgetGuard> {
    const { workflows } = this.#ports;
    const steps = (await this.#ports.budgetSteps?.(plan)) ?? [];
    // Steps that started are paid for in `committedUsd`: the rest is what is still to plan.
    const ended = new Set([...Object.keys(run.ended), ...run.started.filter((id) => id !== stepId)]);
    const state = {
      spentUsd: run.committedUsd,
      elapsedMs: Date.parse(startedAt) - Date.parse(plan.startedAt),
      ended,
    };
    const fail = async (refusal: BudgetRefusal) => {
      const error = new BudgetExceeded(refusal);
      await workflows.updateStep(executionName, stepId, {
        status: 'FAILED',
        at: startedAt,
        endedAt: startedAt,
        error: error.message,
      });
      return error;
    };
    if (!steps.some((s) => s.id === stepId)) {
      // A step the plan does not know (the run was changed since it started): routed as usual.
      return { allowed: undefined, commit: async () => {}, settle: async () => {} };
    }
    const check = admissibleOptions(plan, steps, stepId, state, DEFAULT_BUDGET_MARGIN);
    if (!check.ok) throw await fail(check);
    let committed = 0;
    return {
      allowed: check.allowed,
      commit: async (route) => {
        if (plan.max_cost_usd === undefined) return;
        const { amountUsd, ceilingUsd, refusal } = budgetCommitment(
          plan.max_cost_usd,
          steps,
          stepId,
          ended,
          route.primary,
          DEFAULT_BUDGET_MARGIN,
        );
        if (!(await workflows.commitBudget(executionName, amountUsd, ceilingUsd))) throw await fail(refusal);
        committed = amountUsd;
      },
      settle: async (calls) => {
        const delta = (costOfCalls(calls) ?? 0) - committed;
        if (plan.max_cost_usd !== undefined && delta !== 0)
          await workflows.settleBudget(executionName, delta);
      },
    };
  }

  /**
   * Decides, routes and calls a task (a step's, or one item's), failing over within the
   * invocation. What the statistics learned is being written when this returns.
   */
  async #call(
    task: Task,
    startedAt: string,
    callback: CallbackOffers | undefined,
    guard?: BudgetGuard,
  ): Promise<{
    outcome: RunOutcome;
    calls: CallAttempt[];
    route: RoutingDecision | undefined;
    learned: Promise<unknown>;
  }> {
    const [stats, decision] = await Promise.all([
      this.#ports.statsFor(task.type),
      this.#ports.brain.decideTask(task),
    ]);
    let route: RoutingDecision | undefined;
    let outcome: RunOutcome | undefined;
    try {
      route = await this.#ports.router.routeTask(task, undefined, { only: guard?.allowed });
      await guard?.commit(route);
    } catch (error) {
      if (!(error instanceof NoRouteError)) throw error;
      outcome = { kind: 'failed', error: { kind: 'no_route', message: error.message } };
    }
    // Read after routing, as the task worker does (see there).
    const services = await this.#ports.services();
    const run = new TaskRun(this.#ports, {
      task,
      decision,
      route,
      attempts: [],
      startedAt,
      services: new Map(services.map((s) => [s.name, s])),
      stats,
    });
    outcome ??= await run.proceed({ retries: false, callback });
    const learned = Promise.all([
      this.#ports.recordCalls(run.observations),
      this.#ports.recordHealth(run.healthChanges),
    ]);
    if (outcome.kind === 'busy') {
      await learned;
      throw new ServiceBusy(outcome.reason);
    }
    return { outcome, calls: run.attempts, route: run.route, learned };
  }

  /**
   * A fan-out's `(items)`: starts the step as any step starts (pause, cancel, time, skipped
   * dependencies), checks its parameters' step and input references once, and resolves its list:
   * answered inline when it is short, else stored as a JSON artifact whose place is answered (a
   * Distributed Map reads it). One write, plus one read when the parameters or the list reference
   * outputs, plus the artifact.
   */
  async #items(executionName: string, payload: ItemsPayload): Promise<StepAnswer> {
    const stepId = payload.stepId;
    const begun = await this.#begin(executionName, stepId, payload);
    if ('answer' in begun) return begun.answer;
    const { statuses } = begun;
    // One read for the outputs both the parameters and the list reference.
    const from = payload.items.from;
    const parameters = { p: payload.step.parameters, ...(typeof from === 'string' ? { l: from } : {}) };
    const referencing = { ...payload, step: { ...payload.step, parameters } };
    const results = await this.#withOutputs(
      executionName,
      referencing,
      dependenciesEnded(payload.step, statuses),
    );
    // `{{item}}` and `{{index}}` are left for each item; everything else is checked here, once.
    const readiness = decideStep(payload.step, results, payload.input);
    if (!readiness.run) return this.#skipped(executionName, stepId, readiness.reason);
    const field = `steps.${stepId}.for_each.items`;
    let resolved: unknown = from;
    if (typeof from === 'string') {
      try {
        resolved = resolveParameters({ items: from }, results, payload.input).items;
      } catch (error) {
        if (!(error instanceof ValidationError)) throw error;
        throw new ValidationError(error.issues.map((issue) => ({ ...issue, field })));
      }
    }
    const list = checkItemList(resolved, field);
    if (placeItems(list, payload.items.distributed, field) === 'inline')
      return { status: 'ITEMS', count: list.length, items: list };
    const { artifacts } = this.#ports;
    if (!artifacts)
      throw new StepFailed(
        `a list of ${list.length} items runs from an artifact: it needs the artifact store configured`,
      );
    const stored = await artifacts.put(new TextEncoder().encode(JSON.stringify(list)), 'application/json');
    return { status: 'ITEMS', count: list.length, ...objectLocation(stored.uri) };
  }

  /**
   * One item of a fan-out: the step's parameters with the outputs they reference (one read, when
   * they do) and the item, decided, routed and called like a step, and the item's own record
   * written with what the statistics learned. A failure is thrown for the item's Retry; the Map
   * fails the step when one outlives it. The run's control item is not read: the fan-out step
   * started as a whole (a pause holds the steps after it; a cancel stops the execution).
   */
  async #item(executionName: string, payload: ItemPayload): Promise<StepAnswer> {
    const { stepId, index } = payload;
    const now = () => this.#ports.now().toISOString();
    const startedAt = now();
    // `(items)` checked that the referenced steps succeeded.
    const statuses: Record<string, StepResult> = Object.fromEntries(
      [...referencedOutputs(payload.step.parameters).keys()].map((id) => [id, { status: 'SUCCEEDED' }]),
    );
    const results = await this.#withOutputs(executionName, payload, statuses);
    const parameters = withItem(
      resolveParameters(payload.step.parameters, results, payload.input),
      payload.item,
      index,
    );
    const parametersBytes = jsonBytes(parameters);
    if (parametersBytes > LIMITS.taskParameters.bytes) {
      throw new ValidationError([
        {
          field: `steps.${stepId}.parameters`,
          message: `${overLimitMessage('taskParameters', parametersBytes)} with item ${index}`,
        },
      ]);
    }
    const suffix = `.${index}`;
    const task = taskSchema.parse({
      id: `${executionName}.${stepId}`.slice(0, 128 - suffix.length) + suffix,
      type: payload.step.action,
      action: payload.step.action,
      factoryType: payload.step.factory_type,
      parameters,
      resources:
        payload.step.timeout_seconds === undefined ? {} : { timeoutSeconds: payload.step.timeout_seconds },
    });
    const { outcome, calls, learned } = await this.#call(task, startedAt, undefined);
    const costUsd = costOfCalls(calls);
    const failure =
      outcome.kind === 'failed'
        ? outcome.error.message
        : outcome.kind === 'succeeded'
          ? inlineRefusal(outcome.output)
          : 'the item ended without a result';
    const at = now();
    const recorded =
      failure === undefined && outcome.kind === 'succeeded'
        ? { status: 'SUCCEEDED' as const, service: outcome.service, output: outcome.output ?? null }
        : { status: 'FAILED' as const, error: failure ?? 'the item ended without a result' };
    await Promise.all([
      this.#ports.workflows.putStepItem(executionName, stepId, {
        ...recorded,
        index,
        startedAt,
        endedAt: at,
        calls,
        ...(costUsd === undefined ? {} : { costUsd }),
      }),
      learned,
    ]);
    if (recorded.status === 'FAILED') throw new StepFailed(`item ${index} of '${stepId}': ${recorded.error}`);
    return { status: 'SUCCEEDED' };
  }

  /**
   * A fan-out's `(collect)`, once every item succeeded: the items' outputs, read in order (one
   * consistent query, a page per MB), become the step's output (kept as a JSON artifact above the
   * inline limit), the step is recorded SUCCEEDED and ended like any step, opening the gates that
   * waited for it.
   */
  async #collect(executionName: string, payload: CollectPayload): Promise<StepAnswer> {
    const { stepId, count } = payload.collect;
    const results = await this.#ports.workflows.stepItems(executionName, stepId, count);
    let outputs: unknown[];
    try {
      outputs = collectOutputs(results, count);
    } catch (error) {
      throw new StepFailed(`'${stepId}': ${(error as Error).message}`);
    }
    const bytes = jsonBytes(outputs);
    if (bytes > LIMITS.factoryAnswer.bytes) {
      throw new StepFailed(
        `the outputs of the ${count} items of '${stepId}' take ${bytes} bytes, more than the ${LIMITS.factoryAnswer.bytes} a step's output may take: let the items answer smaller outputs or artifact references`,
      );
    }
    let output: unknown = outputs;
    if (bytes > LIMITS.inlineOutput.bytes) {
      const { artifacts } = this.#ports;
      if (!artifacts) throw new StepFailed(inlineRefusal(outputs) as string);
      // The items' outputs were checked as each item kept them: they are stored as they are.
      output = {
        artifact: await artifacts.put(new TextEncoder().encode(JSON.stringify(outputs)), 'application/json'),
      };
    }
    const services = [...new Set(results.map((r) => r.service).filter((s) => s !== undefined))];
    const at = this.#ports.now().toISOString();
    await this.#ports.workflows.updateStep(executionName, stepId, {
      status: 'SUCCEEDED',
      at,
      endedAt: at,
      output,
      items: count,
      costUsd: costOfCalls(results.map((r) => ({ cost: r.costUsd }))),
      ...(services.length === 1 ? { service: services[0] } : {}),
    });
    await this.#ended(executionName, stepId, 'SUCCEEDED');
    return { status: 'SUCCEEDED' };
  }

  /**
   * A step that ended in an earlier execution of the run is not run again: the state machine is
   * told how it ended (a callback step through its token, since the state waits for one).
   */
  async #endedBefore(
    executionName: string,
    stepId: string,
    ended: StepEnd,
    taskToken: string | undefined,
  ): Promise<StepAnswer> {
    if (ended === 'FAILED')
      throw new StepFailed(`step '${stepId}' failed in an earlier execution of '${executionName}'`);
    if (taskToken !== undefined) await openGate(taskToken, this.#ports.engine);
    return { status: ended };
  }

  /** Records a step skipped (a dependency did not succeed), for good. */
  async #skipped(executionName: string, stepId: string, reason: string): Promise<StepAnswer> {
    const at = this.#ports.now().toISOString();
    await this.#ports.workflows.updateStep(executionName, stepId, {
      status: 'SKIPPED',
      at,
      endedAt: at,
      error: reason,
    });
    await this.#ended(executionName, stepId, 'SKIPPED');
    return { status: 'SKIPPED' };
  }

  /**
   * Records that a step ended for good, and opens the gates that were waiting only for it. A
   * step's success is recorded only when a gate waits for it (`releases`): what follows it in
   * its branch knows it from the branch having moved on.
   */
  async #ended(executionName: string, stepId: string, status: StepEnd): Promise<void> {
    await openReadyGates(
      await this.#ports.workflows.endStep(executionName, stepId, status, { onlyFirst: true }),
      this.#ports.engine,
    );
  }

  /**
   * A gate: opens at once when the step's dependencies have ended and the run is running, else
   * waits. On Standard it parks its token on the control item, where the last dependency to end
   * (or resume) finds it; on Express it looks again until they have ended.
   */
  async #gate(executionName: string, payload: GatePayload): Promise<StepAnswer> {
    const { stepId, after } = payload.gate;
    const check = (run: RunControl) => {
      if (run.control === 'cancelled') throw new WorkflowCancelled(executionName);
      if (outOfTime(run, payload.run?.deadline, this.#ports.now())) throw new WorkflowTimedOut(executionName);
      return gateReady(run, after);
    };
    const token = payload.taskToken;
    if (token !== undefined) {
      const run = await this.#ports.workflows.parkGate(executionName, stepId, { token, after });
      if (!check(run)) return { status: 'WAITING' };
      await openGate(token, this.#ports.engine);
      return { status: 'OPEN' };
    }
    const sleep = this.#ports.sleep ?? ((ms: number) => new Promise((resolve) => setTimeout(resolve, ms)));
    const giveUpAt = this.#ports.now().getTime() + GATE_WAIT_SECONDS * 1000;
    for (let wait = 25; !check(await this.#ports.workflows.readControl(executionName)); ) {
      // The state machine asks again (the gate's Retry): one invocation stays within its timeout.
      if (this.#ports.now().getTime() >= giveUpAt) throw new GateStillWaiting(stepId);
      await sleep(wait);
      wait = Math.min(wait * 2, EXPRESS_GATE_MAX_POLL_MS);
    }
    return { status: 'OPEN' };
  }

  /**
   * A step's failure outlived its retries (or was never retried: a timeout, a heartbeat missed):
   * its record says so, its dependents are released to be skipped, and a step with
   * `on_failure: 'fail'` records the run's end. A run that is out of time or cancelled fails
   * whatever the step's `on_failure`.
   */
  async #failed(executionName: string, payload: StepFailurePayload): Promise<StepAnswer> {
    const { stepId, endsRun } = payload.failed;
    const at = this.#ports.now().toISOString();
    await this.#ports.workflows.updateStep(executionName, stepId, {
      status: 'FAILED',
      at,
      endedAt: at,
      error: payload.cause ? `${payload.error}: ${payload.cause}`.slice(0, 2_000) : payload.error,
      onlyIf: ['RUNNING', 'CALLBACK', 'WAITING'],
    });
    const run = await this.#ports.workflows.endStep(executionName, stepId, 'FAILED');
    const fatal = payload.error === 'WorkflowTimedOut' || payload.error === 'WorkflowCancelled';
    if (endsRun || fatal) {
      await this.#ports.workflows.recordRunEnd(
        executionName,
        {
          status: payload.error === 'WorkflowTimedOut' ? 'TIMED_OUT' : 'FAILED',
          at,
          stepId,
          error: payload.error,
          cause: `step '${stepId}' failed`,
        },
        { executionArn: payload.executionId },
      );
    } else {
      await openReadyGates(run, this.#ports.engine);
    }
    if (payload.error === 'WorkflowTimedOut') throw new WorkflowTimedOut(executionName);
    if (payload.error === 'WorkflowCancelled') throw new WorkflowCancelled(executionName);
    return { status: 'FAILED' };
  }

  /**
   * The results with the outputs the step's parameters reference, read from the step records
   * (the state carries statuses only). A reference into an output kept as a JSON artifact reads
   * the artifact; a reference to a whole output passes the artifact's reference on.
   */
  async #withOutputs(
    executionName: string,
    payload: StepPayload,
    statuses: StepResults,
  ): Promise<StepResults> {
    const wanted = referencedOutputs(payload.step.parameters);
    const missing = [...wanted.keys()].filter((id) => {
      const result = statuses[id];
      return result?.status === 'SUCCEEDED' && !Object.hasOwn(result, 'output');
    });
    if (missing.length === 0) return statuses;
    const outputs = await this.#ports.workflows.stepOutputs(executionName, missing);
    const results: Record<string, StepResult | undefined> = { ...statuses };
    await Promise.all(
      missing.map(async (id) => {
        const output = outputs[id] ?? null;
        const document = wanted.get(id) ? await this.#document(output) : undefined;
        results[id] = {
          ...(results[id] as StepResult),
          output,
          ...(document === undefined ? {} : { document }),
        };
      }),
    );
    return results;
  }

  /** The content of an output kept as a JSON artifact, for references into it. */
  async #document(output: unknown): Promise<unknown> {
    if (!isReference(output) || output.artifact.mimeType !== 'application/json') return undefined;
    const { artifacts } = this.#ports;
    if (!artifacts) throw new StepFailed('an output kept as an artifact needs the artifact store configured');
    const bytes = await artifacts.read(String(output.artifact.id), LIMITS.factoryAnswer.bytes);
    return JSON.parse(new TextDecoder().decode(bytes));
  }
}

/**
 * The results a step's readiness is decided on. A step starts only once its dependencies have
 * ended (its branch moved on, or its gate saw them end), and every end but a success that no
 * gate waits for is on the control item: a dependency with no recorded end succeeded.
 */
function dependenciesEnded(
  step: Pick<StepPayload['step'], 'dependencies' | 'any_of'>,
  ended: Readonly<Record<string, StepResult>>,
): Record<string, StepResult> {
  const results: Record<string, StepResult> = { ...ended };
  for (const dep of [...step.dependencies, ...(step.any_of ?? []).flat()])
    results[dep] ??= { status: 'SUCCEEDED' };
  return results;
}

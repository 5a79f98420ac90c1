import { type ArtifactStore, inlineRefusal, isReference } from '../artifacts.ts';
import type { Brain } from '../brain.ts';
import { tokenHash } from '../callback-tokens.ts';
import { NoRouteError, ValidationError, VobeeError } from '../errors.ts';
import { jsonBytes, LIMITS, overLimitMessage } from '../limits.ts';
import type { HealthChange } from '../passive-health.ts';
import type { Router, RoutingDecision } from '../routing/router.ts';
import type { Service } from '../service.ts';
import type { CallObservation, ServiceStats } from '../statistics.ts';
import { taskSchema } from '../task.ts';
import { type RunOutcome, TaskRun, type TaskRunPorts } from '../task-run.ts';
import type { RunEndPayload } from './compile.ts';
import { decideStep, referencedOutputs, type StepResult, type StepResults } from './step-readiness.ts';
import { stepCallbackToken } from './step-token.ts';
import type { WorkflowStep } from './template.ts';
import type { WorkflowRepository } from './workflow-ports.ts';

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

/** The step's task failed on every capable service; the state machine retries or catches it. */
export class StepFailed extends VobeeError {
  constructor(message: string) {
    super(message);
    this.name = 'StepFailed';
  }
}

/** What the compiled state machine sends to the step handler. */
export interface StepPayload {
  executionId: string;
  workflowId: string;
  stepId: string;
  step: Pick<
    WorkflowStep,
    'step_id' | 'factory_type' | 'action' | 'parameters' | 'dependencies' | 'any_of' | 'timeout_seconds'
  > & {
    callback?: boolean;
  };
  input: Record<string, unknown>;
  results: StepResults;
  taskToken?: string;
}

/** What the state keeps of a step: its status only (its output is in its step record). */
export type StepAnswer = { status: 'SUCCEEDED' | 'SKIPPED' | 'CALLBACK' | 'RECORDED' };

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
}

/**
 * Runs one workflow step in one invocation with three writes: the start (which is also the check
 * that the run is not paused or cancelled), the end (status, calls, output), and the statistics
 * of each call. A step whose dependencies did not succeed is recorded as skipped. The step's task
 * is decided, routed and called like a single task, failing over within the invocation; retrying
 * the step with back-off is the state machine's `Retry`.
 */
export class StepRunner {
  readonly #ports: StepRunnerPorts;
  constructor(ports: StepRunnerPorts) {
    this.#ports = ports;
  }

  /** Runs a step, or records the end an Express run reports (see `RunEndPayload`). */
  async run(payload: StepPayload | RunEndPayload): Promise<StepAnswer> {
    const { workflows } = this.#ports;
    const executionName = payload.executionId.split(':').pop() as string;
    if ('end' in payload) {
      // The results are the steps' outputs, which the step records hold already.
      await workflows.recordRunEnd(executionName, { ...payload.end, at: this.#ports.now().toISOString() });
      return { status: 'RECORDED' };
    }
    const stepId = payload.stepId;
    const now = () => this.#ports.now().toISOString();
    const readiness = decideStep(payload.step, await this.#withOutputs(executionName, payload));
    if (!readiness.run) {
      const at = now();
      await workflows.updateStep(executionName, stepId, {
        status: 'SKIPPED',
        at,
        endedAt: at,
        error: readiness.reason,
      });
      return { status: 'SKIPPED' };
    }
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
    const startedAt = now();
    const start = await workflows.startStep(executionName, stepId, {
      startedAt,
      tokenHash: payload.taskToken === undefined ? undefined : tokenHash(payload.taskToken),
    });
    if (!start.started) {
      if (start.control === 'cancelled') throw new WorkflowCancelled(executionName);
      throw new WorkflowPaused(executionName);
    }
    const task = taskSchema.parse({
      id: `${executionName}.${stepId}`.slice(0, 128),
      type: payload.step.action,
      action: payload.step.action,
      factoryType: payload.step.factory_type,
      parameters: readiness.parameters,
      resources:
        payload.step.timeout_seconds === undefined ? {} : { timeoutSeconds: payload.step.timeout_seconds },
    });
    const [services, stats, decision] = await Promise.all([
      this.#ports.services(),
      this.#ports.statsFor(task.type),
      this.#ports.brain.decideTask(task),
    ]);
    let route: RoutingDecision | undefined;
    let outcome: RunOutcome | undefined;
    try {
      route = await this.#ports.router.routeTask(task);
    } catch (error) {
      if (!(error instanceof NoRouteError)) throw error;
      outcome = { kind: 'failed', error: { kind: 'no_route', message: error.message } };
    }
    const run = new TaskRun(this.#ports, {
      task,
      decision,
      route,
      attempts: [],
      startedAt,
      services: new Map(services.map((s) => [s.name, s])),
      stats,
    });
    const engineToken = payload.taskToken;
    outcome ??= await run.proceed({
      retries: false,
      callback:
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
    });
    const learned = Promise.all([
      this.#ports.recordCalls(run.observations),
      this.#ports.recordHealth(run.healthChanges),
    ]);
    const calls = run.attempts;
    if (outcome.kind === 'waiting') {
      // The callback may already have come and settled the step: only a running step starts waiting.
      await Promise.all([
        workflows.updateStep(executionName, stepId, {
          status: 'CALLBACK',
          at: now(),
          startedAt,
          service: outcome.service,
          calls,
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
        workflows.updateStep(executionName, stepId, { ...fields, at, startedAt, endedAt: at, calls }),
        learned,
      ]);
    };
    if (failure !== undefined || outcome.kind !== 'succeeded') {
      const error = failure ?? 'the step ended without a result';
      await end({ status: 'FAILED', error });
      throw new StepFailed(error);
    }
    await end({ status: 'SUCCEEDED', service: outcome.service, output: outcome.output ?? null });
    return { status: 'SUCCEEDED' };
  }

  /**
   * The results with the outputs the step's parameters reference, read from the step records
   * (the state carries statuses only). A reference into an output kept as a JSON artifact reads
   * the artifact; a reference to a whole output passes the artifact's reference on.
   */
  async #withOutputs(executionName: string, payload: StepPayload): Promise<StepResults> {
    const wanted = referencedOutputs(payload.step.parameters);
    const missing = [...wanted.keys()].filter((id) => {
      const result = payload.results[id];
      return result?.status === 'SUCCEEDED' && !Object.hasOwn(result, 'output');
    });
    if (missing.length === 0) return payload.results;
    const outputs = await this.#ports.workflows.stepOutputs(executionName, missing);
    const results: Record<string, StepResult | undefined> = { ...payload.results };
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

import { VobeeError } from '../errors.ts';
import type { TaskPipeline } from '../pipeline/task-pipeline.ts';
import { taskSchema } from '../task.ts';
import { decideStep, type StepResults } from './step-readiness.ts';
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
    'step_id' | 'factory_type' | 'action' | 'parameters' | 'dependencies' | 'any_of'
  > & {
    callback?: boolean;
  };
  input: Record<string, unknown>;
  results: StepResults;
  taskToken?: string;
}

export type StepAnswer = { status: 'SUCCEEDED' | 'SKIPPED' | 'CALLBACK'; output: unknown };

/** Outputs travel in the state machine's data (256 KB in all): one step may not take most of it. */
export const MAX_STEP_OUTPUT_BYTES = 128_000;

export interface StepRunnerPorts {
  workflows: WorkflowRepository;
  pipeline: Pick<TaskPipeline, 'runInline'>;
  /** Where factories post callbacks: the API's `/callbacks` route. */
  callbackBaseUrl?: string | undefined;
  now(): Date;
}

/**
 * Runs one workflow step: honours pause and cancel, skips a step whose dependencies did not
 * succeed, resolves `{{steps...}}` references, runs the task pipeline inline, and records the
 * step's status, attempts, timings and output where `GET /executions/{id}` reads them.
 */
export class StepRunner {
  readonly #ports: StepRunnerPorts;
  constructor(ports: StepRunnerPorts) {
    this.#ports = ports;
  }

  async run(payload: StepPayload): Promise<StepAnswer> {
    const { workflows } = this.#ports;
    const executionName = payload.executionId.split(':').pop() as string;
    const stepId = payload.stepId;
    const record = await workflows.getExecution(executionName);
    if (!record) throw new Error(`execution '${executionName}' has no record`);
    if (record.control === 'cancelled') throw new WorkflowCancelled(executionName);
    if (record.control === 'paused') {
      await workflows.updateStep(executionName, stepId, { status: 'WAITING' });
      throw new WorkflowPaused(executionName);
    }
    const now = () => this.#ports.now().toISOString();
    const readiness = decideStep(payload.step, payload.results);
    if (!readiness.run) {
      await workflows.updateStep(executionName, stepId, {
        status: 'SKIPPED',
        endedAt: now(),
        error: readiness.reason,
      });
      return { status: 'SKIPPED', output: null };
    }
    const attempt = await workflows.updateStep(executionName, stepId, {
      status: 'RUNNING',
      attempt: true,
      startedAt: now(),
    });
    const task = taskSchema.parse({
      id: `${executionName}.${stepId}`.slice(0, 128),
      type: payload.step.action,
      action: payload.step.action,
      factoryType: payload.step.factory_type,
      parameters: readiness.parameters,
    });
    const callback = payload.taskToken === undefined ? undefined : this.#callback(payload.taskToken);
    if (callback) await workflows.putToken(callback.token, executionName, stepId, this.#ports.now());
    const outcome = await this.#ports.pipeline.runInline(task, {
      callId: `${executionName}:${stepId}:${attempt}`,
      callback,
    });
    if (!outcome.ok) {
      await workflows.updateStep(executionName, stepId, {
        status: 'FAILED',
        endedAt: now(),
        error: outcome.error,
      });
      throw new StepFailed(outcome.error);
    }
    if (outcome.accepted) {
      // The callback may already have come and settled the step: only a running step starts waiting.
      await workflows.updateStep(executionName, stepId, {
        status: 'CALLBACK',
        service: outcome.service,
        onlyIf: ['RUNNING'],
      });
      return { status: 'CALLBACK', output: null };
    }
    const bytes = Buffer.byteLength(JSON.stringify(outcome.output ?? null));
    if (bytes > MAX_STEP_OUTPUT_BYTES) {
      const message = `output of ${bytes} bytes is over the ${MAX_STEP_OUTPUT_BYTES} a step may pass on`;
      await workflows.updateStep(executionName, stepId, { status: 'FAILED', endedAt: now(), error: message });
      throw new StepFailed(message);
    }
    await workflows.updateStep(executionName, stepId, {
      status: 'SUCCEEDED',
      service: outcome.service,
      endedAt: now(),
      output: outcome.output,
    });
    return { status: 'SUCCEEDED', output: outcome.output ?? null };
  }

  #callback(token: string): { url: string; token: string } {
    if (!this.#ports.callbackBaseUrl)
      throw new StepFailed('a callback step needs the callback URL configured (VOBEE_CALLBACK_URL)');
    return {
      url: `${this.#ports.callbackBaseUrl.replace(/\/+$/, '')}/callbacks/${encodeURIComponent(token)}`,
      token,
    };
  }
}

import { randomUUID } from 'node:crypto';
import * as z from 'zod';
import { callbackBody, failureText, keptOutput } from '../callback-body.ts';
import { tokenHash } from '../callback-tokens.ts';
import { ConflictError, NotFoundError, ValidationError } from '../errors.ts';
import {
  assertSameRequest,
  requestHash as hashRequest,
  parseIdempotencyKey,
  sha256Hex,
} from '../idempotency.ts';
import { assertWithin, jsonBytes } from '../limits.ts';
import { IN_ORDER, listWindow, listWindowShape, nextToken } from '../list-window.ts';
import { identifier } from '../names.ts';
import type { CallObservation } from '../statistics.ts';
import { costOfCalls } from '../task-record.ts';
import { parseInput } from '../validation.ts';
import type { BudgetStep, RunBudget } from './budget.ts';
import { type CompileStats, compileWorkflow, executionInput, TIMED_OUT_ERROR } from './compile.ts';
import { budgetPlan, type RunBudgetPlan, startRefusal } from './run-budget.ts';
import { applyRunChange, type RunChangeRecord, runChangeSchema } from './run-change.ts';
import { openReadyGates } from './run-control.ts';
import { parseStepToken } from './step-token.ts';
import { validateTemplate, type WorkflowTemplate, type WorkflowTemplateInput } from './template.ts';
import { applyInputs, type InputDeclarations } from './template-inputs.ts';
import type { ExecutionDescription, WorkflowEngine, WorkflowRepository } from './workflow-ports.ts';
import {
  type ExecutionStatus,
  executionStatus,
  type ListedRun,
  type RunEnd,
  type StepRecord,
  type WorkflowEngineType,
  type WorkflowExecutionRecord,
  type WorkflowHead,
  type WorkflowVersion,
} from './workflow-records.ts';

export interface WorkflowServicePorts {
  workflows: WorkflowRepository;
  engine: WorkflowEngine;
  /** The step handler every compiled step invokes (function name locally, ARN on AWS). */
  runStepFunction: string;
  /** Factory type -> actions, from the registered services: what templates may use. */
  capabilities(): Promise<Record<string, string[]>>;
  /** Prefix of the state machines made at run time (one per stage: `vobee-dev-wf`). */
  stateMachinePrefix?: string;
  /**
   * Workflows the stack deployed from `cdk/workflows/*.json`: they run like registered ones, as
   * version 1, and are changed by changing the stack, not the API.
   */
  deployed?: Readonly<Record<string, DeployedWorkflow>>;
  /** Counts the call a callback settles (see `CallObservation`). */
  recordCalls(calls: readonly CallObservation[]): Promise<void>;
  /** What is kept of a callback's output: large outputs by artifact reference (see `keepOutput`). */
  keepOutput?(output: unknown): Promise<unknown>;
  /** The planner's view of a budgeted run's steps, from the registry and learned statistics. */
  budgetSteps?(plan: RunBudgetPlan): Promise<BudgetStep[]>;
  now(): Date;
}

/** A workflow the stack deployed: its state machine, engine, run timeout and declared inputs. */
export interface DeployedWorkflow {
  arn: string;
  engine: WorkflowEngineType;
  timeoutSeconds: number;
  inputs?: InputDeclarations | undefined;
}

/** Step statuses of a step that has started and not ended. */
const IN_PROGRESS: readonly StepRecord['status'][] = ['RUNNING', 'WAITING', 'CALLBACK'];

/** The alias every workflow's executions start through; rollback points it at an older version. */
export const LIVE_ALIAS = 'live';

/** The input of a workflow run: an object, handed to its steps. */
export const executionInputSchema = z.record(z.string(), z.unknown());
/** A published version of a workflow. */
export const workflowVersionNumber = z.number().int().min(1);

/** A template published as the workflow's next version, and what its compilation found. */
export interface RegisteredWorkflow {
  workflow: WorkflowHead;
  compiled: CompileStats;
}

/** A workflow: its head, its current template, and each published version (its step count). */
export interface WorkflowDetail extends WorkflowHead {
  template: WorkflowVersion['template'] | undefined;
  versions: Array<Omit<WorkflowVersion, 'template'> & { steps: number }>;
}

/** A run as a start request left it: `created` false for a repeat of an idempotent start. */
export interface StartedRun {
  created: boolean;
  execution: ExecutionView;
}

type EngineView = Omit<ExecutionDescription, 'executionId'>;

/** `GET /executions`: which runs, newest first (see `list-window.ts` for the window). */
export const executionListQuery = z
  .object({
    status: executionStatus.optional(),
    workflowId: identifier.optional(),
    ...listWindowShape,
  })
  .strict()
  .refine(IN_ORDER.check, IN_ORDER.issue);
export type ExecutionListQuery = z.output<typeof executionListQuery>;

/** A run as `GET /executions` lists it. */
export interface ExecutionSummary {
  executionId: string;
  workflowId: string;
  version: number;
  status: ExecutionStatus;
  startedAt: string;
  stoppedAt?: string | undefined;
  error?: { error?: string | undefined; cause?: string | undefined } | undefined;
}

/** What `GET /executions/{id}` answers: the run as listed, with its steps and results. */
export interface ExecutionView extends ExecutionSummary {
  currentSteps: string[];
  steps: StepRecord[];
  results: Record<string, unknown>;
  /** Who changed the run, what and when (absent when it never was). */
  changes?: RunChangeRecord[] | undefined;
  /** What its steps' calls cost (USD), when any call's cost is known. */
  costUsd?: number | undefined;
}

/**
 * Workflows at run time: templates registered through the API become state machine versions
 * behind a `live` alias (rollback moves the alias), executions are started idempotently,
 * paused, resumed and cancelled, and callbacks from long-running factories complete their steps.
 */
export class WorkflowService {
  readonly #ports: WorkflowServicePorts;
  readonly #versions = new Map<string, WorkflowVersion>();
  constructor(ports: WorkflowServicePorts) {
    this.#ports = ports;
  }

  /** Validates, compiles and publishes a template as the workflow's next version, and makes it current. */
  async register(input: WorkflowTemplateInput): Promise<RegisteredWorkflow> {
    const template = validateTemplate(input, { capabilities: await this.#ports.capabilities() });
    if (this.#ports.deployed?.[template.workflow_id]) {
      throw new ConflictError(
        `workflow '${template.workflow_id}' is deployed with the stack: change cdk/workflows instead`,
      );
    }
    const head = await this.#ports.workflows.getHead(template.workflow_id);
    const version = (head?.latestVersion ?? 0) + 1;
    const versioned = { ...template, version };
    const { definition, stats, type } = compileWorkflow(versioned, {
      runStepFunctionArn: this.#ports.runStepFunction,
    });
    const deployed = await this.#ports.engine.deploy(
      stateMachineName(template.workflow_id, this.#ports.stateMachinePrefix),
      definition,
      `${template.name} v${version}`,
      { type },
    );
    const aliasArn = await this.#ports.engine.setAlias(
      deployed.stateMachineArn,
      LIVE_ALIAS,
      deployed.versionArn,
    );
    const now = this.#ports.now().toISOString();
    await this.#ports.workflows.putVersion({
      workflowId: template.workflow_id,
      version,
      template: versioned,
      versionArn: deployed.versionArn,
      states: stats.states,
      strategy: stats.strategy,
      createdAt: now,
    });
    const next: WorkflowHead = {
      workflowId: template.workflow_id,
      name: template.name,
      description: template.description,
      currentVersion: version,
      latestVersion: version,
      stateMachineArn: deployed.stateMachineArn,
      aliasArn,
      engine: template.engine,
      timeoutSeconds: template.timeout,
      updatedAt: now,
      rev: (head?.rev ?? 0) + 1,
    };
    await this.#ports.workflows.putHead(next, head?.rev);
    return { workflow: next, compiled: stats };
  }

  async list(): Promise<WorkflowHead[]> {
    const registered = await this.#ports.workflows.listHeads();
    return [
      ...registered,
      ...Object.keys(this.#ports.deployed ?? {}).map((id) => this.#deployedHead(id)),
    ].sort((a, b) => a.workflowId.localeCompare(b.workflowId));
  }

  #deployedHead(workflowId: string): WorkflowHead {
    const deployed = this.#ports.deployed?.[workflowId];
    if (!deployed) throw new NotFoundError('workflow', workflowId);
    const { arn, engine, timeoutSeconds } = deployed;
    return {
      engine,
      timeoutSeconds,
      workflowId,
      name: workflowId,
      description: 'deployed with the stack (cdk/workflows)',
      currentVersion: 1,
      latestVersion: 1,
      stateMachineArn: arn,
      aliasArn: arn,
      updatedAt: '',
      rev: 0,
    };
  }

  async get(workflowId: string): Promise<WorkflowDetail> {
    const head = await this.#head(workflowId);
    const versions = (await this.#ports.workflows.listVersions(head.workflowId)).map(
      ({ template, ...v }) => ({
        ...v,
        steps: template.steps.length,
      }),
    );
    const current = await this.#version(head.workflowId, head.currentVersion);
    return { ...head, template: current?.template, versions };
  }

  /** Points the live alias back (or forward) at a published version. */
  async rollback(workflowId: string, versionInput: number): Promise<WorkflowHead> {
    const head = await this.#head(workflowId);
    if (this.#ports.deployed?.[head.workflowId]) {
      throw new ConflictError(
        `workflow '${head.workflowId}' is deployed with the stack: roll back the stack instead`,
      );
    }
    const version = parseInput(workflowVersionNumber, versionInput, 'version');
    const target = await this.#version(head.workflowId, version);
    if (!target) throw new NotFoundError('workflow version', `${head.workflowId}@${version}`);
    await this.#ports.engine.setAlias(head.stateMachineArn, LIVE_ALIAS, target.versionArn);
    const next = {
      ...head,
      currentVersion: version,
      updatedAt: this.#ports.now().toISOString(),
      rev: head.rev + 1,
    };
    await this.#ports.workflows.putHead(next, head.rev);
    return next;
  }

  /**
   * Starts a run of the current version. The input is checked against the inputs the template
   * declares and completed with their defaults (a missing or mistyped one is refused, naming
   * `input.<name>`, with nothing written). With an idempotency key, a repeat returns the first run
   * and starts nothing; the same key with a different input is a conflict. An input above the
   * `runInput` limit is refused (413) with nothing written.
   */
  async start(
    workflowId: string,
    inputValue: unknown,
    options: { idempotencyKey?: string; budget?: RunBudget | undefined } = {},
  ): Promise<StartedRun> {
    const head = await this.#head(workflowId);
    const given = parseInput(executionInputSchema, inputValue ?? {}, 'input');
    const deployed = this.#ports.deployed?.[head.workflowId];
    const template = deployed
      ? undefined
      : (await this.#version(head.workflowId, head.currentVersion))?.template;
    const input = applyInputs({ inputs: deployed ? deployed.inputs : template?.inputs }, given);
    // The input travels in the state of every step (Step Functions: 256 KB).
    assertWithin('runInput', jsonBytes(input));
    const budget = options.budget && (await this.#budget(template, options.budget));
    const requestHash = hashRequest(input);
    const key =
      options.idempotencyKey === undefined ? undefined : parseIdempotencyKey(options.idempotencyKey);
    const suffix =
      key === undefined ? randomUUID().slice(0, 13) : sha256Hex(`${head.workflowId}|${key}`).slice(0, 16);
    const executionName = `${head.workflowId.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 60)}-${suffix}`;
    const now = this.#ports.now();
    const record: WorkflowExecutionRecord = {
      executionName,
      workflowId: head.workflowId,
      version: head.currentVersion,
      control: 'running',
      input,
      idempotencyKey: key,
      engine: head.engine,
      timeoutSeconds: head.timeoutSeconds,
      requestHash,
      ...(budget ? { budget } : {}),
      createdAt: now.toISOString(),
      updatedAt: now.toISOString(),
    };
    const existing = await this.#ports.workflows.putExecutionIfAbsent(record);
    if (existing) {
      assertSameRequest(existing, requestHash, 'Idempotency-Key', key ?? executionName);
      return { created: false, execution: await this.describe(existing.executionName) };
    }
    try {
      const deadline = new Date(now.getTime() + (head.timeoutSeconds ?? 3_600) * 1000).toISOString();
      const { executionId } = await this.#ports.engine.start(
        head.aliasArn,
        executionName,
        executionInput(input, { id: executionName, deadline, ...(budget ? { budget } : {}) }),
      );
      await this.#ports.workflows.setExecutionArn(executionName, executionId, this.#ports.now());
    } catch (error) {
      await this.#ports.workflows.deleteExecution(executionName);
      throw error;
    }
    // A run that has just started is known without reading it back: running, no step yet.
    const execution: ExecutionView = {
      executionId: executionName,
      workflowId: head.workflowId,
      version: head.currentVersion,
      status: 'RUNNING',
      startedAt: record.createdAt,
      currentSteps: [],
      steps: [],
      results: {},
    };
    return { created: true, execution };
  }

  /**
   * The plan of a budgeted run of the current version, refused (422, naming the limit that
   * cannot be kept, with the figures) when the budget is out of reach from the start.
   */
  async #budget(template: WorkflowTemplate | undefined, budget: RunBudget): Promise<RunBudgetPlan> {
    if (!template || !this.#ports.budgetSteps) {
      throw new ValidationError([
        { field: 'budget', message: 'only workflows registered through the API take a budget' },
      ]);
    }
    const plan = budgetPlan(template, budget, this.#ports.now().toISOString());
    const refusal = startRefusal(await this.#ports.budgetSteps(plan), budget);
    if (refusal) {
      const field = refusal.limit === 'deadline' ? 'budget.deadline_seconds' : 'budget.max_cost_usd';
      throw new ValidationError([{ field, message: `cannot be kept: ${refusal.cause}` }]);
    }
    return plan;
  }

  /**
   * Status, per-step status, current steps and results, the same locally and on AWS. A run that
   * has ended reads from its own record (kept when it ended), so its history does not depend on
   * the engine remembering it.
   */
  async describe(executionName: string): Promise<ExecutionView> {
    return this.#view(await this.#execution(executionName));
  }

  /** Runs newest first, of a workflow and status when given, a page at a time. */
  async listExecutions(
    query: ExecutionListQuery,
  ): Promise<{ executions: ExecutionSummary[]; nextToken?: string }> {
    const page = await this.#ports.workflows.listExecutions(
      listWindow(query, this.#ports.now()),
      (run) =>
        (query.workflowId === undefined || run.workflowId === query.workflowId) &&
        (query.status === undefined || summarize(run).status === query.status),
    );
    const token = nextToken(page.next);
    return { executions: page.runs.map(summarize), ...(token === undefined ? {} : { nextToken: token }) };
  }

  async #view(record: WorkflowExecutionRecord): Promise<ExecutionView> {
    const steps = (await this.#ports.workflows.listSteps(record.executionName)).sort((a, b) =>
      (a.startedAt ?? '~').localeCompare(b.startedAt ?? '~'),
    );
    const engine = record.ended
      ? endView(record.createdAt, record.ended)
      : record.executionArn
        ? await this.#engineView(record)
        : undefined;
    if (engine && engine.status !== 'RUNNING' && !record.ended) await this.#keepEnd(record, engine);
    const ended = engine !== undefined && engine.status !== 'RUNNING';
    const status = statusOf(record.control, record.executionArn !== undefined, engine);
    // A step still marked running after the run ended was cut off (timeout, stop).
    const settled = steps.map((s) =>
      ended && IN_PROGRESS.includes(s.status)
        ? {
            ...s,
            status: 'FAILED' as const,
            error: s.error ?? `the run ended (${status}) before the step did`,
          }
        : s,
    );
    return {
      executionId: record.executionName,
      workflowId: record.workflowId,
      version: record.version,
      status,
      startedAt: record.createdAt,
      stoppedAt: engine?.stoppedAt,
      currentSteps: settled.filter((s) => IN_PROGRESS.includes(s.status)).map((s) => s.stepId),
      steps: settled,
      // Aggregated results: each succeeded step's output (or its reference), by step id.
      results: Object.fromEntries(
        settled.filter((s) => s.status === 'SUCCEEDED').map((s) => [s.stepId, s.output]),
      ),
      error: engine?.error ? { error: engine.error, cause: engine.cause } : undefined,
      ...(record.changes ? { changes: record.changes } : {}),
      ...costField(costOfCalls(settled.map((s) => ({ cost: s.costUsd })))),
    };
  }

  /** Keeps how a run ended with the run (the first end recorded stays). */
  async #keepEnd(record: WorkflowExecutionRecord, engine: EngineView): Promise<void> {
    await this.#ports.workflows.recordRunEnd(
      record.executionName,
      {
        status: engine.status === 'RUNNING' ? 'FAILED' : engine.status,
        at: engine.stoppedAt ?? this.#ports.now().toISOString(),
        error: engine.error,
        cause: engine.cause,
      },
      { executionArn: record.executionArn },
    );
  }

  /**
   * Runs a FAILED or TIMED_OUT run again from the steps that did not succeed, in a new execution
   * of the same version: the steps that succeeded are not called again (their outputs stay), the
   * others run again, and the run gets its whole time limit anew.
   */
  async redrive(executionName: string): Promise<ExecutionView> {
    const record = await this.#execution(executionName);
    const before = await this.#view(record);
    if (before.status !== 'FAILED' && before.status !== 'TIMED_OUT') {
      throw new ConflictError(
        `cannot redrive execution '${before.executionId}': it is ${before.status}; only FAILED and TIMED_OUT runs are redriven`,
      );
    }
    const succeeded = succeededSteps(before.steps);
    const reopen = (await this.#stepIds(record, before.steps)).filter((id) => !succeeded.includes(id));
    await this.#rerun(record, before.steps, { reopen, carry: [] });
    return this.describe(executionName);
  }

  /**
   * Carries on a run whose execution the engine no longer knows (the local runtime stopped while
   * it ran or was paused): a new execution skips the steps that ended, runs again the ones that
   * were running, and keeps the steps waiting for a callback waiting for the same callback.
   * Returns false when the run has ended or is still known to the engine.
   */
  async resumeInterrupted(executionName: string): Promise<boolean> {
    const record = await this.#execution(executionName);
    if (record.ended || record.control === 'cancelled' || !record.executionArn) return false;
    if ((await this.#engineView(record)) !== undefined) return false;
    const steps = await this.#ports.workflows.listSteps(record.executionName);
    const carry = steps.filter((s) => s.status === 'CALLBACK').map((s) => s.stepId);
    await this.#rerun(record, steps, { reopen: [], carry });
    return true;
  }

  /** The run's step ids: its template's, or (a workflow deployed with the stack) those that started. */
  async #stepIds(record: WorkflowExecutionRecord, steps: readonly StepRecord[]): Promise<string[]> {
    const template = await this.#templateOf(record);
    return template ? template.steps.map((s) => s.step_id) : steps.map((s) => s.stepId);
  }

  /**
   * Changes a paused run: adds steps, replaces the parameters of steps not yet started, skips
   * steps not yet started. The run's template becomes a version of its own, validated like any
   * template, and the run carries on under it in a new execution (still paused: resume it), the
   * steps that ended being skipped as in a redrive. Who changed what, and when, stays with the run.
   */
  async change(executionName: string, input: unknown): Promise<ExecutionView> {
    const change = parseInput(runChangeSchema, input, 'body');
    const record = await this.#execution(executionName);
    const view = await this.#view(record);
    if (record.engine === 'express') {
      throw new ConflictError(
        `cannot change execution '${view.executionId}': express runs cannot be paused or changed`,
      );
    }
    if (view.status !== 'PAUSED') {
      throw new ConflictError(
        `cannot change execution '${view.executionId}': it is ${view.status}; pause it first, then change it once no step is running`,
      );
    }
    const running = view.steps.filter((s) => s.status === 'RUNNING').map((s) => s.stepId);
    if (running.length > 0) {
      throw new ConflictError(
        `cannot change execution '${view.executionId}' while ${running.map((id) => `'${id}'`).join(', ')} ${running.length > 1 ? 'run' : 'runs'}: try again once ${running.length > 1 ? 'they have' : 'it has'} finished`,
      );
    }
    const base = await this.#templateOf(record);
    if (!base) {
      throw new ConflictError(
        `cannot change execution '${view.executionId}': workflow '${record.workflowId}' is deployed with the stack`,
      );
    }
    const started = new Set(view.steps.filter((s) => s.status !== 'WAITING').map((s) => s.stepId));
    const template = validateTemplate(applyRunChange(base, change, started), {
      capabilities: await this.#ports.capabilities(),
    });
    const at = this.#ports.now().toISOString();
    const entry: RunChangeRecord = {
      changedBy: change.changedBy,
      at,
      ...(change.reason === undefined ? {} : { reason: change.reason }),
      added: change.addSteps.map((s) => s.step_id),
      replaced: Object.keys(change.replaceParameters),
      skipped: change.skipSteps,
      version: (record.changes?.length ?? 0) + 1,
    };
    await this.#ports.workflows.recordChange(record.executionName, { template, entry });
    for (const stepId of change.skipSteps) {
      await this.#ports.workflows.updateStep(record.executionName, stepId, {
        status: 'SKIPPED',
        at,
        endedAt: at,
        error: `skipped by a change from ${change.changedBy}`,
      });
      await this.#ports.workflows.endStep(record.executionName, stepId, 'SKIPPED');
    }
    const previous = record.executionArn;
    const carry = view.steps.filter((s) => s.status === 'CALLBACK').map((s) => s.stepId);
    await this.#rerun({ ...record, runTemplate: template }, view.steps, { reopen: [], carry });
    if (previous) await this.#ports.engine.stop(previous, 'the run carries on under a changed template');
    return this.describe(executionName);
  }

  /** The template the run runs: its own once changed, else its version's (none for deployed workflows). */
  async #templateOf(record: WorkflowExecutionRecord): Promise<WorkflowTemplate | undefined> {
    return record.runTemplate ?? (await this.#version(record.workflowId, record.version))?.template;
  }

  /** The state machine (version) a new execution of the run starts on. */
  async #machineOf(record: WorkflowExecutionRecord): Promise<string> {
    if (record.runTemplate) {
      // A changed run's template is published on a state machine of its own, so the workflow's
      // versions (and the alias) are left as they are.
      const { definition, type } = compileWorkflow(record.runTemplate, {
        runStepFunctionArn: this.#ports.runStepFunction,
      });
      const deployed = await this.#ports.engine.deploy(
        stateMachineName(`${record.workflowId}-changed`, this.#ports.stateMachinePrefix),
        definition,
        `${record.executionName} changed (${record.changes?.length ?? 1})`,
        { type },
      );
      return deployed.versionArn;
    }
    const deployed = this.#ports.deployed?.[record.workflowId];
    if (deployed) return deployed.arn;
    const version = await this.#version(record.workflowId, record.version);
    if (!version) throw new NotFoundError('workflow version', `${record.workflowId}@${record.version}`);
    return version.versionArn;
  }

  /** Starts a new execution of the run (its version, or its own template) for the same run (see `RunRef`). */
  async #rerun(
    record: WorkflowExecutionRecord,
    steps: readonly StepRecord[],
    changes: { reopen: string[]; carry: string[] },
  ): Promise<void> {
    const machine = await this.#machineOf(record);
    await this.#ports.workflows.prepareRerun(record.executionName, {
      all: await this.#stepIds(record, steps),
      succeeded: succeededSteps(steps),
      ...changes,
    });
    const now = this.#ports.now();
    const deadline = new Date(now.getTime() + (record.timeoutSeconds ?? 3_600) * 1000).toISOString();
    const attempt = (record.executions ?? 1) + 1;
    const { executionId } = await this.#ports.engine.start(
      machine,
      `${record.executionName.slice(0, 72)}-r${attempt}`,
      executionInput(record.input, {
        id: record.executionName,
        deadline,
        ...(record.budget ? { budget: record.budget } : {}),
      }),
    );
    await this.#ports.workflows.restartExecution(record.executionName, executionId, now);
  }

  /**
   * What the engine says of a run. An Express run is not described by Step Functions, and one
   * that has not recorded its end within its timeout (and a minute) ran out of time. Undefined
   * when the engine does not know the run.
   */
  async #engineView(record: WorkflowExecutionRecord): Promise<EngineView | undefined> {
    try {
      return await this.#ports.engine.describe(record.executionArn as string);
    } catch (error) {
      if ((error as Error).name !== 'ExecutionNotDescribable') return undefined;
    }
    const startedAt = record.createdAt;
    const deadline = Date.parse(startedAt) + ((record.timeoutSeconds ?? 300) + 60) * 1000;
    if (this.#ports.now().getTime() < deadline) return { status: 'RUNNING', startedAt };
    return {
      status: 'TIMED_OUT',
      startedAt,
      error: 'States.Timeout',
      cause: `no end was recorded within the run's ${record.timeoutSeconds ?? 300} s timeout`,
    };
  }

  /** Running steps finish; no new step starts until resume. Express runs cannot be paused. */
  async pause(executionName: string): Promise<ExecutionView> {
    const record = await this.#execution(executionName);
    if (record.engine === 'express') {
      throw new ConflictError(
        `cannot pause execution '${record.executionName}': it runs on an express workflow, which cannot wait; use engine 'standard' to pause runs`,
      );
    }
    return this.#control(executionName, ['running'], 'paused', 'pause');
  }

  /** The run goes on: the steps held while it was paused are released. */
  async resume(executionName: string): Promise<ExecutionView> {
    return this.#control(executionName, ['paused'], 'running', 'resume');
  }

  /** Stops the run: no new step starts, and the execution ends CANCELLED. */
  async cancel(executionName: string): Promise<ExecutionView> {
    const view = await this.#control(executionName, ['running', 'paused'], 'cancelled', 'cancel');
    const record = await this.#execution(executionName);
    // Express runs cannot be stopped: their steps find the run cancelled and start nothing.
    if (record.executionArn && record.engine !== 'express')
      await this.#ports.engine.stop(record.executionArn, 'cancelled through the API');
    return { ...view, status: 'CANCELLED' };
  }

  /**
   * A long-running factory reports back: its step succeeds or fails, and the run goes on. The
   * token names the step; the step accepts it only if the engine token in it is the one the step
   * waits with.
   */
  async callback(
    token: string,
    body: unknown,
  ): Promise<{ executionId: string; stepId: string; status: string }> {
    parseInput(z.string().min(1).max(4_096), token, 'token');
    const message = parseInput(callbackBody, body, 'body');
    const owner = parseStepToken(token);
    if (!owner) throw new NotFoundError('callback token', `${token.slice(0, 12)}...`);
    const { executionName, stepId, service, taskType, engineToken } = owner;
    // Kept before the token is taken: a reference that does not hold is refused with nothing changed.
    const output =
      message.status === 'succeeded' ? await keptOutput(message.output, this.#ports.keepOutput) : undefined;
    const now = this.#ports.now().toISOString();
    const taken = await this.#ports.workflows.consumeStepToken(executionName, stepId, tokenHash(engineToken));
    if (!taken) throw new ConflictError(`step '${stepId}' is not waiting for this callback`);
    // A step carried into a later execution of the run waits there with that execution's token.
    const waitingToken = taken.engineToken ?? engineToken;
    // The step is settled in the record first, so a reader never sees the run end before its step.
    // A callback can overtake the step handler's own "waiting" mark, so RUNNING counts as waiting too.
    const settled = await this.#ports.workflows.updateStep(executionName, stepId, {
      ...(message.status === 'succeeded'
        ? { status: 'SUCCEEDED' as const, output }
        : { status: 'FAILED' as const, error: failureText(message.error) }),
      service,
      // What the factory says the work cost replaces the price the call was made at.
      ...(message.cost === undefined ? {} : { costUsd: message.cost }),
      at: now,
      endedAt: now,
      onlyIf: ['RUNNING', 'CALLBACK'],
    });
    if (!settled) throw new ConflictError(`step '${stepId}' is not waiting for this callback`);
    // Ended for good before the engine hears of it: what follows the step reads how it ended.
    const run =
      message.status === 'succeeded'
        ? await this.#ports.workflows.endStep(executionName, stepId, 'SUCCEEDED', { onlyFirst: true })
        : undefined;
    try {
      if (message.status === 'succeeded') {
        await this.#ports.engine.sendTaskSuccess(waitingToken, { status: 'SUCCEEDED' });
      } else {
        await this.#ports.engine.sendTaskFailure(waitingToken, 'StepFailed', failureText(message.error));
      }
    } catch (error) {
      if ((error as Error).name === 'TaskTimedOut' || (error as Error).name === 'TaskDoesNotExist') {
        await this.#ports.workflows.updateStep(executionName, stepId, {
          status: 'FAILED',
          at: now,
          endedAt: now,
          error: 'the callback came after the step had timed out',
        });
        if (run) await this.#ports.workflows.endStep(executionName, stepId, 'FAILED');
        throw new ConflictError(
          `step '${stepId}' is no longer waiting for this callback (timed out or already answered)`,
        );
      }
      throw error;
    }
    if (run) await openReadyGates(run, this.#ports.engine);
    const started = settled.startedAt === undefined ? Date.parse(now) : Date.parse(settled.startedAt);
    await this.#ports.recordCalls([
      {
        taskType,
        service,
        success: message.status === 'succeeded',
        timedOut: false,
        latencyMs: Math.max(0, Date.parse(now) - started),
        at: now,
        cost: message.cost ?? settled.costUsd,
      },
    ]);
    return {
      executionId: executionName,
      stepId,
      status: message.status === 'succeeded' ? 'SUCCEEDED' : 'FAILED',
    };
  }

  async #control(
    executionName: string,
    from: Array<'running' | 'paused'>,
    to: 'running' | 'paused' | 'cancelled',
    verb: string,
  ): Promise<ExecutionView> {
    const before = await this.describe(executionName);
    const refused = () =>
      new ConflictError(`cannot ${verb} execution '${before.executionId}': it is ${before.status}`);
    if (!['PENDING', 'RUNNING', 'PAUSED'].includes(before.status)) throw refused();
    const after = await this.#ports.workflows.setControl(before.executionId, from, to, this.#ports.now());
    if (!after) throw refused();
    await openReadyGates(after, this.#ports.engine);
    return this.describe(executionName);
  }

  /** A published version: never changed once written, so each process reads it once. */
  async #version(workflowId: string, version: number): Promise<WorkflowVersion | undefined> {
    const key = `${workflowId}@${version}`;
    const known = this.#versions.get(key);
    if (known) return known;
    const read = await this.#ports.workflows.getVersion(workflowId, version);
    if (read) this.#versions.set(key, read);
    return read;
  }

  async #head(workflowId: string): Promise<WorkflowHead> {
    const id = parseInput(identifier, workflowId, 'workflowId');
    const head =
      (await this.#ports.workflows.getHead(id)) ??
      (this.#ports.deployed?.[id] ? this.#deployedHead(id) : undefined);
    if (!head) throw new NotFoundError('workflow', id);
    return head;
  }

  async #execution(executionName: string): Promise<WorkflowExecutionRecord> {
    const name = parseInput(
      z
        .string()
        .min(1)
        .max(80)
        .regex(/^[A-Za-z0-9_-]+$/, 'is not an execution id'),
      executionName,
      'executionId',
    );
    const record = await this.#ports.workflows.getExecution(name);
    if (!record) throw new NotFoundError('execution', name);
    return record;
  }
}

/** The ids of the steps that succeeded. */
function succeededSteps(steps: readonly StepRecord[]): string[] {
  return steps.filter((s) => s.status === 'SUCCEEDED').map((s) => s.stepId);
}

/** A run's status from how its execution ended (a run out of time fails with `WorkflowTimedOut`). */
/**
 * A run's status from its control, whether an engine execution was started, and what the engine
 * says of it (undefined: unknown to the engine, as a run a stopped local runtime resumes at start).
 */
function statusOf(
  control: WorkflowExecutionRecord['control'],
  started: boolean,
  engine: EngineView | undefined,
): ExecutionStatus {
  if (control === 'cancelled') return 'CANCELLED';
  if (!started) return 'PENDING';
  if (engine === undefined || engine.status === 'RUNNING') return control === 'paused' ? 'PAUSED' : 'RUNNING';
  return runStatus(engine);
}

/** A run as a list shows it, from its start item alone: a run not known to have ended is running. */
function summarize(run: ListedRun): ExecutionSummary {
  const engine = run.ended ? endView(run.createdAt, run.ended) : undefined;
  return {
    executionId: run.executionName,
    workflowId: run.workflowId,
    version: run.version,
    status: statusOf(run.control, run.started, engine),
    startedAt: run.createdAt,
    ...(engine?.stoppedAt === undefined ? {} : { stoppedAt: engine.stoppedAt }),
    ...(engine?.error === undefined ? {} : { error: { error: engine.error, cause: engine.cause } }),
  };
}

function runStatus(engine: EngineView): ExecutionStatus {
  if (engine.status === 'TIMED_OUT' || engine.error === TIMED_OUT_ERROR) return 'TIMED_OUT';
  if (engine.status === 'ABORTED') return 'CANCELLED';
  return engine.status === 'SUCCEEDED' ? 'SUCCEEDED' : 'FAILED';
}

/** The engine's view of a run, from the end kept with it. */
function endView(startedAt: string, end: RunEnd): EngineView {
  return {
    status: end.status,
    startedAt,
    stoppedAt: end.at,
    error: end.error ?? (end.stepId && 'StepFailed'),
    cause: end.cause ?? (end.stepId && `step '${end.stepId}' failed`),
  };
}

/** State machine names allow letters, digits, `-` and `_`, up to 80 characters. */
export function stateMachineName(workflowId: string, prefix = 'vobee-wf'): string {
  return `${prefix}-${workflowId.replace(/[^A-Za-z0-9_-]/g, '-')}`.slice(0, 80);
}

function costField(costUsd: number | undefined): { costUsd?: number } {
  return costUsd === undefined ? {} : { costUsd };
}

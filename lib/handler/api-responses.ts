import * as z from 'zod';
import { artifactRefSchema } from '../core/artifacts.ts';
import type { Decision } from '../core/brain.ts';
import type { Context, MemorySummary } from '../core/memory.ts';
import { type Module, type ModuleHealthSummary, moduleInputSchema } from '../core/modules.ts';
import { priority } from '../core/priority.ts';
import { retryPolicySchema } from '../core/retry-policy.ts';
import type { DecisionExplanation } from '../core/routing/decision-log.ts';
import { ESTIMATORS } from '../core/routing/off-policy.ts';
import type { ActivePolicyView, PolicyVersionView } from '../core/routing/policies.ts';
import { routingPolicySchema } from '../core/routing/policy.ts';
import type { RoutingDecision } from '../core/routing/router.ts';
import type { PerformanceSummary, RoutingStats } from '../core/routing/routing-stats.ts';
import { strategyName } from '../core/routing/strategy-name.ts';
import {
  type ImprovementReport,
  type MetricImpact,
  type Suggestion,
  suggestionArea,
  suggestionPriority,
  suggestionStatus,
} from '../core/self-improvement.ts';
import { type Service, serviceInputSchema } from '../core/service.ts';
import { taskSchema } from '../core/task.ts';
import type { TaskSummary } from '../core/task-queries.ts';
import { type CallAttempt, type CallError, type TaskRecord, taskStatus } from '../core/task-record.ts';
import type { TaskResult } from '../core/task-result.ts';
import type { CompileStats } from '../core/workflow/compile.ts';
import type { RunChangeRecord } from '../core/workflow/run-change.ts';
import { workflowTemplateSchema } from '../core/workflow/template.ts';
import { executionStatus, type StepRecord, type WorkflowHead } from '../core/workflow/workflow-records.ts';
import type { ExecutionSummary, ExecutionView, WorkflowDetail } from '../core/workflow/workflow-service.ts';

/**
 * The success bodies of the HTTP API, one schema per shape, in one place: each route declares
 * which of them it answers (`responses` of `httpRoute`), the OpenAPI document is generated from
 * them (`openapi.ts`), the CLI types its calls with them, and with `VOBEE_CHECK_RESPONSES=1` every
 * answer is checked against them. Objects are strict: a field a handler adds without saying so
 * here fails that check, so the document cannot fall behind the code. Each schema with an `id`
 * becomes a component of the document; `satisfies` keeps each one in step with its domain type.
 */

/**
 * A domain type as it travels in JSON: a field that may be `undefined` is left out by
 * `JSON.stringify`, so on the wire it is optional.
 */
export type Wire<T> = T extends readonly (infer U)[]
  ? Wire<U>[]
  : T extends object
    ? { [K in keyof T as undefined extends T[K] ? never : K]: Wire<T[K]> } & {
        [K in keyof T as undefined extends T[K] ? K : never]?: Wire<Exclude<T[K], undefined>>;
      }
    : T;

/** ISO 8601 times, as `Date.toISOString()` writes them. */
const timestamp = z.iso.datetime().meta({ id: 'Timestamp', description: 'An ISO 8601 time in UTC' });
const count = z.number().int().min(0);

/**
 * Any JSON value: factory outputs, step results, what a factory says of itself. (Recursive, so
 * the document keeps it once, as the component `JsonValue`.)
 */
export const jsonValue = z.json();
const jsonObject = z.record(z.string(), jsonValue);

// --- errors -------------------------------------------------------------------------------------

/** Every refusal (4xx) and fault (500): see `http-errors.ts`. */
export const errorBody = z
  .object({
    error: z
      .object({
        /** `ValidationError`, `NotFoundError`, `ConflictError`, `PayloadTooLarge`, `BadRequest`... */
        type: z.string(),
        message: z.string(),
        /** Each field that is wrong (400, 422), named by where it is: `body.type`, `query.status`. */
        issues: z.array(z.object({ field: z.string(), message: z.string() }).strict()).optional(),
        /** Faults (500) only: the id to look the request up by in the logs. */
        requestId: z.string().optional(),
      })
      .strict(),
  })
  .strict()
  .meta({ id: 'Error', description: 'What went wrong: `{"error": {"type", "message", "issues"?}}`' });

// --- tasks --------------------------------------------------------------------------------------

export const callError = z
  .object({
    kind: z.enum(['timeout', 'error', 'rejected']),
    message: z.string(),
    /** The factory's HTTP status, when it answered one. */
    status: z.number().int().optional(),
  })
  .strict()
  .meta({ id: 'CallError', description: 'Why a factory call failed' }) satisfies z.ZodType<Wire<CallError>>;

export const callAttempt = z
  .object({
    service: z.string(),
    attempt: z.number().int().min(1),
    outcome: z.enum(['succeeded', 'failed', 'waiting']),
    latencyMs: z.number().min(0),
    error: callError.optional(),
    at: timestamp,
    /** What the call cost (USD): the factory's report, else the service's `costPerCall`. */
    cost: z.number().min(0).optional(),
  })
  .strict()
  .meta({
    id: 'CallAttempt',
    description: 'One call to one factory service; `waiting`: the factory will call back',
  }) satisfies z.ZodType<Wire<CallAttempt>>;

export const decision = z
  .object({
    taskId: z.string(),
    taskType: z.string(),
    priority,
    priorityScore: z.number(),
    /** Absent when no service can take the task. */
    selectedService: z.string().optional(),
    confidence: z.number().min(0).max(1),
    resources: z.object({ cpu: z.number(), memoryMb: z.number(), timeoutSeconds: z.number() }).strict(),
    alternatives: z.array(
      z.object({ service: z.string(), expectedUtility: z.number(), count, successes: count }).strict(),
    ),
    reason: z.string(),
  })
  .strict()
  .meta({
    id: 'Decision',
    description: "The brain's decision: priority score, service, resources, confidence and why",
  }) satisfies z.ZodType<Wire<Decision>>;

/** The content rule that sent a task where it went. */
const firedRule = z.object({ id: z.string(), name: z.string(), priority: z.number() }).strict();

export const routingDecision = z
  .object({
    taskId: z.string(),
    taskType: z.string(),
    strategy: strategyName,
    primary: z.string(),
    endpoint: z.string(),
    fallbacks: z.array(z.string()),
    /** Services already tried (and failed) or skipped as unavailable at failover, in order. */
    tried: z.array(z.string()),
    retryPolicy: retryPolicySchema,
    /** Delays in seconds before each retry of one service. */
    retrySchedule: z.array(z.number()),
    candidates: z.array(
      z
        .object({
          name: z.string(),
          health: z.enum(['healthy', 'degraded', 'unhealthy']),
          load: z.number(),
          score: z.number().optional(),
          /** The chance the strategy gave this candidate of coming first. */
          probability: z.number().min(0).max(1).optional(),
        })
        .strict(),
    ),
    rule: firedRule.optional(),
    explored: z.boolean(),
    reason: z.string(),
    decidedAt: timestamp,
    /** The routing policy version the decision was made under (0: the built-in policy). */
    policyVersion: count.optional(),
    /** The only services it may use (a budgeted run's step). */
    allowed: z.array(z.string()).optional(),
    /** The first decision, kept through failovers, for replay: candidates, choice, its probability. */
    logged: z
      .object({
        candidates: z.array(z.string()),
        chosen: z.string(),
        propensity: z.number().gt(0).max(1),
      })
      .strict()
      .optional(),
  })
  .strict()
  .meta({
    id: 'RoutingDecision',
    description: 'Where a task goes: the primary, the ordered fallbacks, and why',
  }) satisfies z.ZodType<Wire<RoutingDecision>>;

/** What a RUNNING task waits for; the callback token's hash is never shown. */
const taskWaiting = z.discriminatedUnion('for', [
  z.object({ for: z.literal('retry'), until: timestamp }).strict(),
  z.object({ for: z.literal('failure'), until: timestamp, error: callError }).strict(),
  z.object({ for: z.literal('callback'), service: z.string(), until: timestamp }).strict(),
]);

export const taskRecord = z
  .object({
    taskId: z.string(),
    task: taskSchema,
    strategy: strategyName.optional(),
    status: taskStatus,
    /** The record's version: each save by a worker or a callback moves it on by one. */
    seq: count,
    idempotencyKey: z.string().optional(),
    /** Hash of the request, so that a key reused for a different request is refused. */
    requestHash: z.string(),
    decision: decision.optional(),
    route: routingDecision.optional(),
    attempts: z.array(callAttempt),
    // Unlike the domain type, without the callback token's hash (`publicRecord`).
    waiting: taskWaiting.optional(),
    /** The factory's output, or `{"artifact": {...}}` when it is kept by reference. */
    output: jsonValue.optional(),
    error: z.object({ kind: z.string(), message: z.string() }).strict().optional(),
    createdAt: timestamp,
    updatedAt: timestamp,
    completedAt: timestamp.optional(),
    /** The summed cost of its calls (USD), when any call's cost is known. */
    costUsd: z.number().min(0).optional(),
  })
  .strict()
  .meta({
    id: 'TaskRecord',
    description: 'A task: its status, decision, route, every call and its outcome',
  }) satisfies z.ZodType<Wire<Omit<TaskRecord, 'waiting'>>>;

/** A task as `GET /tasks` lists it. */
export const taskSummary = z
  .object({
    taskId: z.string(),
    type: z.string(),
    status: taskStatus,
    priority,
    createdAt: timestamp,
    updatedAt: timestamp,
    completedAt: timestamp.optional(),
    /** The service of the latest call. */
    service: z.string().optional(),
    error: z.object({ kind: z.string(), message: z.string() }).strict().optional(),
  })
  .strict()
  .meta({ id: 'TaskSummary', description: 'A task as a list shows it' }) satisfies z.ZodType<
  Wire<TaskSummary>
>;

/** A page of a list: `nextToken`, when there is more, asks for the next one. */
const nextToken = z.string().optional();

export const taskList = z.object({ tasks: z.array(taskSummary), nextToken }).strict();

/** A settled callback: the task's status, or the workflow step's. */
export const callbackAnswer = z
  .union([
    z.object({ taskId: z.string(), status: taskStatus }).strict(),
    z
      .object({ executionId: z.string(), stepId: z.string(), status: z.enum(['SUCCEEDED', 'FAILED']) })
      .strict(),
  ])
  .meta({ id: 'CallbackAnswer', description: 'What a callback settled: a task, or a workflow step' });

export const artifactDownload = z
  .object({ artifact: artifactRefSchema.strict(), url: z.url() })
  .strict()
  .meta({
    id: 'ArtifactDownload',
    description: 'An artifact and a presigned download URL, valid 5 minutes (also the `location`)',
  });

// --- services and modules -----------------------------------------------------------------------

export const service = serviceInputSchema
  .extend({
    /** Calls in flight as the answering process sees them. */
    load: z.number().min(0),
    /** Until when an unhealthy service is left alone before one trial call is allowed. */
    cooldownUntil: timestamp.optional(),
    healthReason: z.string().optional(),
    /** Optimistic version: `PATCH` may name it. */
    version: z.number().int().min(1),
    updatedAt: timestamp,
  })
  .strict()
  .meta({ id: 'Service', description: 'A registered factory service' }) satisfies z.ZodType<Wire<Service>>;

export const serviceList = z.object({ services: z.array(service) }).strict();

export const routingPolicy = routingPolicySchema.meta({
  id: 'RoutingPolicy',
  description:
    'Default strategy, content rules and default target, retry policies by task type and service, exploration, cost weight and flow limits',
});

export const activePolicy = z
  .object({
    version: count,
    policy: routingPolicy,
    /** `built-in`: version 0, the deployment's own settings, in force until a version is activated. */
    source: z.enum(['built-in', 'stored']),
    activatedAt: timestamp.optional(),
    activatedBy: z.string().optional(),
  })
  .strict()
  .meta({ id: 'ActivePolicy', description: 'The routing policy in force' }) satisfies z.ZodType<
  Wire<ActivePolicyView>
>;

export const policyVersion = z
  .object({
    version: count,
    policy: routingPolicy,
    createdBy: z.string(),
    reason: z.string().optional(),
    createdAt: timestamp,
    /** The accepted suggestion this version embodies. */
    suggestionId: z.string().optional(),
    activations: z.array(z.object({ at: timestamp, by: z.string() }).strict()),
    active: z.boolean(),
  })
  .strict()
  .meta({
    id: 'PolicyVersion',
    description: 'A stored routing policy version: who made it, why, and when it was active',
  }) satisfies z.ZodType<Wire<PolicyVersionView>>;

export const policyList = z.object({ active: count, versions: z.array(policyVersion) }).strict();

/** `GET /services/{name}/status`: the factory's own answer, or `{reachable: false, error}`. */
export const factoryStatus = z.object({ service: z.string(), status: jsonValue }).strict();

/** `GET /services/{name}/capabilities`: what is registered, and what the factory reports. */
export const factoryCapabilities = z
  .object({ service: z.string(), registered: z.array(z.string()), reported: jsonValue })
  .strict();

export const moduleRecord = moduleInputSchema
  .extend({
    /** Enabled modules that depend on it: while above zero it cannot be disabled. */
    pins: count,
    version: z.number().int().min(1),
    updatedAt: timestamp,
  })
  .strict()
  .meta({ id: 'Module', description: 'A registered module' }) satisfies z.ZodType<Wire<Module>>;

export const moduleList = z.object({ modules: z.array(moduleRecord) }).strict();

export const moduleHealthSummary = z
  .object({
    totalModules: count,
    enabled: count,
    disabled: count,
    healthy: count,
    degraded: count,
    unhealthy: count,
  })
  .strict() satisfies z.ZodType<Wire<ModuleHealthSummary>>;

// --- memory, routing, reports -------------------------------------------------------------------

export const context = z
  .object({
    id: z.string(),
    data: z.record(z.string(), jsonValue),
    version: z.number().int().min(1),
    createdAt: timestamp,
    updatedAt: timestamp,
    expiresAt: timestamp.optional(),
  })
  .strict()
  .meta({ id: 'Context', description: 'A named context shared by related tasks' }) satisfies z.ZodType<
  Wire<Context>
>;

export const memorySummary = z
  .object({ shortTermCount: count, longTermTypes: count, patternsLearned: count })
  .strict() satisfies z.ZodType<Wire<MemorySummary>>;

/** A remembered result: what memory keeps of one finished task. */
export const taskResult = z
  .object({
    taskId: z.string(),
    taskType: z.string(),
    service: z.string(),
    action: z.string().optional(),
    priority,
    success: z.boolean(),
    executionMs: z.number().min(0),
    completedAt: timestamp,
    parameters: z.record(z.string(), jsonValue),
    output: jsonValue.optional(),
    error: z
      .object({ kind: z.enum(['timeout', 'error', 'rejected']), message: z.string() })
      .strict()
      .optional(),
    contextId: z.string().optional(),
  })
  .strict()
  .meta({ id: 'TaskResult', description: 'A remembered task result' }) satisfies z.ZodType<Wire<TaskResult>>;

export const relevantMemories = z
  .object({ taskType: z.string(), memories: z.array(taskResult) })
  .strict()
  .meta({ id: 'RelevantMemories', description: 'Recent results of a task type, newest first' });

const countersSummary = z
  .object({
    count,
    successes: count,
    failures: count,
    timeouts: count,
    successRate: z.number().min(0).max(1).optional(),
    meanMs: z.number().min(0).optional(),
    p95Ms: z.number().min(0).optional(),
  })
  .strict();

export const taskTypePatterns = z
  .object({
    taskType: z.string(),
    statistics: z
      .object({
        overall: countersSummary,
        services: z.array(countersSummary.extend({ service: z.string() }).strict()),
      })
      .strict(),
    patterns: z.array(
      z
        .object({
          taskType: z.string(),
          key: z.string(),
          kind: z.enum(['service', 'hour', 'param']),
          total: count,
          successes: count,
          successRate: z.number().min(0).max(1),
          successLowerBound: z.number().min(0).max(1),
        })
        .strict(),
    ),
  })
  .strict()
  .meta({
    id: 'TaskTypePatterns',
    description: 'What memory knows of a task type: statistics per service and learned success patterns',
  });

const interval = z.object({ estimate: z.number(), low: z.number(), high: z.number() }).strict();
const estimator = z.enum(ESTIMATORS);

export const replayReport = z
  .object({
    target: z.object({ version: count.optional(), inline: z.boolean() }).strict(),
    window: z.object({ since: timestamp, until: timestamp }).strict(),
    tasksRead: count,
    truncated: z.boolean(),
    estimator,
    estimate: z
      .object({
        estimator,
        decisions: count,
        overlapping: count,
        effectiveSampleSize: z.number().min(0),
        supported: z.boolean(),
        reason: z.string().optional(),
        successRate: interval.nullable(),
        meanCostUsd: interval.nullable(),
        p95LatencyMs: z.number().nullable(),
        logged: z
          .object({
            successRate: z.number().nullable(),
            meanCostUsd: z.number().nullable(),
            p95LatencyMs: z.number().nullable(),
          })
          .strict(),
      })
      .strict(),
    byEstimator: z.record(estimator, z.number().nullable()),
  })
  .strict()
  .meta({
    id: 'ReplayReport',
    description:
      'What a policy would have achieved on recorded decisions: success, cost and p95 latency with confidence intervals and the effective sample size',
  });

export const decisionExplanation = z
  .object({
    source: z.enum(['task', 'step']),
    taskId: z.string(),
    executionId: z.string().optional(),
    stepId: z.string().optional(),
    taskType: z.string(),
    decidedAt: timestamp,
    strategy: z.string(),
    policyVersion: count.optional(),
    chosen: z.string(),
    service: z.string(),
    tried: z.array(z.string()),
    failover: z.boolean(),
    reason: z.string(),
    rule: firedRule.optional(),
    candidates: z.array(
      z
        .object({ name: z.string(), score: z.number().optional(), probability: z.number().optional() })
        .strict(),
    ),
    status: z.string(),
    costUsd: z.number().min(0).optional(),
  })
  .strict()
  .meta({
    id: 'DecisionExplanation',
    description: 'Why a task or a workflow step went where it went',
  }) satisfies z.ZodType<Wire<DecisionExplanation>>;

export const decisionList = z.object({ decisions: z.array(decisionExplanation) }).strict();

export const routingStats = z
  .object({
    totalRoutes: count,
    serviceDistribution: z.record(z.string(), count),
    strategyDistribution: z.record(z.string(), count),
  })
  .strict() satisfies z.ZodType<Wire<RoutingStats>>;

export const performanceSummary = z
  .object({ totalDecisions: count, taskTypesLearned: count, taskTypes: z.array(z.string()) })
  .strict() satisfies z.ZodType<Wire<PerformanceSummary>>;

// --- suggestions --------------------------------------------------------------------------------

const metricImpact = z
  .object({
    before: z.number(),
    after: z.number(),
    /** Relative change in the good direction: 0.4 means 40 % better, negative means worse. */
    improvement: z.number(),
    improved: z.boolean(),
  })
  .strict()
  .meta({ id: 'MetricImpact', description: 'One metric before and after a change' }) satisfies z.ZodType<
  Wire<MetricImpact>
>;

export const suggestion = z
  .object({
    id: z.string(),
    area: suggestionArea,
    priority: suggestionPriority,
    title: z.string(),
    subject: z.object({ taskType: z.string().optional(), service: z.string().optional() }).strict(),
    evidence: z.record(z.string(), z.union([z.number(), z.string()])),
    proposedAction: z.object({ type: z.string(), description: z.string(), parameters: jsonObject }).strict(),
    /** Always false: a suggestion is only ever a proposal. */
    autoApply: z.literal(false),
    requires: z.literal('MANUAL_APPROVAL'),
    status: suggestionStatus,
    createdAt: timestamp,
    windowHours: z.number().int().min(1),
    decidedAt: timestamp.optional(),
    decidedBy: z.string().optional(),
    decisionNote: z.string().optional(),
    /** The draft routing policy version an accepted routing suggestion became. */
    policyVersion: count.optional(),
    impact: z
      .object({
        recordedAt: timestamp,
        metrics: z.record(z.string(), metricImpact),
        notes: z.string().optional(),
      })
      .strict()
      .optional(),
    version: z.number().int().min(1),
  })
  .strict()
  .meta({
    id: 'Suggestion',
    description: 'A proposed improvement; a person accepts or rejects it, nothing applies it',
  }) satisfies z.ZodType<Wire<Suggestion>>;

export const suggestionList = z.object({ suggestions: z.array(suggestion) }).strict();

export const improvementReport = z
  .object({
    total: count,
    byStatus: z.record(z.string(), count),
    byArea: z.record(z.string(), count),
    /** Accepted or implemented among the decided ones; absent before any decision. */
    acceptanceRate: z.number().min(0).max(1).optional(),
    implemented: z.array(
      z
        .object({
          id: z.string(),
          title: z.string(),
          impact: z.record(z.string(), metricImpact).optional(),
        })
        .strict(),
    ),
    meanImprovementByMetric: z.record(z.string(), z.number()),
  })
  .strict() satisfies z.ZodType<Wire<ImprovementReport>>;

// --- workflows ----------------------------------------------------------------------------------

/**
 * A template as stored: the registered one with its defaults filled in and its `timeout` decided.
 * (The request schema ends in that transform, which JSON Schema cannot describe.)
 */
const workflowTemplate = workflowTemplateSchema.in.safeExtend({ timeout: z.number().int().min(1) }).meta({
  id: 'WorkflowTemplate',
  description: 'A workflow template: its steps, their dependencies and how they run',
});

const workflowHeadFields = {
  workflowId: z.string(),
  name: z.string(),
  description: z.string(),
  /** The version new executions run. */
  currentVersion: z.number().int().min(1),
  latestVersion: z.number().int().min(1),
  stateMachineArn: z.string(),
  aliasArn: z.string(),
  engine: z.enum(['standard', 'express']).optional(),
  timeoutSeconds: z.number().int().min(1).optional(),
  /** Empty for a workflow deployed with the stack. */
  updatedAt: z.union([timestamp, z.literal('')]),
  /** Optimistic version of this record. */
  rev: count,
};

export const workflowHead = z.object(workflowHeadFields).strict().meta({
  id: 'Workflow',
  description: 'A registered workflow: which version runs, where its state machine is',
}) satisfies z.ZodType<Wire<WorkflowHead>>;

export const workflowList = z.object({ workflows: z.array(workflowHead) }).strict();

export const workflowDetail = z
  .object({
    ...workflowHeadFields,
    /** The current version's template (with `?version=N`, that version's); absent when unknown. */
    template: workflowTemplate.optional(),
    versions: z.array(
      z
        .object({
          workflowId: z.string(),
          version: z.number().int().min(1),
          versionArn: z.string(),
          states: count,
          strategy: z.string(),
          createdAt: timestamp,
          steps: count,
        })
        .strict(),
    ),
  })
  .strict()
  .meta({
    id: 'WorkflowDetail',
    description: 'A workflow, its template and each published version',
  }) satisfies z.ZodType<Wire<WorkflowDetail>>;

const compileStats = z
  .object({
    states: count,
    steps: count,
    gates: count,
    branches: count,
    taskStates: count,
    parallelStates: count,
    failStates: count,
    strategy: z.enum(['gated-parallel', 'sequential']),
  })
  .strict() satisfies z.ZodType<Wire<CompileStats>>;

/** `POST /workflows`: the published workflow and what its compilation found. */
export const registeredWorkflow = z
  .object({ ...workflowHeadFields, compiled: compileStats })
  .strict()
  .meta({ id: 'RegisteredWorkflow', description: 'A workflow as registered, with its compilation' });

const stepRecord = z
  .object({
    stepId: z.string(),
    status: z.enum(['WAITING', 'RUNNING', 'CALLBACK', 'SUCCEEDED', 'FAILED', 'SKIPPED']),
    /** Runs of the step (the state machine's retries start it again). */
    attempts: count,
    service: z.string().optional(),
    /** The factory calls of the last run, with their outcomes. */
    calls: z.array(callAttempt).optional(),
    startedAt: timestamp.optional(),
    endedAt: timestamp.optional(),
    output: jsonValue.optional(),
    error: z.string().optional(),
    /** A fan-out step (`for_each`): how many items it ran. */
    items: count.optional(),
    /** What its calls cost (USD; a fan-out's, all its items'). */
    costUsd: z.number().min(0).optional(),
    /** Where its task was routed, and why. */
    route: routingDecision.optional(),
  })
  .strict()
  .meta({ id: 'StepRecord', description: 'One step of one run' }) satisfies z.ZodType<Wire<StepRecord>>;

const runChangeRecord = z
  .object({
    changedBy: z.string(),
    at: timestamp,
    reason: z.string().optional(),
    added: z.array(z.string()),
    replaced: z.array(z.string()),
    skipped: z.array(z.string()),
    /** The run-scoped version the run carried on under. */
    version: z.number().int().min(1),
  })
  .strict() satisfies z.ZodType<Wire<RunChangeRecord>>;

export const execution = z
  .object({
    executionId: z.string(),
    workflowId: z.string(),
    version: z.number().int().min(1),
    status: executionStatus,
    startedAt: timestamp,
    stoppedAt: timestamp.optional(),
    /** Steps started and not ended. */
    currentSteps: z.array(z.string()),
    steps: z.array(stepRecord),
    /** Each succeeded step's output (or its artifact reference), by step id. */
    results: z.record(z.string(), jsonValue),
    error: z.object({ error: z.string().optional(), cause: z.string().optional() }).strict().optional(),
    /** Who changed the run, what and when (absent when it never was). */
    changes: z.array(runChangeRecord).optional(),
    /** What its steps' calls cost (USD), when any call's cost is known. */
    costUsd: z.number().min(0).optional(),
  })
  .strict()
  .meta({
    id: 'Execution',
    description: 'A workflow run: status, current steps, each step, aggregated results',
  }) satisfies z.ZodType<Wire<ExecutionView>>;

/** A run as `GET /executions` lists it. */
export const executionSummary = z
  .object({
    executionId: z.string(),
    workflowId: z.string(),
    version: z.number().int().min(1),
    status: executionStatus,
    startedAt: timestamp,
    stoppedAt: timestamp.optional(),
    error: z.object({ error: z.string().optional(), cause: z.string().optional() }).strict().optional(),
  })
  .strict()
  .meta({ id: 'ExecutionSummary', description: 'A workflow run as a list shows it' }) satisfies z.ZodType<
  Wire<ExecutionSummary>
>;

export const executionList = z.object({ executions: z.array(executionSummary), nextToken }).strict();

// --- the document itself ------------------------------------------------------------------------

/** `GET /openapi.json`: an OpenAPI 3.1 document (this one). */
export const openApiDocument = z
  .object({
    openapi: z.string().startsWith('3.1'),
    info: z.object({ title: z.string(), version: z.string() }).loose(),
    paths: z.record(z.string(), z.record(z.string(), z.unknown())),
  })
  .loose()
  .meta({ id: 'OpenApiDocument', description: 'An OpenAPI 3.1 document' });

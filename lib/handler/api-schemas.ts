import * as z from 'zod';
import { artifactIdSchema } from '../core/artifacts.ts';
import { callbackBody } from '../core/callback-body.ts';
import { contextInputSchema } from '../core/memory.ts';
import { moduleInputSchema } from '../core/modules.ts';
import { identifier } from '../core/names.ts';
import { decisionQuerySchema } from '../core/routing/decision-log.ts';
import { policyActivationSchema, policyChangeSchema } from '../core/routing/policies.ts';
import { replayRequestSchema } from '../core/routing/replay.ts';
import {
  impactInputSchema,
  suggestionDecisionSchema,
  suggestionPriority,
  suggestionStatus,
} from '../core/self-improvement.ts';
import { healthState, serviceInputSchema, servicePatchSchema } from '../core/service.ts';
import { seriesQuery } from '../core/service-series.ts';
import { taskListQuery } from '../core/task-queries.ts';
import { submitTaskSchema } from '../core/task-record.ts';
import { runBudgetSchema } from '../core/workflow/budget.ts';
import { runChangeSchema } from '../core/workflow/run-change.ts';
import { workflowTemplateSchema } from '../core/workflow/template.ts';
import {
  executionInputSchema,
  executionListQuery,
  workflowVersionNumber,
} from '../core/workflow/workflow-service.ts';

/**
 * The request schemas of the HTTP API, in one place: the handlers validate with them, and the
 * CLI and the docs reuse them.
 */
export const schemas = {
  submitTask: submitTaskSchema,
  registerService: serviceInputSchema,
  updateService: servicePatchSchema
    .extend({ version: z.number().int().min(1).optional() })
    .refine((patch) => Object.keys(patch).some((key) => key !== 'version'), 'must change at least one field'),
  setHealth: z.object({ health: healthState, reason: z.string().max(500).optional() }).strict(),
  registerModule: moduleInputSchema,
  createContext: contextInputSchema,
  decideSuggestion: suggestionDecisionSchema,
  recordImpact: impactInputSchema,
  registerWorkflow: workflowTemplateSchema,
  rollbackWorkflow: z.object({ version: workflowVersionNumber }).strict(),
  changePolicy: policyChangeSchema,
  replay: replayRequestSchema,
  activatePolicy: policyActivationSchema,
  startExecution: z
    .object({ input: executionInputSchema.default({}), budget: runBudgetSchema.optional() })
    .strict(),
  changeExecution: runChangeSchema,
  callback: callbackBody,
} as const;

export const queries = {
  decisions: decisionQuerySchema,
  relevantMemories: z
    .object({
      type: identifier,
      limit: z
        .string()
        .regex(/^\d{1,4}$/, 'must be a whole number')
        .transform(Number)
        .pipe(z.number().int().min(1).max(100))
        .optional(),
    })
    .strict(),
  listModules: z
    .object({
      category: identifier.optional(),
      enabled: z
        .enum(['true', 'false'])
        .transform((v) => v === 'true')
        .optional(),
    })
    .strict(),
  listSuggestions: z
    .object({
      priority: suggestionPriority.optional(),
      status: suggestionStatus.optional(),
    })
    .strict(),
  /** `?version=N`: the workflow with the template of that published version. */
  getWorkflow: z.object({ version: z.coerce.number().pipe(workflowVersionNumber).optional() }).strict(),
  listTasks: taskListQuery,
  listExecutions: executionListQuery,
  serviceStats: seriesQuery,
  none: z.object({}).strict(),
} as const;

export const paths = {
  taskId: z.object({ taskId: identifier }).strict(),
  artifactId: z.object({ artifactId: artifactIdSchema }).strict(),
  name: z.object({ name: identifier }).strict(),
  contextId: z.object({ contextId: identifier }).strict(),
  suggestionId: z.object({ id: identifier }).strict(),
  workflowId: z.object({ workflowId: identifier }).strict(),
  taskType: z.object({ type: identifier }).strict(),
  policyVersion: z
    .object({
      version: z
        .string()
        .regex(/^\d{1,9}$/, 'must be a version number')
        .transform(Number),
    })
    .strict(),
  executionId: z
    .object({
      executionId: z
        .string()
        .min(1)
        .max(80)
        .regex(/^[A-Za-z0-9_-]+$/, 'is not an execution id'),
    })
    .strict(),
  token: z.object({ token: z.string().min(1).max(4_096) }).strict(),
} as const;

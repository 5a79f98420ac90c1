import * as z from 'zod';
import { strategyName } from './core/routing/strategy-name.ts';
import { inputDeclarationsSchema } from './core/workflow/template-inputs.ts';
import { type TableNames, tableNames } from './store/tables.ts';

const deployedWorkflow = z.object({
  arn: z.string().min(1),
  engine: z.enum(['standard', 'express']).default('standard'),
  timeoutSeconds: z.number().int().positive().default(3_600),
  /** The run inputs its template declares: a run's input is checked and completed against them. */
  inputs: inputDeclarationsSchema.optional(),
});

/**
 * The environment, read once and validated: handlers and the local runtime never touch
 * `process.env` themselves. The CDK stack sets these on every function; the local runtime sets
 * them for its in-process handlers.
 */
const environmentSchema = z.object({
  VOBEE_TABLE_PREFIX: z.string().min(1).default('vobee-local'),
  VOBEE_TABLE_MEMORY: z.string().min(1).optional(),
  VOBEE_TABLE_PATTERNS: z.string().min(1).optional(),
  VOBEE_TABLE_REGISTRY: z.string().min(1).optional(),
  /** The task queue the worker consumes (SQS queue URL). */
  VOBEE_TASK_QUEUE_URL: z.string().min(1).optional(),
  VOBEE_ROUTING_STRATEGY: strategyName.default('capability'),
  /** How long a worker reuses what it read of the registry and the statistics, in seconds. */
  VOBEE_ROUTING_CACHE_SECONDS: z.coerce.number().min(0).max(300).default(5),
  /** Comma-separated CIDRs or host names that factory endpoints may use despite being private. */
  VOBEE_ALLOWED_PRIVATE_ENDPOINTS: z.string().default(''),
  /** Upper bound of one synchronous factory call, in ms: long work must answer 202 and call back. */
  VOBEE_FACTORY_CALL_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  /** The workflow step handler that compiled workflows invoke, and the role their state machines run as. */
  VOBEE_RUN_STEP_FUNCTION: z.string().min(1).optional(),
  VOBEE_WORKFLOW_ROLE_ARN: z.string().min(1).optional(),
  /** The bucket artifacts are kept in (outputs above the inline limit); without it they fail. */
  VOBEE_ARTIFACT_BUCKET: z.string().min(3).optional(),
  /** The API's base URL, given to long-running factories to post their callbacks. */
  VOBEE_CALLBACK_URL: z.string().url().optional(),
  /** Prefix of state machines made at run time, and the workflows the stack deployed (JSON: id -> ARN). */
  VOBEE_WORKFLOW_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,40}$/)
    .default('vobee-wf'),
  VOBEE_DEPLOYED_WORKFLOWS: z
    .string()
    .default('{}')
    .transform((text, ctx) => {
      try {
        return z.record(z.string(), deployedWorkflow).parse(JSON.parse(text));
      } catch {
        ctx.addIssue({
          code: 'custom',
          message: 'must be a JSON object of workflow id to {arn, engine, timeoutSeconds, inputs}',
        });
        return z.NEVER;
      }
    }),
  /** Where state machines created at run time log, and how much. */
  VOBEE_WORKFLOW_LOG_GROUP_ARN: z.string().min(1).optional(),
  VOBEE_WORKFLOW_LOG_LEVEL: z.enum(['OFF', 'ERROR', 'FATAL', 'ALL']).default('ERROR'),
  VOBEE_WORKFLOW_LOG_EXECUTION_DATA: z.enum(['true', 'false']).default('false'),
  AWS_ENDPOINT_URL: z.string().optional(),
});

export interface Config {
  tables: TableNames;
  taskQueueUrl: string | undefined;
  routingStrategy: z.output<typeof strategyName>;
  routingCacheMs: number;
  allowedPrivateEndpoints: string[];
  factoryCallTimeoutMs: number;
  endpoint: string | undefined;
  runStepFunction: string | undefined;
  workflowRoleArn: string | undefined;
  callbackUrl: string | undefined;
  artifactBucket: string | undefined;
  workflowPrefix: string;
  deployedWorkflows: Record<string, z.output<typeof deployedWorkflow>>;
  workflowLogs: {
    logGroupArn: string | undefined;
    logLevel: 'OFF' | 'ERROR' | 'FATAL' | 'ALL';
    includeExecutionData: boolean;
  };
}

export function readConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = environmentSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`invalid environment: ${problems}`);
  }
  const e = parsed.data;
  const defaults = tableNames(e.VOBEE_TABLE_PREFIX);
  return {
    tables: {
      memory: e.VOBEE_TABLE_MEMORY ?? defaults.memory,
      patterns: e.VOBEE_TABLE_PATTERNS ?? defaults.patterns,
      registry: e.VOBEE_TABLE_REGISTRY ?? defaults.registry,
    },
    taskQueueUrl: e.VOBEE_TASK_QUEUE_URL,
    routingStrategy: e.VOBEE_ROUTING_STRATEGY,
    routingCacheMs: e.VOBEE_ROUTING_CACHE_SECONDS * 1000,
    allowedPrivateEndpoints: e.VOBEE_ALLOWED_PRIVATE_ENDPOINTS.split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    factoryCallTimeoutMs: e.VOBEE_FACTORY_CALL_TIMEOUT_MS,
    endpoint: e.AWS_ENDPOINT_URL,
    runStepFunction: e.VOBEE_RUN_STEP_FUNCTION,
    workflowRoleArn: e.VOBEE_WORKFLOW_ROLE_ARN,
    callbackUrl: e.VOBEE_CALLBACK_URL,
    artifactBucket: e.VOBEE_ARTIFACT_BUCKET,
    workflowPrefix: e.VOBEE_WORKFLOW_PREFIX,
    deployedWorkflows: e.VOBEE_DEPLOYED_WORKFLOWS,
    workflowLogs: {
      logGroupArn: e.VOBEE_WORKFLOW_LOG_GROUP_ARN,
      logLevel: e.VOBEE_WORKFLOW_LOG_LEVEL,
      includeExecutionData: e.VOBEE_WORKFLOW_LOG_EXECUTION_DATA === 'true',
    },
  };
}

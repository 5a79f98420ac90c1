import * as z from 'zod';
import { strategyName } from './core/routing/router.ts';
import { type TableNames, tableNames } from './store/tables.ts';

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
  VOBEE_PIPELINE_ARN: z.string().min(1).optional(),
  VOBEE_ROUTING_STRATEGY: strategyName.default('capability'),
  /** Comma-separated CIDRs or host names that factory endpoints may use despite being private. */
  VOBEE_ALLOWED_PRIVATE_ENDPOINTS: z.string().default(''),
  /** Upper bound of one synchronous factory call, in ms: long work must answer 202 and call back. */
  VOBEE_FACTORY_CALL_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  /** The workflow step handler that compiled workflows invoke, and the role their state machines run as. */
  VOBEE_RUN_STEP_FUNCTION: z.string().min(1).optional(),
  VOBEE_WORKFLOW_ROLE_ARN: z.string().min(1).optional(),
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
        return z.record(z.string(), z.string()).parse(JSON.parse(text));
      } catch {
        ctx.addIssue({
          code: 'custom',
          message: 'must be a JSON object of workflow id to state machine ARN',
        });
        return z.NEVER;
      }
    }),
  AWS_ENDPOINT_URL: z.string().optional(),
});

export interface Config {
  tables: TableNames;
  pipelineArn: string | undefined;
  routingStrategy: z.output<typeof strategyName>;
  allowedPrivateEndpoints: string[];
  factoryCallTimeoutMs: number;
  endpoint: string | undefined;
  runStepFunction: string | undefined;
  workflowRoleArn: string | undefined;
  callbackUrl: string | undefined;
  workflowPrefix: string;
  deployedWorkflows: Record<string, string>;
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
    pipelineArn: e.VOBEE_PIPELINE_ARN,
    routingStrategy: e.VOBEE_ROUTING_STRATEGY,
    allowedPrivateEndpoints: e.VOBEE_ALLOWED_PRIVATE_ENDPOINTS.split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    factoryCallTimeoutMs: e.VOBEE_FACTORY_CALL_TIMEOUT_MS,
    endpoint: e.AWS_ENDPOINT_URL,
    runStepFunction: e.VOBEE_RUN_STEP_FUNCTION,
    workflowRoleArn: e.VOBEE_WORKFLOW_ROLE_ARN,
    callbackUrl: e.VOBEE_CALLBACK_URL,
    workflowPrefix: e.VOBEE_WORKFLOW_PREFIX,
    deployedWorkflows: e.VOBEE_DEPLOYED_WORKFLOWS,
  };
}

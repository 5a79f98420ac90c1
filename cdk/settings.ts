import { RemovalPolicy } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';

/** What a workflow state machine writes to CloudWatch Logs (Step Functions' log levels). */
export const WORKFLOW_LOG_LEVELS = ['OFF', 'ERROR', 'FATAL', 'ALL'] as const;
export type WorkflowLogLevel = (typeof WORKFLOW_LOG_LEVELS)[number];

/** What Lambda itself logs for each function: its START, END and REPORT lines are INFO. */
export const FUNCTION_SYSTEM_LOG_LEVELS = ['DEBUG', 'INFO', 'WARN'] as const;
export type FunctionSystemLogLevel = (typeof FUNCTION_SYSTEM_LOG_LEVELS)[number];

/** What differs between deployment stages; everything else is the same in every stage. */
export interface StageSettings {
  stage: string;
  /** Prefix of physical names, e.g. `vobee-dev`; the functions derive table names from it too. */
  prefix: string;
  production: boolean;
  removalPolicy: RemovalPolicy;
  logRetention: RetentionDays;
  /**
   * What workflow state machines log, those deployed with the stack and those registered at run
   * time alike: `ERROR` unless the stage asks for more (logs are billed per GB ingested).
   */
  workflowLogLevel: WorkflowLogLevel;
  /** Whether their log events carry inputs and outputs (user data): not unless the stage asks. */
  workflowLogExecutionData: boolean;
  /**
   * Lambda's own log lines for every function: `WARN` unless the stage asks for more, so an
   * invocation that goes well logs only what the handler writes (duration and memory are
   * CloudWatch metrics anyway).
   */
  functionSystemLogLevel: FunctionSystemLogLevel;
  /** Days an artifact is kept before the bucket's lifecycle rule deletes it. */
  artifactRetentionDays: number;
}

/**
 * CDK context values that tune a stage (`-c workflowLogLevel=ALL -c workflowLogExecutionData=true
 * -c functionSystemLogLevel=INFO`).
 */
export interface StageContext {
  workflowLogLevel?: unknown;
  workflowLogExecutionData?: unknown;
  functionSystemLogLevel?: unknown;
}

/** Lowercase, short and hyphen-safe: the stage ends up in table, bus, log group and stack names. */
const STAGE_PATTERN = /^[a-z][a-z0-9-]{0,19}$/;

export function stageSettings(stage: string, context: StageContext = {}): StageSettings {
  if (!STAGE_PATTERN.test(stage)) {
    throw new Error(
      `invalid stage '${stage}': use 1 to 20 lowercase letters, digits or hyphens, starting with a letter`,
    );
  }
  const production = stage === 'prod';
  return {
    stage,
    prefix: `vobee-${stage}`,
    production,
    // Data and logs of a production stage outlive the stack; other stages clean up after themselves.
    removalPolicy: production ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    logRetention: production ? RetentionDays.SIX_MONTHS : RetentionDays.ONE_MONTH,
    artifactRetentionDays: production ? 365 : 30,
    workflowLogLevel: oneOf('workflowLogLevel', context.workflowLogLevel, WORKFLOW_LOG_LEVELS, 'ERROR'),
    workflowLogExecutionData: workflowLogExecutionData(context.workflowLogExecutionData),
    functionSystemLogLevel: oneOf(
      'functionSystemLogLevel',
      context.functionSystemLogLevel,
      FUNCTION_SYSTEM_LOG_LEVELS,
      'WARN',
    ),
  };
}

/** The context value `name`, which must be one of `levels` (any case); `fallback` when unset. */
function oneOf<T extends string>(name: string, value: unknown, levels: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  const level = typeof value === 'string' ? value.toUpperCase() : value;
  if (!levels.includes(level as T)) {
    throw new Error(`invalid ${name} '${String(value)}': use one of ${levels.join(', ')}`);
  }
  return level as T;
}

/** A standard SNS topic: `arn:<partition>:sns:<region>:<account>:<name>` (alarms cannot notify FIFO topics). */
const SNS_TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/;

/**
 * The context value `alarmTopicArn`: the SNS topic every alarm notifies, an existing topic in the
 * stack's region (CloudWatch notifies no other). Unset or empty, alarms are made without actions.
 */
export function alarmTopicArnSetting(value: unknown): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || !SNS_TOPIC_ARN.test(value)) {
    throw new Error(
      `invalid alarmTopicArn '${String(value)}': use the ARN of a standard SNS topic, arn:aws:sns:<region>:<account>:<name>`,
    );
  }
  return value;
}

function workflowLogExecutionData(value: unknown): boolean {
  if (value === undefined) return false;
  // `-c name=value` gives strings; cdk.json may give booleans.
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new Error(`invalid workflowLogExecutionData '${String(value)}': use true or false`);
}

import {
  CreateStateMachineAliasCommand,
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  ExecutionAlreadyExists,
  type LoggingConfiguration,
  type LogLevel,
  ResourceNotFound,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
  StateMachineAlreadyExists,
  StopExecutionCommand,
  UpdateStateMachineAliasCommand,
  UpdateStateMachineCommand,
} from '@aws-sdk/client-sfn';
import { ConflictError } from '../core/errors.ts';
import type {
  DeployedVersion,
  DeployOptions,
  ExecutionDescription,
  WorkflowEngine,
} from '../core/workflow/workflow-ports.ts';
import { ExecutionNotDescribable, executionName, typeChangeConflict } from './engine.ts';

export interface SfnEngineOptions {
  /** The role state machines created at run time execute with (may invoke the step handler). */
  workflowRoleArn?: string | undefined;
  /**
   * The log group (its ARN, ending in `:*`) state machines created at run time log to; without
   * one they are created without logging.
   */
  logGroupArn?: string | undefined;
  /** What they log: `ERROR` by default. */
  logLevel?: LogLevel | undefined;
  /** Whether their log events carry inputs and outputs: no by default (they may hold user data). */
  includeExecutionData?: boolean | undefined;
}

/** The engine on AWS Step Functions (or LocalStack, through `AWS_ENDPOINT_URL`). */
export class SfnEngine implements WorkflowEngine {
  readonly #client: SFNClient;
  readonly #workflowRoleArn: string | undefined;
  readonly #logging: LoggingConfiguration | undefined;

  constructor(client: SFNClient = new SFNClient({}), options: SfnEngineOptions = {}) {
    this.#client = client;
    this.#workflowRoleArn = options.workflowRoleArn;
    this.#logging = options.logGroupArn
      ? {
          level: options.logLevel ?? 'ERROR',
          includeExecutionData: options.includeExecutionData ?? false,
          destinations: [{ cloudWatchLogsLogGroup: { logGroupArn: options.logGroupArn } }],
        }
      : undefined;
  }

  async deploy(
    name: string,
    definition: object,
    description: string,
    options: DeployOptions = {},
  ): Promise<DeployedVersion> {
    const body = JSON.stringify(definition);
    const type = options.type ?? 'STANDARD';
    const logging = this.#logging ? { loggingConfiguration: this.#logging } : {};
    try {
      if (!this.#workflowRoleArn) throw new Error('no workflow role is configured (VOBEE_WORKFLOW_ROLE_ARN)');
      const created = await this.#client.send(
        new CreateStateMachineCommand({
          name,
          definition: body,
          roleArn: this.#workflowRoleArn,
          type,
          publish: true,
          versionDescription: description.slice(0, 256),
          tracingConfiguration: { enabled: true },
          ...logging,
        }),
      );
      return versionOf(created.stateMachineArn as string, created.stateMachineVersionArn as string);
    } catch (error) {
      if (!(error instanceof StateMachineAlreadyExists)) throw error;
      const arn = (error.message.match(/arn:aws[\w-]*:states:[^'"\s]+/) ?? [])[0];
      if (!arn) throw error;
      // UpdateStateMachine cannot change the type: it would publish the new definition under the old one.
      const existing = await this.#client.send(new DescribeStateMachineCommand({ stateMachineArn: arn }));
      const existingType = existing.type ?? 'STANDARD';
      if (existingType !== type) {
        throw typeChangeConflict(name, existingType, type, { cause: error });
      }
      const updated = await this.#client.send(
        new UpdateStateMachineCommand({
          stateMachineArn: arn,
          definition: body,
          publish: true,
          versionDescription: description.slice(0, 256),
          ...logging,
        }),
      );
      return versionOf(arn, updated.stateMachineVersionArn as string);
    }
  }

  async setAlias(stateMachineArn: string, alias: string, versionArn: string): Promise<string> {
    const aliasArn = `${stateMachineArn}:${alias}`;
    const routingConfiguration = [{ stateMachineVersionArn: versionArn, weight: 100 }];
    try {
      await this.#client.send(
        new UpdateStateMachineAliasCommand({ stateMachineAliasArn: aliasArn, routingConfiguration }),
      );
    } catch (error) {
      if (!(error instanceof ResourceNotFound)) throw error;
      await this.#client.send(new CreateStateMachineAliasCommand({ name: alias, routingConfiguration }));
    }
    return aliasArn;
  }

  async sendTaskSuccess(taskToken: string, output: unknown): Promise<void> {
    await this.#client.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output) }));
  }

  async sendTaskFailure(taskToken: string, error: string, cause: string): Promise<void> {
    await this.#client.send(
      new SendTaskFailureCommand({ taskToken, error: error.slice(0, 256), cause: cause.slice(0, 32_768) }),
    );
  }

  async start(stateMachineArn: string, name: string, input: unknown): Promise<{ executionId: string }> {
    try {
      const { executionArn } = await this.#client.send(
        new StartExecutionCommand({
          stateMachineArn,
          name: executionName(name),
          input: JSON.stringify(input),
        }),
      );
      return { executionId: executionArn as string };
    } catch (error) {
      if (error instanceof ExecutionAlreadyExists) {
        throw new ConflictError(`an execution named '${name}' already exists with a different input`, {
          cause: error,
        });
      }
      throw error;
    }
  }

  async describe(executionId: string): Promise<ExecutionDescription> {
    // Express executions have no history in Step Functions: DescribeExecution refuses them.
    if (isExpressExecution(executionId)) throw new ExecutionNotDescribable(executionId);
    const out = await this.#client.send(new DescribeExecutionCommand({ executionArn: executionId }));
    return {
      executionId,
      status: out.status as ExecutionDescription['status'],
      startedAt: (out.startDate ?? new Date(0)).toISOString(),
      stoppedAt: out.stopDate?.toISOString(),
      output: out.output === undefined ? undefined : JSON.parse(out.output),
      error: out.error,
      cause: out.cause,
    };
  }

  async stop(executionId: string, cause?: string): Promise<void> {
    await this.#client.send(new StopExecutionCommand({ executionArn: executionId, cause }));
  }
}

/** Express execution ARNs read `arn:aws:states:<region>:<account>:express:<machine>:<name>:<id>`. */
function isExpressExecution(executionArn: string): boolean {
  return executionArn.split(':')[5] === 'express';
}

function versionOf(stateMachineArn: string, versionArn: string): DeployedVersion {
  return { stateMachineArn, versionArn, version: Number(versionArn.split(':').pop()) };
}

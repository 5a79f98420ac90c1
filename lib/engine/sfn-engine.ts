import {
  CreateStateMachineAliasCommand,
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
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
import {
  type DeployedVersion,
  type ExecutionDescription,
  executionName,
  type WorkflowEngine,
} from './engine.ts';

/** The engine on AWS Step Functions (or LocalStack, through `AWS_ENDPOINT_URL`). */
export class SfnEngine implements WorkflowEngine {
  readonly #client: SFNClient;
  readonly #workflowRoleArn: string | undefined;

  /** @param workflowRoleArn the role state machines created at run time execute with (may invoke the step handler). */
  constructor(client: SFNClient = new SFNClient({}), options: { workflowRoleArn?: string } = {}) {
    this.#client = client;
    this.#workflowRoleArn = options.workflowRoleArn;
  }

  async deploy(name: string, definition: object, description: string): Promise<DeployedVersion> {
    const body = JSON.stringify(definition);
    try {
      if (!this.#workflowRoleArn) throw new Error('no workflow role is configured (VOBEE_WORKFLOW_ROLE_ARN)');
      const created = await this.#client.send(
        new CreateStateMachineCommand({
          name,
          definition: body,
          roleArn: this.#workflowRoleArn,
          type: 'STANDARD',
          publish: true,
          versionDescription: description.slice(0, 256),
          tracingConfiguration: { enabled: true },
        }),
      );
      return versionOf(created.stateMachineArn as string, created.stateMachineVersionArn as string);
    } catch (error) {
      if (!(error instanceof StateMachineAlreadyExists)) throw error;
      const arn = (error.message.match(/arn:aws[\w-]*:states:[^'"\s]+/) ?? [])[0];
      if (!arn) throw error;
      const updated = await this.#client.send(
        new UpdateStateMachineCommand({
          stateMachineArn: arn,
          definition: body,
          publish: true,
          versionDescription: description.slice(0, 256),
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

function versionOf(stateMachineArn: string, versionArn: string): DeployedVersion {
  return { stateMachineArn, versionArn, version: Number(versionArn.split(':').pop()) };
}

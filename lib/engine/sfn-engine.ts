import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { ConflictError } from '../core/errors.ts';
import { type ExecutionDescription, executionName, type WorkflowEngine } from './engine.ts';

/** The engine on AWS Step Functions (or LocalStack, through `AWS_ENDPOINT_URL`). */
export class SfnEngine implements WorkflowEngine {
  readonly #client: SFNClient;
  constructor(client: SFNClient = new SFNClient({})) {
    this.#client = client;
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

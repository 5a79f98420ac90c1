import {
  CreateStateMachineAliasCommand,
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  ExecutionAlreadyExists,
  ResourceNotFound,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
  StateMachineAlreadyExists,
  UpdateStateMachineAliasCommand,
  UpdateStateMachineCommand,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { ConflictError } from '../../lib/core/errors.ts';
import { ExecutionNotDescribable } from '../../lib/engine/engine.ts';
import { SfnEngine } from '../../lib/engine/sfn-engine.ts';

// The shapes of the Step Functions calls; the behaviour itself runs on the local engine elsewhere.
const sfn = mockClient(SFNClient);
const ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:vobee-dev-wf-brief';
const LOG_GROUP_ARN = 'arn:aws:logs:eu-west-1:123456789012:log-group:/aws/vendedlogs/states/vobee-dev-wf:*';
const engine = (options: ConstructorParameters<typeof SfnEngine>[1] = {}) =>
  new SfnEngine(new SFNClient({ region: 'eu-west-1' }), {
    workflowRoleArn: 'arn:aws:iam::123456789012:role/wf',
    ...options,
  });
const existingMachine = (type: 'STANDARD' | 'EXPRESS') => ({
  stateMachineArn: ARN,
  name: 'vobee-dev-wf-brief',
  definition: '{}',
  roleArn: 'arn:aws:iam::123456789012:role/wf',
  type,
  creationDate: new Date(),
});
const alreadyExists = () =>
  new StateMachineAlreadyExists({ message: `State Machine Already Exists: '${ARN}'`, $metadata: {} });

beforeEach(() => sfn.reset());

describe('SfnEngine', () => {
  it('starts an execution under a name Step Functions accepts, with the input as JSON', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn:exec', startDate: new Date() });
    expect(await engine().start(ARN, 'task:42.a/b', { input: { x: 1 } })).toEqual({
      executionId: 'arn:exec',
    });
    expect(sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input).toEqual({
      stateMachineArn: ARN,
      name: 'task-42-a-b',
      input: '{"input":{"x":1}}',
    });
  });

  it('turns a name already used with another input into a conflict', async () => {
    sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'exists', $metadata: {} }));
    await expect(engine().start(ARN, 'x', {})).rejects.toBeInstanceOf(ConflictError);
  });

  it('describes an execution with its output parsed', async () => {
    sfn.on(DescribeExecutionCommand).resolves({
      status: 'SUCCEEDED',
      startDate: new Date('2026-01-01T00:00:00Z'),
      stopDate: new Date('2026-01-01T00:00:05Z'),
      output: '{"results":{}}',
      executionArn: 'arn:exec',
      stateMachineArn: ARN,
    });
    expect(await engine().describe('arn:exec')).toMatchObject({
      status: 'SUCCEEDED',
      output: { results: {} },
      stoppedAt: '2026-01-01T00:00:05.000Z',
    });
  });

  it('refuses to describe an Express execution, which Step Functions keeps no history of', async () => {
    const express = 'arn:aws:states:eu-west-1:123456789012:express:vobee-dev-wf-brief:run-1:0f1e2d3c';
    const describing = engine().describe(express);
    await expect(describing).rejects.toBeInstanceOf(ExecutionNotDescribable);
    await expect(describing).rejects.toMatchObject({ name: 'ExecutionNotDescribable', executionId: express });
    expect(sfn.commandCalls(DescribeExecutionCommand)).toHaveLength(0);
  });

  it('publishes a new state machine as version 1 with the workflow role', async () => {
    sfn
      .on(CreateStateMachineCommand)
      .resolves({ stateMachineArn: ARN, stateMachineVersionArn: `${ARN}:1`, creationDate: new Date() });
    expect(await engine().deploy('vobee-dev-wf-brief', { StartAt: 'a', States: {} }, 'Brief v1')).toEqual({
      stateMachineArn: ARN,
      versionArn: `${ARN}:1`,
      version: 1,
    });
    const input = sfn.commandCalls(CreateStateMachineCommand)[0]?.args[0].input;
    expect(input).toMatchObject({
      name: 'vobee-dev-wf-brief',
      roleArn: 'arn:aws:iam::123456789012:role/wf',
      type: 'STANDARD',
      publish: true,
      tracingConfiguration: { enabled: true },
    });
    // No log group configured: no logging configuration.
    expect(input).not.toHaveProperty('loggingConfiguration');
  });

  it('creates an Express state machine that logs errors without execution data to the log group', async () => {
    sfn
      .on(CreateStateMachineCommand)
      .resolves({ stateMachineArn: ARN, stateMachineVersionArn: `${ARN}:1`, creationDate: new Date() });
    await engine({ logGroupArn: LOG_GROUP_ARN }).deploy('vobee-dev-wf-brief', {}, 'Brief v1', {
      type: 'EXPRESS',
    });
    expect(sfn.commandCalls(CreateStateMachineCommand)[0]?.args[0].input).toMatchObject({
      type: 'EXPRESS',
      tracingConfiguration: { enabled: true },
      loggingConfiguration: {
        level: 'ERROR',
        includeExecutionData: false,
        destinations: [{ cloudWatchLogsLogGroup: { logGroupArn: LOG_GROUP_ARN } }],
      },
    });
  });

  it('logs at the configured level, with execution data when asked', async () => {
    sfn
      .on(CreateStateMachineCommand)
      .resolves({ stateMachineArn: ARN, stateMachineVersionArn: `${ARN}:1`, creationDate: new Date() });
    await engine({ logGroupArn: LOG_GROUP_ARN, logLevel: 'ALL', includeExecutionData: true }).deploy(
      'vobee-dev-wf-brief',
      {},
      'Brief v1',
    );
    expect(sfn.commandCalls(CreateStateMachineCommand)[0]?.args[0].input.loggingConfiguration).toEqual({
      level: 'ALL',
      includeExecutionData: true,
      destinations: [{ cloudWatchLogsLogGroup: { logGroupArn: LOG_GROUP_ARN } }],
    });
  });

  it('updates and publishes when the state machine exists with the same type', async () => {
    sfn.on(CreateStateMachineCommand).rejects(alreadyExists());
    sfn.on(DescribeStateMachineCommand).resolves(existingMachine('STANDARD'));
    sfn
      .on(UpdateStateMachineCommand)
      .resolves({ stateMachineVersionArn: `${ARN}:4`, updateDate: new Date() });
    expect(
      (
        await engine({ logGroupArn: LOG_GROUP_ARN }).deploy(
          'vobee-dev-wf-brief',
          { StartAt: 'a', States: {} },
          'Brief v4',
        )
      ).version,
    ).toBe(4);
    expect(sfn.commandCalls(DescribeStateMachineCommand)[0]?.args[0].input).toEqual({ stateMachineArn: ARN });
    expect(sfn.commandCalls(UpdateStateMachineCommand)[0]?.args[0].input).toMatchObject({
      stateMachineArn: ARN,
      publish: true,
      loggingConfiguration: { level: 'ERROR', includeExecutionData: false },
    });
  });

  it('refuses to deploy an existing state machine with another type, and changes nothing', async () => {
    sfn.on(CreateStateMachineCommand).rejects(alreadyExists());
    sfn.on(DescribeStateMachineCommand).resolves(existingMachine('STANDARD'));
    const deploying = engine().deploy('vobee-dev-wf-brief', {}, 'Brief v2', { type: 'EXPRESS' });
    await expect(deploying).rejects.toBeInstanceOf(ConflictError);
    await expect(deploying).rejects.toThrow('the engine of a workflow cannot change between versions');
    expect(sfn.commandCalls(CreateStateMachineCommand)[0]?.args[0].input.type).toBe('EXPRESS');
    expect(sfn.commandCalls(UpdateStateMachineCommand)).toHaveLength(0);
  });

  it('moves an alias, creating it the first time', async () => {
    sfn
      .on(UpdateStateMachineAliasCommand)
      .rejectsOnce(new ResourceNotFound({ message: 'no alias', $metadata: {} }))
      .resolves({ updateDate: new Date() });
    sfn
      .on(CreateStateMachineAliasCommand)
      .resolves({ stateMachineAliasArn: `${ARN}:live`, creationDate: new Date() });
    expect(await engine().setAlias(ARN, 'live', `${ARN}:1`)).toBe(`${ARN}:live`);
    expect(sfn.commandCalls(CreateStateMachineAliasCommand)[0]?.args[0].input).toEqual({
      name: 'live',
      routingConfiguration: [{ stateMachineVersionArn: `${ARN}:1`, weight: 100 }],
    });
    await engine().setAlias(ARN, 'live', `${ARN}:2`);
    expect(sfn.commandCalls(CreateStateMachineAliasCommand)).toHaveLength(1);
  });

  it('sends callbacks as task success or failure', async () => {
    sfn.on(SendTaskSuccessCommand).resolves({});
    sfn.on(SendTaskFailureCommand).resolves({});
    await engine().sendTaskSuccess('token-1', { status: 'SUCCEEDED', output: 1 });
    await engine().sendTaskFailure('token-2', 'StepFailed', 'gpu on fire');
    expect(sfn.commandCalls(SendTaskSuccessCommand)[0]?.args[0].input).toEqual({
      taskToken: 'token-1',
      output: '{"status":"SUCCEEDED","output":1}',
    });
    expect(sfn.commandCalls(SendTaskFailureCommand)[0]?.args[0].input).toEqual({
      taskToken: 'token-2',
      error: 'StepFailed',
      cause: 'gpu on fire',
    });
  });
});

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
  UpdateStateMachineAliasCommand,
  UpdateStateMachineCommand,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { ConflictError } from '../../lib/core/errors.ts';
import { SfnEngine } from '../../lib/engine/sfn-engine.ts';

// The shapes of the Step Functions calls; the behaviour itself runs on the local engine elsewhere.
const sfn = mockClient(SFNClient);
const ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:vobee-dev-wf-brief';
const engine = () =>
  new SfnEngine(new SFNClient({ region: 'eu-west-1' }), {
    workflowRoleArn: 'arn:aws:iam::123456789012:role/wf',
  });

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

  it('publishes a new state machine as version 1 with the workflow role', async () => {
    sfn
      .on(CreateStateMachineCommand)
      .resolves({ stateMachineArn: ARN, stateMachineVersionArn: `${ARN}:1`, creationDate: new Date() });
    expect(await engine().deploy('vobee-dev-wf-brief', { StartAt: 'a', States: {} }, 'Brief v1')).toEqual({
      stateMachineArn: ARN,
      versionArn: `${ARN}:1`,
      version: 1,
    });
    expect(sfn.commandCalls(CreateStateMachineCommand)[0]?.args[0].input).toMatchObject({
      name: 'vobee-dev-wf-brief',
      roleArn: 'arn:aws:iam::123456789012:role/wf',
      type: 'STANDARD',
      publish: true,
    });
  });

  it('updates and publishes when the state machine exists', async () => {
    sfn
      .on(CreateStateMachineCommand)
      .rejects(
        new StateMachineAlreadyExists({ message: `State Machine Already Exists: '${ARN}'`, $metadata: {} }),
      );
    sfn
      .on(UpdateStateMachineCommand)
      .resolves({ stateMachineVersionArn: `${ARN}:4`, updateDate: new Date() });
    expect(
      (await engine().deploy('vobee-dev-wf-brief', { StartAt: 'a', States: {} }, 'Brief v4')).version,
    ).toBe(4);
    expect(sfn.commandCalls(UpdateStateMachineCommand)[0]?.args[0].input).toMatchObject({
      stateMachineArn: ARN,
      publish: true,
    });
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

import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { DefinitionBody, LogLevel, StateMachine, StateMachineType } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { FunctionSpec } from '../../lib/app.ts';
import { type PipelineFunctions, pipelineDefinition } from '../../lib/core/pipeline/definition.ts';
import { acknowledge } from '../nag.ts';
import type { StageSettings } from '../settings.ts';
import type { ManifestFunction } from './manifest-function.ts';

type Step = NonNullable<FunctionSpec['pipelineStep']>;
const STEPS: readonly Step[] = ['decide', 'route', 'callFactory', 'failover', 'record'];

export interface TaskPipelineProps {
  settings: StageSettings;
  /** The manifest functions; exactly one per pipeline step is expected. */
  functions: readonly ManifestFunction[];
}

/** The task pipeline state machine, from the same ASL the local engine runs. */
export class TaskPipeline extends Construct {
  readonly stateMachine: StateMachine;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: TaskPipelineProps) {
    super(scope, id);
    const { settings } = props;
    const steps = stepFunctions(props.functions);

    this.logGroup = new LogGroup(this, 'Logs', {
      // Step Functions log delivery keeps its resource policy small under this prefix.
      logGroupName: `/aws/vendedlogs/states/${settings.prefix}-task-pipeline`,
      retention: settings.logRetention,
      removalPolicy: settings.removalPolicy,
    });
    const functionArns = Object.fromEntries(
      STEPS.map((step) => [step, steps[step].function.functionArn]),
    ) as unknown as PipelineFunctions;
    this.stateMachine = new StateMachine(this, 'StateMachine', {
      stateMachineType: StateMachineType.STANDARD,
      comment: `${settings.prefix} task pipeline`,
      definitionBody: DefinitionBody.fromString(JSON.stringify(pipelineDefinition(functionArns))),
      logs: { destination: this.logGroup, level: LogLevel.ALL, includeExecutionData: true },
      tracingEnabled: true,
    });
    // The Task states name the unqualified function ARNs, so neither versions nor aliases are granted.
    this.stateMachine.addToRolePolicy(
      new PolicyStatement({
        actions: ['lambda:InvokeFunction'],
        resources: STEPS.map((step) => steps[step].function.functionArn),
      }),
    );
    acknowledge(this.stateMachine.role, {
      'AwsSolutions-IAM5[Resource::*]':
        'Log delivery (logs:*LogDelivery*, PutResourcePolicy, Describe*) and X-Ray writes do not support resource-level permissions',
    });
  }
}

function stepFunctions(functions: readonly ManifestFunction[]): Record<Step, ManifestFunction> {
  const byStep = {} as Record<Step, ManifestFunction>;
  for (const fn of functions) {
    const step = fn.spec.pipelineStep;
    if (!step) continue;
    if (byStep[step]) {
      throw new Error(`pipeline step '${step}' has two functions: ${byStep[step].spec.id} and ${fn.spec.id}`);
    }
    byStep[step] = fn;
  }
  for (const step of STEPS) {
    if (!byStep[step]) throw new Error(`the app manifest has no function for pipeline step '${step}'`);
  }
  return byStep;
}

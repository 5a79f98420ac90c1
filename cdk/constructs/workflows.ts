import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ArnFormat, Stack } from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { DefinitionBody, LogLevel, StateMachine, StateMachineType } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { compileWorkflow } from '../../lib/core/workflow/compile.ts';
import type { WorkflowTemplateInput } from '../../lib/core/workflow/template.ts';
import { acknowledge, XRAY_WILDCARD_REASON } from '../nag.ts';
import type { StageSettings } from '../settings.ts';
import type { ManifestFunction } from './manifest-function.ts';

const TEMPLATES = resolve(import.meta.dirname, '..', 'workflows');

export interface WorkflowsProps {
  settings: StageSettings;
  /** The step handler every compiled workflow invokes. */
  stepFunction: ManifestFunction;
  /** Functions that register, start, stop and answer workflows. */
  managers: readonly ManifestFunction[];
  /** Base URL of the API, for callback URLs. */
  apiUrl: string;
}

/**
 * Workflows: the templates in `cdk/workflows/*.json` compiled into state machines at synth, the
 * role that state machines created at run time (through `POST /workflows`) execute with, and
 * what the managing functions may do with them.
 */
export class Workflows extends Construct {
  readonly deployed: Record<string, StateMachine> = {};
  readonly runtimeRole: Role;

  constructor(scope: Construct, id: string, props: WorkflowsProps) {
    super(scope, id);
    const { settings, stepFunction } = props;
    const stack = Stack.of(this);
    const prefix = `${settings.prefix}-wf`;

    // Run-time state machines (created by the API) run as this role: it may invoke the step handler only.
    this.runtimeRole = new Role(this, 'RuntimeRole', {
      assumedBy: new ServicePrincipal('states.amazonaws.com'),
      description: 'Role of workflow state machines registered through the API',
    });
    stepFunction.function.grantInvoke(this.runtimeRole);
    this.runtimeRole.addToPolicy(
      new PolicyStatement({
        actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
        resources: ['*'],
      }),
    );
    const invokeVersions = {
      [`AwsSolutions-IAM5[Resource::<${stack.getLogicalId(stepFunction.function.node.defaultChild as CfnFunction)}.Arn>:*]`]:
        'grantInvoke covers the step handler and its versions; no other function',
    };
    acknowledge(this.runtimeRole, {
      'AwsSolutions-IAM5[Resource::*]': XRAY_WILDCARD_REASON,
      ...invokeVersions,
    });

    for (const file of readdirSync(TEMPLATES)
      .filter((f) => f.endsWith('.json'))
      .sort()) {
      const template = JSON.parse(readFileSync(resolve(TEMPLATES, file), 'utf8')) as WorkflowTemplateInput;
      const { definition } = compileWorkflow(template, {
        runStepFunctionArn: stepFunction.function.functionArn,
      });
      const logGroup = new LogGroup(this, `${template.workflow_id}Logs`, {
        logGroupName: `/aws/vendedlogs/states/${prefix}-${template.workflow_id}`,
        retention: settings.logRetention,
        removalPolicy: settings.removalPolicy,
      });
      const machine = new StateMachine(this, `${template.workflow_id}StateMachine`, {
        stateMachineName: `${prefix}-${template.workflow_id}`.slice(0, 80),
        stateMachineType: StateMachineType.STANDARD,
        comment: template.name,
        definitionBody: DefinitionBody.fromString(JSON.stringify(definition)),
        logs: { destination: logGroup, level: LogLevel.ALL, includeExecutionData: true },
        tracingEnabled: true,
      });
      stepFunction.function.grantInvoke(machine);
      acknowledge(machine.role, {
        ...invokeVersions,
        'AwsSolutions-IAM5[Resource::*]':
          'Log delivery (logs:*LogDelivery*, PutResourcePolicy, Describe*) and X-Ray writes do not support resource-level permissions',
      });
      this.deployed[template.workflow_id] = machine;
    }

    const machineArn = (name: string) =>
      stack.formatArn({
        service: 'states',
        resource: 'stateMachine',
        resourceName: name,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      });
    const executionArn = (name: string) =>
      stack.formatArn({
        service: 'states',
        resource: 'execution',
        resourceName: name,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      });
    const deployedArns = JSON.stringify(
      Object.fromEntries(Object.entries(this.deployed).map(([id, m]) => [id, m.stateMachineArn])),
    );
    for (const manager of props.managers) {
      const fn = manager.function;
      fn.addEnvironment('VOBEE_RUN_STEP_FUNCTION', stepFunction.function.functionArn);
      fn.addEnvironment('VOBEE_WORKFLOW_ROLE_ARN', this.runtimeRole.roleArn);
      fn.addEnvironment('VOBEE_WORKFLOW_PREFIX', prefix);
      fn.addEnvironment('VOBEE_DEPLOYED_WORKFLOWS', deployedArns);
      fn.addToRolePolicy(
        new PolicyStatement({
          actions: [
            'states:CreateStateMachine',
            'states:UpdateStateMachine',
            'states:CreateStateMachineAlias',
            'states:UpdateStateMachineAlias',
            'states:StartExecution',
            'states:TagResource',
          ],
          resources: [machineArn(`${prefix}-*`)],
        }),
      );
      fn.addToRolePolicy(
        new PolicyStatement({
          actions: ['states:DescribeExecution', 'states:StopExecution'],
          resources: [executionArn(`${prefix}-*`)],
        }),
      );
      // Task tokens are not resources: SendTask* cannot be scoped further.
      fn.addToRolePolicy(
        new PolicyStatement({
          actions: ['states:SendTaskSuccess', 'states:SendTaskFailure'],
          resources: ['*'],
        }),
      );
      this.runtimeRole.grantPassRole(fn.grantPrincipal);
      acknowledge(manager, {
        [`AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:stateMachine:${prefix}-*]`]:
          'Workflows registered at run time get state machines named under this prefix; their names are not known at deploy',
        [`AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${prefix}-*]`]:
          'Executions of those state machines, named at run time',
      });
    }
    stepFunction.function.addEnvironment('VOBEE_CALLBACK_URL', props.apiUrl);
    for (const manager of props.managers) manager.function.addEnvironment('VOBEE_CALLBACK_URL', props.apiUrl);
  }
}

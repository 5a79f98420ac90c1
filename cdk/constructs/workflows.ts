import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ArnFormat, type CfnResource, Stack } from 'aws-cdk-lib';
import { type IRole, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { DefinitionBody, LogLevel, StateMachine, StateMachineType } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { compileWorkflow, MAP_RUNS_PREFIX } from '../../lib/core/workflow/compile.ts';
import type { WorkflowTemplateInput } from '../../lib/core/workflow/template.ts';
import { validateTemplate } from '../../lib/core/workflow/template.ts';
import type { InputDeclarations } from '../../lib/core/workflow/template-inputs.ts';
import type { DeployedWorkflow } from '../../lib/core/workflow/workflow-service.ts';
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
  /** The templates deployed with the stack: those in `cdk/workflows/*.json` unless given. */
  templates?: readonly WorkflowTemplateInput[];
  /** The artifact bucket: a Distributed Map reads its items from it and writes its results there. */
  artifacts: IBucket;
}

/** The templates in `cdk/workflows/*.json`, by file name. */
function templatesInFolder(): WorkflowTemplateInput[] {
  return readdirSync(TEMPLATES)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => JSON.parse(readFileSync(resolve(TEMPLATES, file), 'utf8')) as WorkflowTemplateInput);
}

/**
 * What a run needs of the declared inputs (type and default): descriptions are left out, since
 * the declarations travel in an environment variable (4 KB for all of a function's variables).
 */
function withoutDescriptions(inputs: InputDeclarations): InputDeclarations {
  return Object.fromEntries(
    Object.entries(inputs).map(([name, { description: _, ...kept }]) => [name, kept]),
  );
}

/** What Step Functions needs from whoever sets up log delivery to CloudWatch Logs (none of it takes a resource). */
const LOG_DELIVERY_ACTIONS = [
  'logs:CreateLogDelivery',
  'logs:GetLogDelivery',
  'logs:UpdateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:DescribeResourcePolicies',
  'logs:DescribeLogGroups',
];
const LOG_DELIVERY_REASON =
  'Log delivery (logs:*LogDelivery*, PutResourcePolicy, Describe*) does not support resource-level permissions';

/**
 * Workflows: the templates in `cdk/workflows/*.json` compiled into state machines at synth (Express
 * when the template says `engine: 'express'`), the role and the log group of state machines created
 * at run time (through `POST /workflows`), and what the managing functions may do with them. Every
 * workflow state machine logs at the stage's `workflowLogLevel` (ERROR by default), with inputs
 * and outputs only when `workflowLogExecutionData` is set.
 */
export class Workflows extends Construct {
  readonly deployed: Record<string, StateMachine> = {};
  readonly runtimeRole: Role;
  /** Where state machines created at run time log. */
  readonly runtimeLogGroup: LogGroup;

  constructor(scope: Construct, id: string, props: WorkflowsProps) {
    super(scope, id);
    const { settings, stepFunction } = props;
    const stack = Stack.of(this);
    const prefix = `${settings.prefix}-wf`;
    const logLevel = LogLevel[settings.workflowLogLevel];
    const includeExecutionData = settings.workflowLogExecutionData;

    // Run-time state machines (created by the API) run as this role: it may invoke the step handler
    // (no other function), trace, and deliver their logs.
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
    // Step Functions checks that the role of a logging state machine may deliver its logs.
    this.runtimeRole.addToPolicy(new PolicyStatement({ actions: LOG_DELIVERY_ACTIONS, resources: ['*'] }));
    const invokeVersions = {
      [`AwsSolutions-IAM5[Resource::<${stack.getLogicalId(stepFunction.function.node.defaultChild as CfnFunction)}.Arn>:*]`]:
        'grantInvoke covers the step handler and its versions; no other function',
    };
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
    /**
     * A Distributed Map (a fan-out over a large list) reads its items from the artifact bucket,
     * writes its results under the map-runs prefix, and runs its items as child executions of
     * the state machine `name` (a pattern for the run-time role).
     */
    const allowDistributedMaps = (role: Role | IRole, name: string) => {
      role.addToPrincipalPolicy(
        new PolicyStatement({
          actions: ['states:StartExecution'],
          resources: [machineArn(name), `${machineArn(name)}:*`],
        }),
      );
      role.addToPrincipalPolicy(
        new PolicyStatement({
          actions: ['states:DescribeExecution', 'states:StopExecution'],
          resources: [executionArn(`${name}/*`)],
        }),
      );
      props.artifacts.grantRead(role, 'artifacts/*');
      props.artifacts.grantPut(role, `${MAP_RUNS_PREFIX}*`);
      role.addToPrincipalPolicy(
        new PolicyStatement({
          actions: ['s3:ListMultipartUploadParts', 's3:AbortMultipartUpload'],
          resources: [props.artifacts.arnForObjects(`${MAP_RUNS_PREFIX}*`)],
        }),
      );
    };
    allowDistributedMaps(this.runtimeRole, `${prefix}-*`);
    const distributedMapReasons = (name: string) => ({
      [`AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:stateMachine:${name}:*]`]:
        'A Distributed Map starts its items as child executions of its own state machine, whose versions are not known at deploy',
      [`AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${name}/*]`]:
        'The child executions of a Distributed Map are named at run time',
      'AwsSolutions-IAM5[Action::s3:GetObject*]': 'grantRead on the artifact prefix only',
      'AwsSolutions-IAM5[Action::s3:GetBucket*]': 'grantRead on the artifact bucket only',
      'AwsSolutions-IAM5[Action::s3:List*]': 'grantRead on the artifact bucket only',
      'AwsSolutions-IAM5[Action::s3:Abort*]': 'grantPut on the map-runs prefix only',
      [`AwsSolutions-IAM5[Resource::<${stack.getLogicalId(props.artifacts.node.defaultChild as CfnResource)}.Arn>/artifacts/*]`]:
        'Items of a Distributed Map are read from the artifact prefix, objects named at run time',
      [`AwsSolutions-IAM5[Resource::<${stack.getLogicalId(props.artifacts.node.defaultChild as CfnResource)}.Arn>/${MAP_RUNS_PREFIX}*]`]:
        'A Distributed Map writes its results under the map-runs prefix, objects named at run time',
    });
    acknowledge(this.runtimeRole, {
      'AwsSolutions-IAM5[Resource::*]': `${XRAY_WILDCARD_REASON}; ${LOG_DELIVERY_REASON}`,
      ...invokeVersions,
      [`AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:stateMachine:${prefix}-*]`]:
        'A Distributed Map starts its items as child executions of its own state machine, registered at run time',
      ...distributedMapReasons(`${prefix}-*`),
    });
    // One log group for every run-time workflow: a slash keeps its name apart from any deployed
    // workflow's (`<prefix>-<workflow_id>`; ids have no slash), and /aws/vendedlogs/ keeps the
    // CloudWatch Logs resource policy that log delivery writes small.
    this.runtimeLogGroup = new LogGroup(this, 'RuntimeLogs', {
      logGroupName: `/aws/vendedlogs/states/${prefix}/registered`,
      retention: settings.logRetention,
      removalPolicy: settings.removalPolicy,
    });

    const summaries: Record<string, Omit<DeployedWorkflow, 'arn'>> = {};
    for (const template of props.templates ?? templatesInFolder()) {
      const checked = validateTemplate(template);
      summaries[template.workflow_id] = {
        engine: checked.engine,
        timeoutSeconds: checked.timeout,
        inputs: checked.inputs && withoutDescriptions(checked.inputs),
      };
      const { definition, type } = compileWorkflow(template, {
        runStepFunctionArn: stepFunction.function.functionArn,
      });
      const logGroup = new LogGroup(this, `${template.workflow_id}Logs`, {
        logGroupName: `/aws/vendedlogs/states/${prefix}-${template.workflow_id}`,
        retention: settings.logRetention,
        removalPolicy: settings.removalPolicy,
      });
      const machine = new StateMachine(this, `${template.workflow_id}StateMachine`, {
        stateMachineName: `${prefix}-${template.workflow_id}`.slice(0, 80),
        stateMachineType: type === 'EXPRESS' ? StateMachineType.EXPRESS : StateMachineType.STANDARD,
        comment: template.name,
        definitionBody: DefinitionBody.fromString(JSON.stringify(definition)),
        logs: { destination: logGroup, level: logLevel, includeExecutionData },
        tracingEnabled: true,
      });
      stepFunction.function.grantInvoke(machine);
      const machineName = `${prefix}-${template.workflow_id}`.slice(0, 80);
      const distributed = JSON.stringify(definition).includes('"DISTRIBUTED"');
      if (distributed) allowDistributedMaps(machine.role, machineName);
      acknowledge(machine.role, {
        ...(distributed ? distributedMapReasons(machineName) : {}),
        ...invokeVersions,
        'AwsSolutions-IAM5[Resource::*]': `${LOG_DELIVERY_REASON}; ${XRAY_WILDCARD_REASON}`,
      });
      if (logLevel !== LogLevel.ALL) {
        acknowledge(machine, {
          'AwsSolutions-SF1': `Logs at the stage's workflowLogLevel (${settings.workflowLogLevel}): ALL would add billed log events for every state of every run, while step status is kept in DynamoDB and Standard executions keep their history; a stage can ask for ALL (-c workflowLogLevel=ALL)`,
        });
      }
      this.deployed[template.workflow_id] = machine;
    }

    // What the managing functions need of each deployed workflow (see `DeployedWorkflow`).
    const deployedArns = JSON.stringify(
      Object.fromEntries(
        Object.entries(this.deployed).map(([id, m]) => [id, { arn: m.stateMachineArn, ...summaries[id] }]),
      ),
    );
    for (const manager of props.managers) {
      const fn = manager.function;
      fn.addEnvironment('VOBEE_RUN_STEP_FUNCTION', stepFunction.function.functionArn);
      fn.addEnvironment('VOBEE_WORKFLOW_ROLE_ARN', this.runtimeRole.roleArn);
      fn.addEnvironment('VOBEE_WORKFLOW_PREFIX', prefix);
      fn.addEnvironment('VOBEE_DEPLOYED_WORKFLOWS', deployedArns);
      fn.addEnvironment('VOBEE_WORKFLOW_LOG_GROUP_ARN', this.runtimeLogGroup.logGroupArn);
      fn.addEnvironment('VOBEE_WORKFLOW_LOG_LEVEL', settings.workflowLogLevel);
      fn.addEnvironment('VOBEE_WORKFLOW_LOG_EXECUTION_DATA', String(includeExecutionData));
      fn.addToRolePolicy(
        new PolicyStatement({
          actions: [
            'states:CreateStateMachine',
            'states:UpdateStateMachine',
            // A deploy reads the type of an existing state machine: a type cannot change.
            'states:DescribeStateMachine',
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
      // Creating or updating a state machine that logs sets up log delivery as the caller.
      fn.addToRolePolicy(new PolicyStatement({ actions: LOG_DELIVERY_ACTIONS, resources: ['*'] }));
      this.runtimeRole.grantPassRole(fn.grantPrincipal);
      acknowledge(manager, {
        'AwsSolutions-IAM5[Resource::*]': `Task tokens are not resources, so SendTaskSuccess/SendTaskFailure cannot be scoped; ${LOG_DELIVERY_REASON}`,
        [`AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:stateMachine:${prefix}-*]`]:
          'Workflows registered at run time get state machines named under this prefix; their names are not known at deploy',
        [`AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${prefix}-*]`]:
          'Executions of those state machines, named at run time',
      });
    }
    // The step handler opens gates: SendTaskSuccess on the tokens they park (not resources either).
    stepFunction.function.addToRolePolicy(
      new PolicyStatement({ actions: ['states:SendTaskSuccess'], resources: ['*'] }),
    );
    acknowledge(stepFunction.function, {
      'AwsSolutions-IAM5[Resource::*]':
        'Task tokens are not resources, so SendTaskSuccess (opening workflow gates) cannot be scoped',
    });
    stepFunction.function.addEnvironment('VOBEE_CALLBACK_URL', props.apiUrl);
    for (const manager of props.managers) manager.function.addEnvironment('VOBEE_CALLBACK_URL', props.apiUrl);
  }
}

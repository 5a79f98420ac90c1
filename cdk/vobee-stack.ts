import { CfnOutput, Duration, Stack, type StackProps, Tags } from 'aws-cdk-lib';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { Construct } from 'constructs';
import { FUNCTIONS } from '../lib/app.ts';
import type { TableId } from '../lib/store/tables.ts';
import { VobeeHttpApi } from './constructs/http-api.ts';
import { Intake } from './constructs/intake.ts';
import { ManifestFunction } from './constructs/manifest-function.ts';
import { TaskPipeline } from './constructs/pipeline.ts';
import { VobeeTables } from './constructs/tables.ts';
import { Workflows } from './constructs/workflows.ts';
import type { StageSettings } from './settings.ts';

export interface VobeeStackProps extends StackProps {
  settings: StageSettings;
  /** `VOBEE_ALLOWED_PRIVATE_ENDPOINTS` of the functions that call factories. */
  allowedPrivateEndpoints?: string;
}

/** The whole orchestrator in one stack, built from the app manifest and the table definitions. */
export class VobeeStack extends Stack {
  readonly tables: Readonly<Record<TableId, Table>>;
  readonly functions: ReadonlyMap<string, ManifestFunction>;
  readonly api: VobeeHttpApi;
  readonly pipeline: TaskPipeline;
  readonly intake: Intake;
  readonly workflows: Workflows;

  constructor(scope: Construct, id: string, props: VobeeStackProps) {
    super(scope, id, props);
    const { settings } = props;
    Tags.of(this).add('app', 'vobee');
    Tags.of(this).add('stage', settings.stage);

    this.tables = new VobeeTables(this, 'Tables', settings).byId;

    const functions = new Map<string, ManifestFunction>();
    for (const spec of FUNCTIONS) {
      if (functions.has(spec.id)) throw new Error(`the app manifest has two functions '${spec.id}'`);
      functions.set(
        spec.id,
        new ManifestFunction(this, spec.id, {
          spec,
          settings,
          tables: this.tables,
          allowedPrivateEndpoints: props.allowedPrivateEndpoints,
        }),
      );
    }
    this.functions = functions;
    const all = [...functions.values()];

    this.api = new VobeeHttpApi(this, 'Http', { settings, functions: all });
    this.pipeline = new TaskPipeline(this, 'Pipeline', { settings, functions: all });
    for (const { spec, function: fn } of all) {
      if (!spec.startsPipeline) continue;
      fn.addEnvironment('VOBEE_PIPELINE_ARN', this.pipeline.stateMachine.stateMachineArn);
      this.pipeline.stateMachine.grantStartExecution(fn);
    }

    const stepFunction = all.find(({ spec }) => spec.workflowStep);
    if (!stepFunction) throw new Error('the app manifest has no workflow step function');
    this.workflows = new Workflows(this, 'Workflows', {
      settings,
      stepFunction,
      managers: all.filter(({ spec }) => spec.managesWorkflows),
      // From the API id, not the stage URL: the stage depends on the routes, which depend on the functions.
      apiUrl: `https://${this.api.api.apiId}.execute-api.${this.region}.${this.urlSuffix}`,
    });

    const consumers = all.filter(({ spec }) => spec.queue === 'intake');
    if (consumers.length !== 1 || !consumers[0]) {
      throw new Error(`the app manifest needs exactly one intake queue consumer, found ${consumers.length}`);
    }
    this.intake = new Intake(this, 'Intake', {
      settings,
      consumer: consumers[0].function,
      consumerTimeout: consumers[0].function.timeout ?? Duration.seconds(10),
    });

    for (const { spec, function: fn } of all) {
      if (!spec.schedule) continue;
      new Rule(this, `${spec.id}Schedule`, {
        description: `${spec.id}: ${spec.schedule}`,
        schedule: Schedule.expression(spec.schedule),
        targets: [new LambdaFunction(fn, { retryAttempts: 2, maxEventAge: Duration.hours(1) })],
      });
    }

    new CfnOutput(this, 'ApiUrl', { value: this.api.stage.url });
    new CfnOutput(this, 'PipelineArn', { value: this.pipeline.stateMachine.stateMachineArn });
    for (const [workflowId, machine] of Object.entries(this.workflows.deployed)) {
      new CfnOutput(this, `${workflowId.replace(/[^A-Za-z0-9]/g, '')}WorkflowArn`, {
        value: machine.stateMachineArn,
      });
    }
    new CfnOutput(this, 'IntakeQueueUrl', { value: this.intake.queue.queueUrl });
    new CfnOutput(this, 'EventBusName', { value: this.intake.bus.eventBusName });
    for (const [tableId, table] of Object.entries(this.tables)) {
      new CfnOutput(this, `${tableId[0]?.toUpperCase()}${tableId.slice(1)}TableName`, {
        value: table.tableName,
      });
    }
  }
}

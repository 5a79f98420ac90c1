import { ArnFormat, CfnOutput, Duration, Stack, type StackProps, Tags } from 'aws-cdk-lib';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { Bucket } from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { FUNCTIONS, type QueueId } from '../lib/app.ts';
import type { TableId } from '../lib/store/tables.ts';
import { ArtifactBucket } from './constructs/artifacts.ts';
import { VobeeHttpApi } from './constructs/http-api.ts';
import { Intake } from './constructs/intake.ts';
import { ManifestFunction } from './constructs/manifest-function.ts';
import { Monitoring } from './constructs/monitoring.ts';
import { VobeeTables } from './constructs/tables.ts';
import { TaskQueue } from './constructs/task-queue.ts';
import { Workflows } from './constructs/workflows.ts';
import { alarmTopicArnSetting, type StageSettings } from './settings.ts';

export interface VobeeStackProps extends StackProps {
  settings: StageSettings;
  /** `VOBEE_ALLOWED_PRIVATE_ENDPOINTS` of the functions that call factories. */
  allowedPrivateEndpoints?: string;
}

/** The whole orchestrator in one stack, built from the app manifest and the table definitions. */
export class VobeeStack extends Stack {
  readonly tables: Readonly<Record<TableId, Table>>;
  readonly artifacts: Bucket;
  readonly functions: ReadonlyMap<string, ManifestFunction>;
  readonly api: VobeeHttpApi;
  readonly taskQueue: TaskQueue;
  readonly intake: Intake;
  readonly workflows: Workflows;
  readonly monitoring: Monitoring;

  constructor(scope: Construct, id: string, props: VobeeStackProps) {
    super(scope, id, props);
    const { settings } = props;
    Tags.of(this).add('app', 'vobee');
    Tags.of(this).add('stage', settings.stage);

    this.tables = new VobeeTables(this, 'Tables', settings).byId;
    this.artifacts = new ArtifactBucket(this, 'Artifacts', settings).bucket;

    const functions = new Map<string, ManifestFunction>();
    for (const spec of FUNCTIONS) {
      if (functions.has(spec.id)) throw new Error(`the app manifest has two functions '${spec.id}'`);
      functions.set(
        spec.id,
        new ManifestFunction(this, spec.id, {
          spec,
          settings,
          tables: this.tables,
          artifacts: this.artifacts,
          allowedPrivateEndpoints: props.allowedPrivateEndpoints,
        }),
      );
    }
    this.functions = functions;
    const all = [...functions.values()];

    this.api = new VobeeHttpApi(this, 'Http', { settings, functions: all });
    const worker = onlyConsumerOf(all, 'tasks');
    const senders = all.filter(({ spec }) => spec.sendsTasks).map(({ function: fn }) => fn);
    this.taskQueue = new TaskQueue(this, 'Tasks', {
      settings,
      worker: worker.function,
      workerTimeout: worker.function.timeout ?? Duration.seconds(10),
      senders,
    });
    for (const sender of senders)
      sender.addEnvironment('VOBEE_TASK_QUEUE_URL', this.taskQueue.queue.queueUrl);

    // From the API id, not the stage URL: the stage depends on the routes, which depend on the functions.
    const apiUrl = `https://${this.api.api.apiId}.execute-api.${this.region}.${this.urlSuffix}`;
    worker.function.addEnvironment('VOBEE_CALLBACK_URL', apiUrl);

    const stepFunction = all.find(({ spec }) => spec.workflowStep);
    if (!stepFunction) throw new Error('the app manifest has no workflow step function');
    this.workflows = new Workflows(this, 'Workflows', {
      settings,
      stepFunction,
      managers: all.filter(({ spec }) => spec.managesWorkflows),
      apiUrl,
      artifacts: this.artifacts,
    });

    const intake = onlyConsumerOf(all, 'intake');
    this.intake = new Intake(this, 'Intake', {
      settings,
      consumer: intake.function,
      consumerTimeout: intake.function.timeout ?? Duration.seconds(10),
    });

    for (const { spec, function: fn } of all) {
      if (!spec.schedule) continue;
      new Rule(this, `${spec.id}Schedule`, {
        description: `${spec.id}: ${spec.schedule}`,
        schedule: Schedule.expression(spec.schedule),
        targets: [new LambdaFunction(fn, { retryAttempts: 2, maxEventAge: Duration.hours(1) })],
      });
    }

    // Step Functions tells the default bus of every execution that ends: runs of this stage's
    // state machines (deployed and registered ones share the prefix) have their end kept.
    for (const { spec, function: fn } of all) {
      if (!spec.runEnds) continue;
      new Rule(this, `${spec.id}Events`, {
        description: `${spec.id}: ends of workflow executions`,
        eventPattern: {
          source: ['aws.states'],
          detailType: ['Step Functions Execution Status Change'],
          detail: {
            status: ['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'],
            stateMachineArn: [
              {
                prefix: this.formatArn({
                  service: 'states',
                  resource: 'stateMachine',
                  resourceName: `${settings.prefix}-wf`,
                  arnFormat: ArnFormat.COLON_RESOURCE_NAME,
                }),
              },
            ],
          },
        },
        targets: [new LambdaFunction(fn, { retryAttempts: 8, maxEventAge: Duration.hours(24) })],
      });
    }

    // Last: it alarms on every dead-letter queue made above.
    this.monitoring = new Monitoring(this, 'Monitoring', {
      settings,
      alarmTopicArn: alarmTopicArnSetting(this.node.tryGetContext('alarmTopicArn')),
      api: this.api.api,
      functions: all,
      worker,
      stepFunction,
      workflows: this.workflows.deployed,
      tables: this.tables,
    });

    new CfnOutput(this, 'ApiUrl', { value: this.api.stage.url });
    new CfnOutput(this, 'TaskQueueUrl', { value: this.taskQueue.queue.queueUrl });
    for (const [workflowId, machine] of Object.entries(this.workflows.deployed)) {
      new CfnOutput(this, `${workflowId.replace(/[^A-Za-z0-9]/g, '')}WorkflowArn`, {
        value: machine.stateMachineArn,
      });
    }
    new CfnOutput(this, 'ArtifactBucketName', { value: this.artifacts.bucketName });
    new CfnOutput(this, 'IntakeQueueUrl', { value: this.intake.queue.queueUrl });
    new CfnOutput(this, 'EventBusName', { value: this.intake.bus.eventBusName });
    for (const [tableId, table] of Object.entries(this.tables)) {
      new CfnOutput(this, `${tableId[0]?.toUpperCase()}${tableId.slice(1)}TableName`, {
        value: table.tableName,
      });
    }
  }
}

/** The one function of the manifest that consumes `queue`. */
function onlyConsumerOf(functions: readonly ManifestFunction[], queue: QueueId): ManifestFunction {
  const consumers = functions.filter(({ spec }) => spec.queue === queue);
  if (consumers.length !== 1 || !consumers[0]) {
    throw new Error(`the app manifest needs exactly one ${queue} queue consumer, found ${consumers.length}`);
  }
  return consumers[0];
}

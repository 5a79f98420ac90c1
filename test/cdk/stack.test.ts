import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  DynamoDBClient,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { App, type CfnElement, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { CfnTable } from 'aws-cdk-lib/aws-dynamodb';
import { Runtime } from 'aws-cdk-lib/aws-lambda';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { mockClient } from 'aws-sdk-client-mock';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ArtifactBucket } from '../../cdk/constructs/artifacts.ts';
import { ManifestFunction, NODE_RUNTIME } from '../../cdk/constructs/manifest-function.ts';
import { VobeeTables } from '../../cdk/constructs/tables.ts';
import { Workflows } from '../../cdk/constructs/workflows.ts';
import { stageSettings } from '../../cdk/settings.ts';
import type { VobeeStack } from '../../cdk/vobee-stack.ts';
import { EVENT_BUS_NAME, FUNCTIONS, type FunctionSpec, memoryOf, TASK_REQUESTED } from '../../lib/app.ts';
import { readConfig } from '../../lib/config.ts';
import { generateAndAnalyze } from '../../lib/core/workflow/examples.ts';
import { createTables } from '../../lib/store/create-tables.ts';
import { TABLES, type TableId, tableNames } from '../../lib/store/tables.ts';
import { CDK_JSON_CONTEXT, logicalIdIn, makeApp } from '../helpers/cdk-app.ts';

type Json = Record<string, unknown>;
interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

const READ_ACTIONS = new Set([
  'dynamodb:BatchGetItem',
  'dynamodb:ConditionCheckItem',
  'dynamodb:DescribeTable',
  'dynamodb:GetItem',
  'dynamodb:GetRecords',
  'dynamodb:GetShardIterator',
  'dynamodb:Query',
  'dynamodb:Scan',
]);
const WRITE_ACTIONS = [
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
];

let app: App;
let stack: VobeeStack;
let template: Template;
let resources: Record<string, { Type: string; Properties: Json; DeletionPolicy?: string }>;

beforeAll(() => {
  ({ app, stack } = makeApp());
  template = Template.fromStack(stack);
  resources = template.toJSON().Resources;
});

const logicalId = (construct: IConstruct) => logicalIdIn(stack, construct);
const fn = (id: string) => {
  const found = stack.functions.get(id);
  if (!found) throw new Error(`no function ${id}`);
  return found.function;
};
const arnOf = (id: string) => ({ 'Fn::GetAtt': [logicalId(fn(id)), 'Arn'] });

/** Every Allow statement of the policies attached to a function's role. */
function statementsOf(id: string): Statement[] {
  const role = fn(id).role;
  if (!role) throw new Error(`${id} has no role`);
  const roleId = logicalId(role);
  return Object.values(resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy')
    .filter((r) => JSON.stringify(r.Properties.Roles) === JSON.stringify([{ Ref: roleId }]))
    .flatMap((r) => (r.Properties.PolicyDocument as { Statement: Statement[] }).Statement)
    .filter((s) => s.Effect === 'Allow');
}

const actionsOf = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);

/** The table access a role's policies give, in the manifest's terms. */
function tableAccess(id: string): Partial<Record<TableId, 'read' | 'write'>> {
  const access: Partial<Record<TableId, 'read' | 'write'>> = {};
  for (const tableId of Object.keys(TABLES) as TableId[]) {
    const tableLogicalId = logicalId(stack.tables[tableId]);
    const actions = statementsOf(id)
      .filter((s) => JSON.stringify(s.Resource).includes(`"${tableLogicalId}"`))
      .flatMap(actionsOf);
    if (actions.length === 0) continue;
    access[tableId] = actions.every((a) => READ_ACTIONS.has(a)) ? 'read' : 'write';
  }
  return access;
}

const withRoute = FUNCTIONS.filter((f): f is FunctionSpec & { route: NonNullable<FunctionSpec['route']> } =>
  Boolean(f.route),
);

describe('synthesis', () => {
  it('skips esbuild when bundling-stacks is empty', () => {
    const assembly = app.synth();
    expect(readdirSync(assembly.directory).filter((name) => name.startsWith('asset.'))).toEqual([]);
  });

  it('leaves no cdk-nag AwsSolutions finding unacknowledged', () => {
    const { violations } = new AwsSolutionsChecks().validateScope(app);
    const findings = violations.map(
      (v) => `${v.severity} ${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`,
    );
    expect(findings).toEqual([]);
  });

  it('leaves no error or warning annotation on the stack', () => {
    const messages = app
      .synth()
      .getStackArtifact(stack.artifactId)
      .messages.filter((m) => m.level === 'error' || m.level === 'warning')
      .map((m) => `${m.level} ${m.id}: ${String(m.entry.data)}`);
    expect(messages).toEqual([]);
  });
});

describe('functions', () => {
  it('makes one Lambda function per manifest function', () => {
    template.resourceCountIs('AWS::Lambda::Function', FUNCTIONS.length);
  });

  it('runs the newest Node.js runtime aws-cdk-lib knows', () => {
    const version = (r: Runtime) => Number(/^nodejs(\d+)/.exec(r.name)?.[1] ?? 0);
    const newest = Math.max(...Runtime.ALL.map(version));
    expect(version(NODE_RUNTIME)).toBe(newest);
  });

  it.each(FUNCTIONS.map((f) => [f.id, f] as const))(
    '%s: arm64, traced, sized from the manifest',
    (id, spec) => {
      const environment: Json = {
        POWERTOOLS_SERVICE_NAME: 'vobee',
        POWERTOOLS_METRICS_NAMESPACE: 'VoBee',
        VOBEE_TABLE_PREFIX: 'vobee-dev',
        NODE_OPTIONS: '--enable-source-maps',
      };
      for (const tableId of Object.keys(spec.tables) as TableId[]) {
        environment[`VOBEE_TABLE_${tableId.toUpperCase()}`] = { Ref: logicalId(stack.tables[tableId]) };
      }
      const properties = resources[logicalId(fn(id))]?.Properties;
      expect(properties).toMatchObject({
        Architectures: ['arm64'],
        Runtime: NODE_RUNTIME.name,
        Handler: 'index.handler',
        TracingConfig: { Mode: 'Active' },
        Timeout: spec.timeoutSeconds ?? 10,
        MemorySize: memoryOf(spec),
        LoggingConfig: {
          LogGroup: { Ref: expect.stringMatching(new RegExp(`^${id}Logs`)) },
          LogFormat: 'JSON',
          SystemLogLevel: 'WARN',
        },
        Environment: { Variables: environment },
      });
      const variables = (properties?.Environment as { Variables: Json } | undefined)?.Variables ?? {};
      if (spec.callsFactories) {
        expect(Number(variables.VOBEE_FACTORY_CALL_TIMEOUT_MS)).toBeLessThan(
          (spec.timeoutSeconds ?? 10) * 1000,
        );
      }
      if (spec.sendsTasks) {
        expect(variables.VOBEE_TASK_QUEUE_URL).toEqual({ Ref: logicalId(stack.taskQueue.queue) });
      } else {
        expect(variables).not.toHaveProperty('VOBEE_TASK_QUEUE_URL');
      }
    },
  );

  it('gives every log group a retention', () => {
    for (const group of Object.values(template.findResources('AWS::Logs::LogGroup'))) {
      expect(group.Properties.RetentionInDays).toBeGreaterThan(0);
    }
  });
});

describe('least privilege', () => {
  it.each(FUNCTIONS.map((f) => [f.id, f] as const))(
    '%s: exactly the table access the manifest lists',
    (id, spec) => {
      expect(tableAccess(id)).toEqual(spec.tables);
    },
  );

  it('GetTask only reads the memory table and has nothing on the registry', () => {
    const memory = logicalId(stack.tables.memory);
    const registry = logicalId(stack.tables.registry);
    const statements = statementsOf('GetTask');
    const onMemory = statements.filter((s) => JSON.stringify(s.Resource).includes(`"${memory}"`));
    expect(onMemory.length).toBeGreaterThan(0);
    for (const action of onMemory.flatMap(actionsOf)) expect(READ_ACTIONS).toContain(action);
    expect(JSON.stringify(statements)).not.toContain(registry);
  });

  it('AnalyzePerformance cannot write the registry table', () => {
    const registry = logicalId(stack.tables.registry);
    const actions = statementsOf('AnalyzePerformance')
      .filter((s) => JSON.stringify(s.Resource).includes(`"${registry}"`))
      .flatMap(actionsOf);
    expect(actions.length).toBeGreaterThan(0);
    for (const write of WRITE_ACTIONS) expect(actions).not.toContain(write);
  });

  it.each(FUNCTIONS.map((f) => [f.id, f] as const))(
    '%s: uses Step Functions only if it manages workflows or opens their gates',
    (id, spec) => {
      const states = statementsOf(id).filter((s) => actionsOf(s).some((a) => a.startsWith('states:')));
      if (spec.managesWorkflows) {
        // Workflow managers touch only the workflow state machines (named under the stage's prefix) and task tokens.
        const resources = JSON.stringify(states.map((s) => s.Resource));
        expect(states.flatMap(actionsOf)).not.toContain('states:DeleteStateMachine');
        expect(resources).toContain(':stateMachine:vobee-dev-wf-*');
      } else if (spec.workflowStep) {
        // The step handler only opens gates: SendTaskSuccess on the tokens they park.
        expect(states.flatMap(actionsOf).filter((a) => a.startsWith('states:'))).toEqual([
          'states:SendTaskSuccess',
        ]);
      } else {
        expect(states).toEqual([]);
      }
    },
  );

  it.each(FUNCTIONS.map((f) => [f.id, f] as const))(
    '%s: sends to the task queue only if the manifest says so',
    (id, spec) => {
      const queue = logicalId(stack.taskQueue.queue);
      const sends = statementsOf(id).filter((s) => JSON.stringify(s.Resource).includes(`"${queue}"`));
      if (spec.sendsTasks) {
        expect(sends.flatMap(actionsOf)).toEqual(
          expect.arrayContaining(['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl']),
        );
      }
      const sendActions = sends.flatMap(actionsOf).filter((a) => a === 'sqs:SendMessage');
      expect(sendActions.length > 0).toBe(spec.sendsTasks === true);
    },
  );
  it.each(FUNCTIONS.map((f) => [f.id, f] as const))(
    '%s: reaches the artifact bucket exactly as the manifest says, under the artifacts/ prefix',
    (id, spec) => {
      const bucket = logicalId(stack.artifacts);
      const onBucket = statementsOf(id).filter((s) => JSON.stringify(s.Resource).includes(`"${bucket}"`));
      const objectActions = onBucket.flatMap(actionsOf).filter((a) => a !== 's3:ListBucket');
      const expected = { read: ['s3:GetObject'], write: ['s3:GetObject', 's3:PutObject'] };
      expect(objectActions.sort()).toEqual(spec.artifacts ? expected[spec.artifacts] : []);
      for (const statement of onBucket) expect(JSON.stringify(statement)).toContain('artifacts/*');
      const { Properties } = template.findResources('AWS::Lambda::Function')[logicalId(fn(id))] as {
        Properties: { Environment: { Variables: Record<string, unknown> } };
      };
      const environment = Properties.Environment.Variables;
      expect('VOBEE_ARTIFACT_BUCKET' in environment).toBe(spec.artifacts !== undefined);
    },
  );
});

describe('artifacts', () => {
  it('keeps artifacts in a private, encrypted, TLS-only bucket that expires them and logs access', () => {
    const bucket = logicalId(stack.artifacts);
    const properties = resources[bucket]?.Properties as Record<string, unknown>;
    expect(properties).toMatchObject({
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LifecycleConfiguration: {
        Rules: [
          {
            Prefix: 'artifacts/',
            ExpirationInDays: 30,
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
            Status: 'Enabled',
          },
        ],
      },
      LoggingConfiguration: { DestinationBucketName: expect.anything() },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucket },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('keeps artifacts for a year in the prod stage, and the bucket with the stack gone', () => {
    const prod = Template.fromStack(makeApp({ stage: 'prod' }).stack);
    const [bucket] = Object.values(
      prod.findResources('AWS::S3::Bucket', { Properties: { LifecycleConfiguration: Match.anyValue() } }),
    ).filter((b) => JSON.stringify(b).includes('expire-artifacts'));
    expect(bucket).toMatchObject({
      DeletionPolicy: 'Retain',
      Properties: { LifecycleConfiguration: { Rules: [{ ExpirationInDays: 365 }] } },
    });
  });
});

describe('tables', () => {
  /** What `createTables` asks a local DynamoDB to create, by table name. */
  const localTables = new Map<string, CreateTableCommandInput>();
  beforeAll(async () => {
    const dynamodb = mockClient(DynamoDBClient);
    dynamodb.on(CreateTableCommand).resolves({});
    dynamodb.on(DescribeTableCommand).resolves({ Table: { TableStatus: 'ACTIVE' } });
    dynamodb.on(UpdateTimeToLiveCommand).resolves({});
    try {
      await createTables(new DynamoDBClient({ region: 'us-east-1' }), tableNames('vobee-dev'));
      for (const call of dynamodb.commandCalls(CreateTableCommand)) {
        localTables.set(call.args[0].input.TableName as string, call.args[0].input);
      }
    } finally {
      dynamodb.restore();
    }
    expect([...localTables.keys()].sort()).toEqual(Object.values(tableNames('vobee-dev')).sort());
  });

  it.each(Object.values(TABLES).map((t) => [t.id, t] as const))(
    '%s: on demand, PITR, TTL, indexes, encrypted',
    (id, definition) => {
      const properties = resources[logicalId(stack.tables[id])];
      expect(properties?.DeletionPolicy).toBe('Delete');
      expect(properties?.Properties).toMatchObject({
        TableName: `vobee-dev-${id}`,
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        SSESpecification: { SSEEnabled: true },
        DeletionProtectionEnabled: false,
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
      });
      // The same indexes as the tables `createTables` makes for npm start and the integration tests.
      const indexes = (properties?.Properties.GlobalSecondaryIndexes ?? []) as Json[];
      expect(indexes.map((index) => index.IndexName)).toEqual(
        definition.globalIndexes.map((i) => i.indexName),
      );
      expect(indexes).toEqual(localTables.get(`vobee-dev-${id}`)?.GlobalSecondaryIndexes ?? []);
    },
  );

  it('protects and retains the tables of the prod stage only', () => {
    const { stack: prod } = makeApp({ stage: 'prod' });
    for (const table of Object.values(prod.tables)) {
      const cfn = table.node.defaultChild as CfnTable;
      expect(Stack.of(cfn).resolve(cfn.deletionProtectionEnabled)).toBe(true);
      expect(cfn.cfnOptions.deletionPolicy).toBe('Retain');
      expect(Stack.of(cfn).resolve(cfn.tableName)).toMatch(/^vobee-prod-/);
    }
  });

  it('refuses a stage name that cannot prefix resource names', () => {
    expect(() => makeApp({ stage: 'Prod_1' })).toThrow(/invalid stage/);
  });
});

describe('HTTP API', () => {
  it('has every manifest route, behind IAM authorisation, integrated with its function', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Route', withRoute.length);
    for (const spec of withRoute) {
      const [route] = Object.values(
        template.findResources('AWS::ApiGatewayV2::Route', {
          Properties: { RouteKey: `${spec.route.method} ${spec.route.path}` },
        }),
      );
      expect(route?.Properties.AuthorizationType, spec.id).toBe(spec.route?.public ? 'NONE' : 'AWS_IAM');
      const target = JSON.stringify(route?.Properties.Target);
      const integrationId = /"Ref":"([A-Za-z0-9]+)"/.exec(target)?.[1] ?? '';
      expect(resources[integrationId]?.Properties.IntegrationUri, spec.id).toEqual(arnOf(spec.id));
    }
  });

  it('logs access on the default stage', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      AccessLogSettings: {
        DestinationArn: { 'Fn::GetAtt': [Match.anyValue(), 'Arn'] },
        Format: Match.stringLikeRegexp('\\$context\\.requestId'),
      },
    });
  });
});

describe('intake', () => {
  const queueId = () => logicalId(stack.intake.queue);

  it('sends messages that failed three times to a dead-letter queue', () => {
    expect(resources[queueId()]?.Properties).toMatchObject({
      RedrivePolicy: {
        deadLetterTargetArn: { 'Fn::GetAtt': [logicalId(stack.intake.deadLetterQueue), 'Arn'] },
        maxReceiveCount: 3,
      },
      SqsManagedSseEnabled: true,
    });
  });

  it('refuses requests without TLS on every queue', () => {
    const queues = Object.keys(template.findResources('AWS::SQS::Queue'));
    // Intake, its dead letters, the event rule's dead letters, the task queue and its dead letters.
    expect(queues).toHaveLength(5);
    for (const queue of queues) {
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: queue }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Action: 'sqs:*',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ]),
        },
      });
    }
  });

  it('feeds the intake function with partial batch failure reports', () => {
    const consumer = FUNCTIONS.find((f) => f.queue === 'intake');
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 2);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [queueId(), 'Arn'] },
      FunctionName: { Ref: logicalId(fn(consumer?.id ?? '')) },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('routes TaskRequested events from the bus to the queue, with a dead-letter queue', () => {
    template.hasResourceProperties('AWS::Events::EventBus', { Name: `${EVENT_BUS_NAME}-dev` });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: { Ref: logicalId(stack.intake.bus) },
      EventPattern: { source: [TASK_REQUESTED.source], 'detail-type': [TASK_REQUESTED.detailType] },
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [queueId(), 'Arn'] },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.anyValue(), 'Arn'] } },
        }),
      ],
    });
  });
});

describe('schedules', () => {
  it.each(FUNCTIONS.filter((f) => f.schedule).map((f) => [f.id, f] as const))(
    '%s runs on its schedule',
    (id, spec) => {
      template.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: spec.schedule,
        Targets: [Match.objectLike({ Arn: arnOf(id) })],
      });
      template.hasResourceProperties('AWS::Lambda::Permission', {
        Action: 'lambda:InvokeFunction',
        FunctionName: arnOf(id),
        Principal: 'events.amazonaws.com',
      });
    },
  );
});

describe('ends of workflow runs', () => {
  it("sends the ends of this stage's executions to the function that keeps them", () => {
    const spec = FUNCTIONS.find((f) => f.runEnds);
    expect(spec?.id).toBe('RecordRunEnd');
    const rules = Object.values(template.findResources('AWS::Events::Rule')).filter(
      (rule) => rule.Properties.EventPattern?.source?.[0] === 'aws.states',
    );
    expect(rules).toHaveLength(1);
    const pattern = rules[0]?.Properties.EventPattern;
    expect(pattern['detail-type']).toEqual(['Step Functions Execution Status Change']);
    expect(pattern.detail.status).toEqual(['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED']);
    // Prefixed by this stage's state machines, deployed and registered alike.
    const prefix = /:stateMachine:([a-z0-9-]+-wf)/.exec(JSON.stringify(pattern.detail.stateMachineArn))?.[1];
    expect(prefix).toBeDefined();
    expect(rules[0]?.Properties.Targets).toEqual([
      expect.objectContaining({ Arn: arnOf('RecordRunEnd'), RetryPolicy: expect.anything() }),
    ]);
    for (const machine of Object.values(stack.workflows.deployed)) {
      expect(resources[logicalId(machine)]?.Properties.StateMachineName).toMatch(new RegExp(`^${prefix}-`));
    }
  });
});

describe('task queue', () => {
  const queueId = () => logicalId(stack.taskQueue.queue);

  it('sends messages that failed three times to a dead-letter queue, after six times the worker timeout', () => {
    const worker = FUNCTIONS.find((f) => f.queue === 'tasks');
    expect(resources[queueId()]?.Properties).toMatchObject({
      RedrivePolicy: {
        deadLetterTargetArn: { 'Fn::GetAtt': [logicalId(stack.taskQueue.deadLetterQueue), 'Arn'] },
        maxReceiveCount: 3,
      },
      SqsManagedSseEnabled: true,
      VisibilityTimeout: (worker?.timeoutSeconds ?? 10) * 6,
    });
  });

  it('feeds the worker in batches of ten with partial batch failure reports', () => {
    const worker = FUNCTIONS.find((f) => f.queue === 'tasks');
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [queueId(), 'Arn'] },
      FunctionName: { Ref: logicalId(fn(worker?.id ?? '')) },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: 10,
    });
  });

  it('tells the worker where callbacks go', () => {
    const worker = FUNCTIONS.find((f) => f.queue === 'tasks');
    const variables = resources[logicalId(fn(worker?.id ?? ''))]?.Properties.Environment as {
      Variables: Json;
    };
    expect(JSON.stringify(variables.Variables.VOBEE_CALLBACK_URL)).toContain('execute-api');
  });

  it('runs no state machine for single tasks: the only state machines are the workflows', () => {
    const machines = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
    const templates = readdirSync(resolve(import.meta.dirname, '../../cdk/workflows')).filter((f) =>
      f.endsWith('.json'),
    );
    expect(machines).toHaveLength(templates.length);
  });
});

describe('outputs', () => {
  it('exports the API URL, queues, bus and table names', () => {
    const outputs = Object.keys(template.toJSON().Outputs);
    expect(outputs).toEqual(
      expect.arrayContaining([
        'ApiUrl',
        'TaskQueueUrl',
        'IntakeQueueUrl',
        'EventBusName',
        'MemoryTableName',
        'PatternsTableName',
        'RegistryTableName',
      ]),
    );
  });
});

describe('workflows', () => {
  const templates = readdirSync(resolve(import.meta.dirname, '../../cdk/workflows')).filter((f) =>
    f.endsWith('.json'),
  );

  const managers = FUNCTIONS.filter((f) => f.managesWorkflows);
  const variablesOf = (target: VobeeStack, id: string) => {
    const found = target.functions.get(id)?.function;
    if (!found) throw new Error(`no function ${id}`);
    const properties = Template.fromStack(target).toJSON().Resources[
      target.getLogicalId(found.node.defaultChild as CfnElement)
    ]?.Properties as { Environment: { Variables: Json } };
    return properties.Environment.Variables;
  };

  it('deploys a state machine per template in cdk/workflows, logging errors without execution data, traced', () => {
    expect(Object.keys(stack.workflows.deployed).sort()).toEqual(
      templates.map((f) => f.replace(/\.json$/, '')).sort(),
    );
    for (const [workflowId, machine] of Object.entries(stack.workflows.deployed)) {
      const resource = resources[logicalId(machine)];
      expect(resource?.Properties.StateMachineName).toBe(`vobee-dev-wf-${workflowId}`);
      expect(resource?.Properties.StateMachineType).toBe('STANDARD');
      expect(resource?.Properties.TracingConfiguration).toEqual({ Enabled: true });
      expect(resource?.Properties.LoggingConfiguration).toMatchObject({
        Level: 'ERROR',
        IncludeExecutionData: false,
      });
    }
  });

  it('lets a workflow with a Distributed Map start its item executions and use the artifact bucket, and no other', () => {
    const roleStatements = (machine: StateMachine) => {
      const roleId = logicalId(machine.role);
      return Object.values(resources)
        .filter((r) => r.Type === 'AWS::IAM::Policy')
        .filter((r) => JSON.stringify(r.Properties.Roles).includes(`"${roleId}"`))
        .flatMap((r) => (r.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
    };
    const fanOut = stack.workflows.deployed['product-image-set'] as StateMachine;
    const granted = JSON.stringify(roleStatements(fanOut));
    expect(granted).toContain('states:StartExecution');
    expect(granted).toContain(':stateMachine:vobee-dev-wf-product-image-set');
    expect(granted).toContain('s3:GetObject');
    expect(granted).toContain('/artifacts/map-runs/*');
    const plain = JSON.stringify(
      roleStatements(stack.workflows.deployed['generate-and-analyze'] as StateMachine),
    );
    expect(plain).not.toContain('states:StartExecution');
    expect(plain).not.toContain('s3:');
  });

  it('tells the managers where and how run-time workflows log: one log group, ERROR, no execution data', () => {
    const group = resources[logicalId(stack.workflows.runtimeLogGroup)];
    expect(group?.Properties.LogGroupName).toBe('/aws/vendedlogs/states/vobee-dev-wf/registered');
    expect(group?.Properties.RetentionInDays).toBeGreaterThan(0);
    expect(managers.length).toBeGreaterThan(0);
    for (const spec of managers) {
      expect(variablesOf(stack, spec.id)).toMatchObject({
        VOBEE_WORKFLOW_LOG_GROUP_ARN: { 'Fn::GetAtt': [logicalId(stack.workflows.runtimeLogGroup), 'Arn'] },
        VOBEE_WORKFLOW_LOG_LEVEL: 'ERROR',
        VOBEE_WORKFLOW_LOG_EXECUTION_DATA: 'false',
      });
    }
    for (const spec of FUNCTIONS.filter((f) => !f.managesWorkflows)) {
      expect(variablesOf(stack, spec.id)).not.toHaveProperty('VOBEE_WORKFLOW_LOG_GROUP_ARN');
    }
  });

  it('lets the managers and the run-time role set up log delivery, and the managers read a machine type', () => {
    const roleActions = Object.values(resources)
      .filter(
        (r) =>
          r.Type === 'AWS::IAM::Policy' &&
          JSON.stringify(r.Properties.Roles) ===
            JSON.stringify([{ Ref: logicalId(stack.workflows.runtimeRole) }]),
      )
      .flatMap((p) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement)
      .flatMap(actionsOf);
    expect(roleActions).toEqual(expect.arrayContaining(['logs:CreateLogDelivery', 'logs:GetLogDelivery']));
    for (const spec of managers) {
      const actions = statementsOf(spec.id).flatMap(actionsOf);
      expect(actions).toEqual(
        expect.arrayContaining([
          'logs:CreateLogDelivery',
          'logs:PutResourcePolicy',
          'states:DescribeStateMachine',
        ]),
      );
    }
  });

  it('logs everything, with execution data, when the context asks', () => {
    const { stack: verbose } = makeApp({ workflowLogLevel: 'ALL', workflowLogExecutionData: 'true' });
    const verboseResources = Template.fromStack(verbose).toJSON().Resources as typeof resources;
    for (const machine of Object.values(verbose.workflows.deployed)) {
      const id = verbose.getLogicalId(machine.node.defaultChild as CfnElement);
      expect(verboseResources[id]?.Properties.LoggingConfiguration).toMatchObject({
        Level: 'ALL',
        IncludeExecutionData: true,
      });
    }
    for (const spec of managers) {
      expect(variablesOf(verbose, spec.id)).toMatchObject({
        VOBEE_WORKFLOW_LOG_LEVEL: 'ALL',
        VOBEE_WORKFLOW_LOG_EXECUTION_DATA: 'true',
      });
    }
  });

  it("lets a stage ask for Lambda's own log lines", () => {
    const { stack: verbose } = makeApp({ functionSystemLogLevel: 'info' });
    const functions = Object.values(Template.fromStack(verbose).findResources('AWS::Lambda::Function'));
    expect(functions.length).toBeGreaterThan(0);
    for (const fn of functions) expect(fn.Properties.LoggingConfig).toMatchObject({ SystemLogLevel: 'INFO' });
    expect(() => makeApp({ functionSystemLogLevel: 'TRACE' })).toThrow(
      "invalid functionSystemLogLevel 'TRACE': use one of DEBUG, INFO, WARN",
    );
  });

  it('refuses workflow log settings it does not know, naming the setting', () => {
    expect(() => makeApp({ workflowLogLevel: 'VERBOSE' })).toThrow(
      "invalid workflowLogLevel 'VERBOSE': use one of OFF, ERROR, FATAL, ALL",
    );
    expect(() => makeApp({ workflowLogExecutionData: 'yes' })).toThrow(
      "invalid workflowLogExecutionData 'yes': use true or false",
    );
  });

  it('deploys an express template as an Express state machine', () => {
    const expressApp = new App({ context: { ...CDK_JSON_CONTEXT, 'aws:cdk:bundling-stacks': [] } });
    const scope = new Stack(expressApp, 'ExpressWorkflows');
    const settings = stageSettings('dev');
    const tables = new VobeeTables(scope, 'Tables', settings).byId;
    const artifacts = new ArtifactBucket(scope, 'Artifacts', settings).bucket;
    const manifestFunction = (spec: FunctionSpec | undefined) => {
      if (!spec) throw new Error('the manifest lacks a workflow function');
      return new ManifestFunction(scope, spec.id, { spec, settings, tables, artifacts });
    };
    const { timeout: _, ...untimed } = generateAndAnalyze;
    const workflows = new Workflows(scope, 'Workflows', {
      settings,
      stepFunction: manifestFunction(FUNCTIONS.find((f) => f.workflowStep)),
      managers: [manifestFunction(managers[0])],
      apiUrl: 'https://api.example.test',
      templates: [{ ...untimed, engine: 'express' }],
      artifacts,
    });
    const machine = workflows.deployed[generateAndAnalyze.workflow_id];
    if (!machine) throw new Error('the express template was not deployed');
    const properties = Template.fromStack(scope).toJSON().Resources[
      scope.getLogicalId(machine.node.defaultChild as CfnElement)
    ]?.Properties as Json;
    expect(properties.StateMachineType).toBe('EXPRESS');
    expect(properties.LoggingConfiguration).toMatchObject({ Level: 'ERROR', IncludeExecutionData: false });
    const { violations } = new AwsSolutionsChecks().validateScope(expressApp);
    expect(violations.map((v) => v.ruleName)).toEqual([]);
  });

  it('ships the design examples unchanged as deployable templates', async () => {
    const { exampleWorkflows } = await import('../../lib/core/workflow/examples.ts');
    expect(Object.keys(exampleWorkflows).length).toBeGreaterThan(0);
    for (const [workflowId, example] of Object.entries(exampleWorkflows)) {
      const template = JSON.parse(
        readFileSync(resolve(import.meta.dirname, '../../cdk/workflows', `${workflowId}.json`), 'utf8'),
      );
      expect(template).toEqual(example);
    }
  });

  it("tells the managers each deployed workflow's declared inputs, without their descriptions", () => {
    for (const spec of managers) {
      // The ARNs are tokens: the variable is a join of JSON text around them.
      const variable = variablesOf(stack, spec.id).VOBEE_DEPLOYED_WORKFLOWS as {
        'Fn::Join': [string, unknown[]];
      };
      const text = variable['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : 'arn')).join('');
      const deployed = readConfig({ VOBEE_DEPLOYED_WORKFLOWS: text }).deployedWorkflows;
      expect(Object.keys(deployed).sort()).toEqual(templates.map((f) => f.replace(/\.json$/, '')).sort());
      expect(deployed['technology-radar']?.inputs).toEqual({
        topic: { type: 'string', default: 'on-device ai language models' },
        limit: { type: 'integer', default: 3 },
        sector: { type: 'string', default: 'technology' },
      });
      expect(deployed['launch-teaser']?.inputs?.product_name).toEqual({ type: 'string' });
      expect(deployed['generate-and-analyze']).not.toHaveProperty('inputs');
    }
  });

  it("keeps each manager's environment within Lambda's 4 KB, counting 100 characters for each ARN", () => {
    const length = (value: unknown): number =>
      typeof value === 'string'
        ? value.length
        : typeof value === 'object' && value !== null && 'Fn::Join' in value
          ? (value['Fn::Join'] as [string, unknown[]])[1].reduce<number>((sum, part) => sum + length(part), 0)
          : 100;
    for (const spec of managers) {
      const variables = Object.entries(variablesOf(stack, spec.id));
      expect(variables.reduce((sum, [name, value]) => sum + name.length + length(value), 0)).toBeLessThan(
        4_096,
      );
    }
  });

  it('lets run-time workflow state machines invoke the step handler and nothing else', () => {
    const roleId = logicalId(stack.workflows.runtimeRole);
    const statements = Object.values(resources)
      .filter(
        (r) =>
          r.Type === 'AWS::IAM::Policy' &&
          JSON.stringify(r.Properties.Roles) === JSON.stringify([{ Ref: roleId }]),
      )
      .flatMap(
        (p) => (p.Properties.PolicyDocument as { Statement: Array<{ Action: string | string[] }> }).Statement,
      );
    const invoke = statements.filter((s) => JSON.stringify(s.Action).includes('lambda:'));
    expect(JSON.stringify(invoke)).toContain(logicalId(fn('RunWorkflowStep')));
    for (const other of FUNCTIONS.filter((f) => !f.workflowStep)) {
      expect(JSON.stringify(invoke)).not.toContain(logicalId(fn(other.id)));
    }
  });
});

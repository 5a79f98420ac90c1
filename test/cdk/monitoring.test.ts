import { Template } from 'aws-cdk-lib/assertions';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ALARM_THRESHOLDS,
  APP_METRICS,
  factoryFailureRateQuery,
  registeredRunsFailedQuery,
} from '../../cdk/constructs/monitoring.ts';
import { alarmTopicArnSetting } from '../../cdk/settings.ts';
import type { VobeeStack } from '../../cdk/vobee-stack.ts';
import {
  FACTORY_SERVICE_DIMENSION,
  OUTCOME_METRICS,
  WORKFLOW_DIMENSION,
} from '../../lib/handler/outcome-metrics.ts';
import { logicalIdIn, makeApp } from '../helpers/cdk-app.ts';

type Json = Record<string, unknown>;
interface Resource {
  Type: string;
  Properties: Json;
}
interface MetricQuery {
  Id: string;
  Expression?: string;
  MetricStat?: { Metric: { Namespace: string; MetricName: string; Dimensions: Json[] }; Stat: string };
}

const TOPIC_ARN = 'arn:aws:sns:eu-west-1:123456789012:vobee-alarms';

/** A synthesized stage: its app, stack, template resources and alarms. */
function synthesize(context: Record<string, unknown> = {}) {
  const { app, stack } = makeApp(context);
  const resources = Template.fromStack(stack).toJSON().Resources as Record<string, Resource>;
  const alarms = Object.values(resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm');
  return { app, stack, resources, alarms };
}

const getAttId = (value: unknown) =>
  (value as { 'Fn::GetAtt'?: [string, string] } | undefined)?.['Fn::GetAtt']?.[0];
const queriesOf = (alarm: Resource) => (alarm.Properties.Metrics ?? []) as MetricQuery[];
const expressionOf = (alarm: Resource) => queriesOf(alarm).find((q) => q.Expression)?.Expression ?? '';
const metricNamesOf = (alarm: Resource) =>
  queriesOf(alarm).flatMap((q) => (q.MetricStat ? [q.MetricStat.Metric.MetricName] : []));

let stack: VobeeStack;
let resources: Record<string, Resource>;
let alarms: Resource[];
const logicalId = (construct: IConstruct) => logicalIdIn(stack, construct);

beforeAll(() => {
  ({ stack, resources, alarms } = synthesize());
});

describe('alarms', () => {
  it('alarms once on each dead-letter queue: of queues and of EventBridge targets', () => {
    const fromQueues = Object.values(resources)
      .filter((r) => r.Type === 'AWS::SQS::Queue')
      .map((r) => getAttId((r.Properties.RedrivePolicy as Json | undefined)?.deadLetterTargetArn));
    const fromRules = Object.values(resources)
      .filter((r) => r.Type === 'AWS::Events::Rule')
      .flatMap((r) => (r.Properties.Targets ?? []) as Array<{ DeadLetterConfig?: { Arn: unknown } }>)
      .map((target) => getAttId(target.DeadLetterConfig?.Arn));
    const deadLetterQueues = new Set([...fromQueues, ...fromRules].filter((id) => id !== undefined));
    expect(deadLetterQueues.size).toBe(3);

    const queueAlarms = alarms.filter((a) => a.Properties.Namespace === 'AWS/SQS');
    expect(queueAlarms).toHaveLength(deadLetterQueues.size);
    for (const queue of deadLetterQueues) {
      const watching = queueAlarms.filter((a) =>
        (a.Properties.Dimensions as Json[]).some((d) => getAttId(d.Value) === queue),
      );
      expect(watching, queue).toHaveLength(1);
      expect(watching[0]?.Properties).toMatchObject({
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Statistic: 'Maximum',
        Period: 300,
        Threshold: ALARM_THRESHOLDS.deadLetterMessages,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
      });
    }
  });

  it('alarms on failed or timed-out runs of each workflow deployed with the stack', () => {
    const machines = Object.entries(stack.workflows.deployed);
    expect(machines.length).toBeGreaterThan(0);
    for (const [workflowId, machine] of machines) {
      const watching = alarms.filter((alarm) =>
        queriesOf(alarm).some(
          (q) =>
            JSON.stringify(q.MetricStat?.Metric.Dimensions) ===
            JSON.stringify([{ Name: 'StateMachineArn', Value: { Ref: logicalId(machine) } }]),
        ),
      );
      expect(watching, workflowId).toHaveLength(1);
      const [alarm] = watching as [Resource];
      expect(metricNamesOf(alarm).sort()).toEqual(['ExecutionsFailed', 'ExecutionsTimedOut']);
      expect(expressionOf(alarm)).toBe('FILL(failed, 0) + FILL(timedOut, 0)');
      expect(alarm.Properties).toMatchObject({
        Threshold: ALARM_THRESHOLDS.workflowFailures,
        EvaluationPeriods: 1,
      });
    }
  });

  it('alarms per workflow on failed runs of the workflows registered at run time, leaving out the deployed ones', () => {
    const deployed = Object.keys(stack.workflows.deployed);
    const [alarm, ...others] = alarms.filter((a) =>
      expressionOf(a).includes(OUTCOME_METRICS.workflowRunsFailed),
    );
    expect(others).toEqual([]);
    const query = expressionOf(alarm as Resource);
    expect(query).toBe(registeredRunsFailedQuery(deployed));
    expect(query).toMatch(
      new RegExp(
        `^SELECT SUM\\(WorkflowRunsFailed\\) FROM SCHEMA\\(VoBee, service, ${WORKFLOW_DIMENSION}\\) WHERE `,
      ),
    );
    expect(query).toMatch(/ GROUP BY workflow$/);
    for (const id of deployed) expect(query).toContain(`workflow != '${id}'`);
    expect(queriesOf(alarm as Resource)[0]).toMatchObject({ Period: 300, ReturnData: true });
  });

  it('alarms on the API 5xx rate, in percent of requests, when there are enough requests to judge', () => {
    const [alarm, ...others] = alarms.filter((a) => metricNamesOf(a).includes('5xx'));
    expect(others).toEqual([]);
    const api = { Ref: logicalId(stack.api.api) };
    const stats = queriesOf(alarm as Resource).flatMap((q) => (q.MetricStat ? [q.MetricStat] : []));
    expect(stats).toEqual(
      ['5xx', 'Count'].map((name) => ({
        Metric: {
          Namespace: 'AWS/ApiGateway',
          MetricName: name,
          Dimensions: [{ Name: 'ApiId', Value: api }],
        },
        Period: 300,
        Stat: 'Sum',
      })),
    );
    expect(expressionOf(alarm as Resource)).toBe(
      `IF(requests >= ${ALARM_THRESHOLDS.apiMinimumRequests}, 100 * FILL(errors, 0) / requests, 0)`,
    );
    expect(alarm?.Properties).toMatchObject({
      Threshold: ALARM_THRESHOLDS.apiServerErrorPercent,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 2,
    });
  });

  it('alarms on the failure rate of each factory service with one Metrics Insights query grouped by service', () => {
    const [alarm, ...others] = alarms.filter((a) =>
      expressionOf(a).includes(OUTCOME_METRICS.factoryCallFailures),
    );
    expect(others).toEqual([]);
    expect(expressionOf(alarm as Resource)).toBe(
      `SELECT AVG(${OUTCOME_METRICS.factoryCallFailures}) FROM SCHEMA(VoBee, ${FACTORY_SERVICE_DIMENSION}, service) GROUP BY ${FACTORY_SERVICE_DIMENSION}`,
    );
    expect(expressionOf(alarm as Resource)).toBe(factoryFailureRateQuery());
    expect(alarm?.Properties).toMatchObject({
      Threshold: ALARM_THRESHOLDS.factoryFailureRate,
      EvaluationPeriods: 3,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });

  it('queries the metrics by the names, namespace and service the functions publish them with', () => {
    expect(APP_METRICS).toMatchObject({
      factoryCalls: OUTCOME_METRICS.factoryCalls,
      factoryCallFailures: OUTCOME_METRICS.factoryCallFailures,
      workflowRunsFailed: OUTCOME_METRICS.workflowRunsFailed,
      factoryServiceDimension: FACTORY_SERVICE_DIMENSION,
      workflowDimension: WORKFLOW_DIMENSION,
    });
    for (const id of ['TaskWorker', 'RunWorkflowStep']) {
      const fn = stack.functions.get(id)?.function as IConstruct;
      const environment = resources[logicalId(fn)]?.Properties.Environment as { Variables: Json } | undefined;
      expect(environment?.Variables).toMatchObject({
        POWERTOOLS_METRICS_NAMESPACE: APP_METRICS.namespace,
        POWERTOOLS_SERVICE_NAME: APP_METRICS.service,
      });
    }
  });

  it('makes the alarms without actions when no alarm topic is set', () => {
    expect(alarms).toHaveLength(stack.monitoring.alarms.length);
    for (const alarm of alarms) {
      expect(alarm.Properties.AlarmActions).toBeUndefined();
      expect(alarm.Properties.OKActions).toBeUndefined();
    }
  });

  describe('with an alarm topic', () => {
    let withTopic: ReturnType<typeof synthesize>;
    beforeAll(() => {
      withTopic = synthesize({ alarmTopicArn: TOPIC_ARN });
    });

    it('makes every alarm notify the topic when it goes into alarm and when it is OK again', () => {
      expect(withTopic.alarms).toHaveLength(alarms.length);
      for (const alarm of withTopic.alarms) {
        expect(alarm.Properties.AlarmActions).toEqual([TOPIC_ARN]);
        expect(alarm.Properties.OKActions).toEqual([TOPIC_ARN]);
      }
    });

    it('leaves no cdk-nag AwsSolutions finding and no warning unacknowledged', () => {
      const { violations } = new AwsSolutionsChecks().validateScope(withTopic.app);
      expect(violations.map((v) => v.ruleName)).toEqual([]);
      const messages = withTopic.app
        .synth()
        .getStackArtifact(withTopic.stack.artifactId)
        .messages.filter((m) => m.level === 'error' || m.level === 'warning');
      expect(messages.map((m) => `${m.id}: ${String(m.entry.data)}`)).toEqual([]);
    });
  });

  it('treats an empty alarmTopicArn as none, and refuses one that is not a standard SNS topic ARN', () => {
    expect(alarmTopicArnSetting(undefined)).toBeUndefined();
    expect(alarmTopicArnSetting('')).toBeUndefined();
    expect(alarmTopicArnSetting(TOPIC_ARN)).toBe(TOPIC_ARN);
    for (const bad of ['vobee-alarms', 'arn:aws:sqs:eu-west-1:123456789012:q', `${TOPIC_ARN}.fifo`, 42]) {
      expect(() => alarmTopicArnSetting(bad), String(bad)).toThrow(/invalid alarmTopicArn/);
    }
  });
});

describe('a dead-letter queue added after the alarms', () => {
  it('fails the synth, naming the queue', () => {
    const { app, stack: late } = makeApp();
    const deadLetterQueue = new Queue(late, 'LateDeadLetterQueue', { enforceSSL: true });
    new Queue(late, 'LateQueue', {
      enforceSSL: true,
      deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: 3 },
    });
    expect(() => app.synth()).toThrow(/the dead-letter queue LateDeadLetterQueue has no alarm/);
  });
});

describe('dashboard', () => {
  /** The dashboard's widgets, with every token replaced by the logical id (and attribute) it names. */
  function widgets(): Array<{ type: string; properties: Json }> {
    const [dashboard, ...others] = Object.values(resources).filter(
      (r) => r.Type === 'AWS::CloudWatch::Dashboard',
    );
    expect(others).toEqual([]);
    const body = dashboard?.Properties.DashboardBody as { 'Fn::Join': [string, unknown[]] };
    const text = body['Fn::Join'][1]
      .map((part) => {
        if (typeof part === 'string') return part;
        const { Ref, 'Fn::GetAtt': getAtt } = part as { Ref?: string; 'Fn::GetAtt'?: string[] };
        return Ref ?? getAtt?.join('.') ?? 'TOKEN';
      })
      .join('');
    return (JSON.parse(text) as { widgets: Array<{ type: string; properties: Json }> }).widgets;
  }
  const graphTitled = (title: string) => {
    const widget = widgets().find((w) => w.properties.title === title);
    expect(widget, title).toBeDefined();
    return JSON.stringify(widget?.properties.metrics);
  };

  it('shows every alarm', () => {
    const alarmWidget = widgets().find((w) => w.properties.title === 'Alarms');
    expect(alarmWidget?.properties.alarms).toHaveLength(stack.monitoring.alarms.length);
  });

  it('shows tasks submitted, succeeded and failed, and factory calls in all and per service', () => {
    const tasks = graphTitled('Tasks');
    for (const name of ['TaskSubmitted', 'TaskSucceeded', 'TaskFailed']) {
      expect(tasks).toContain(`["VoBee","${name}","service","vobee"`);
    }
    const calls = graphTitled('Factory calls');
    expect(calls).toContain('"FactoryCalls"');
    expect(calls).toContain(`MetricName=\\"${OUTCOME_METRICS.factoryCalls}\\"`);
    expect(graphTitled('Factory call failure rate per service')).toContain(factoryFailureRateQuery());
  });

  it('shows workflow runs started, succeeded and failed, and failed runs per workflow', () => {
    const runs = graphTitled('Deployed workflow runs');
    for (const name of [
      'ExecutionsStarted',
      'ExecutionsSucceeded',
      'ExecutionsFailed',
      'ExecutionsTimedOut',
    ]) {
      expect(runs).toContain(`"AWS/States","${name}"`);
    }
    for (const machine of Object.values(stack.workflows.deployed)) expect(runs).toContain(logicalId(machine));
    expect(graphTitled('Failed runs per workflow (step handler)')).toContain(
      OUTCOME_METRICS.workflowRunsFailed,
    );
  });

  it('shows p95 latency of the task worker, the workflow step and the API', () => {
    const durations = graphTitled('Function duration p95 (ms)');
    for (const id of ['TaskWorker', 'RunWorkflowStep']) {
      expect(durations).toContain(
        `"Duration","FunctionName","${logicalId(stack.functions.get(id)?.function as IConstruct)}"`,
      );
    }
    expect(durations.match(/"stat":"p95"/g)).toHaveLength(2);
    expect(graphTitled('API latency p95 (ms)')).toMatch(/"Latency","ApiId","[^"]+".*"stat":"p95"/);
    expect(graphTitled('API 5xx rate (%)')).toContain('IF(requests >= ');
  });

  it('shows what the bill counts: requests, invocations, GB-seconds, state transitions, DynamoDB capacity', () => {
    const requests = graphTitled('Requests (billed)');
    expect(requests).toContain('"Count","ApiId"');
    expect(requests.match(/"Invocations"/g)?.length).toBeGreaterThanOrEqual(stack.functions.size);
    const compute = graphTitled('Lambda compute (GB-s)');
    expect(compute.match(/"Duration"/g)).toHaveLength(stack.functions.size);
    expect(graphTitled('State transitions (account and region)')).toContain(
      '"AWS/States","ConsumedCapacity","ServiceMetric","StateTransition"',
    );
    const capacity = graphTitled('DynamoDB consumed capacity');
    for (const table of Object.values(stack.tables)) {
      expect(capacity).toContain(`"ConsumedReadCapacityUnits","TableName","${logicalId(table)}"`);
      expect(capacity).toContain(`"ConsumedWriteCapacityUnits","TableName","${logicalId(table)}"`);
    }
  });
});

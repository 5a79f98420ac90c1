import { Duration, Stack } from 'aws-cdk-lib';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  Alarm,
  AlarmStatusWidget,
  type CfnDashboard,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  MathExpression,
  Metric,
  SearchExpression,
  Stats,
  TextWidget,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import { CfnRule } from 'aws-cdk-lib/aws-events';
import { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { type ITopic, Topic } from 'aws-cdk-lib/aws-sns';
import { type IQueue, Queue } from 'aws-cdk-lib/aws-sqs';
import { type StateMachine, StateTransitionMetric } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct, type IConstruct } from 'constructs';
import { memoryOf } from '../../lib/app.ts';
import type { StageSettings } from '../settings.ts';
import type { ManifestFunction } from './manifest-function.ts';

/**
 * The application's own metrics, as the functions publish them (Powertools EMF): the namespace
 * and service of `POWERTOOLS_METRICS_NAMESPACE` and `POWERTOOLS_SERVICE_NAME`, and the names of
 * the per-service and per-workflow metrics of `lib/handler/outcome-metrics.ts` (the tests check
 * both sides agree).
 */
export const APP_METRICS = {
  namespace: 'VoBee',
  service: 'vobee',
  factoryServiceDimension: 'factory_service',
  workflowDimension: 'workflow',
  factoryCalls: 'FactoryCallsByService',
  factoryCallFailures: 'FactoryCallFailuresByService',
  workflowRunsFailed: 'WorkflowRunsFailed',
} as const;

/** When each alarm fires; every alarm looks at 5-minute periods. */
export const ALARM_THRESHOLDS = {
  /** Messages visible in a dead-letter queue (maximum over the period). */
  deadLetterMessages: 1,
  /** Failed plus timed-out executions of one workflow in a period. */
  workflowFailures: 1,
  /** 5xx answers in percent of the API's requests, in 2 periods of 3... */
  apiServerErrorPercent: 5,
  /** ...with at least this many requests in the period (fewer are not judged). */
  apiMinimumRequests: 20,
  /** Failed calls in proportion of one service's settled calls, in 3 periods running. */
  factoryFailureRate: 0.25,
} as const;

const PERIOD = Duration.minutes(5);

export interface MonitoringProps {
  settings: StageSettings;
  /** An SNS topic (standard, same region) that every alarm notifies; without it, alarms have no actions. */
  alarmTopicArn?: string | undefined;
  api: HttpApi;
  /** Every function of the manifest. */
  functions: readonly ManifestFunction[];
  /** The task queue's worker and the workflow step handler, whose latency the dashboard shows. */
  worker: ManifestFunction;
  stepFunction: ManifestFunction;
  /** The workflows deployed with the stack, by workflow id. */
  workflows: Readonly<Record<string, StateMachine>>;
  tables: Readonly<Record<string, Table>>;
}

/**
 * Alarms and a dashboard. Alarms watch every dead-letter queue of the stack, failed or timed-out
 * workflow runs, the API's 5xx rate and each factory service's failure rate; each notifies the
 * stage's alarm topic (`alarmTopicArn`) when it goes into alarm and when it is OK again. The
 * dashboard shows tasks, factory calls, workflow runs, latency and what drives the bill.
 *
 * Build it last: it finds the dead-letter queues in the stack, and a validation fails the synth if
 * one added later has no alarm.
 */
export class Monitoring extends Construct {
  readonly alarms: Alarm[] = [];
  readonly deadLetterAlarms = new Map<IQueue, Alarm>();
  /** Per deployed workflow, by workflow id. */
  readonly workflowAlarms: Record<string, Alarm> = {};
  readonly registeredWorkflowsAlarm: Alarm;
  readonly apiServerErrorAlarm: Alarm;
  readonly factoryFailureAlarm: Alarm;
  readonly dashboard: Dashboard;
  readonly #prefix: string;
  readonly #topic: ITopic | undefined;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.#prefix = props.settings.prefix;
    this.#topic = props.alarmTopicArn
      ? Topic.fromTopicArn(this, 'AlarmTopic', props.alarmTopicArn)
      : undefined;

    for (const queue of deadLetterQueuesIn(stack)) {
      const name = pathIn(stack, queue);
      this.deadLetterAlarms.set(
        queue,
        this.#alarm(`DeadLetters${name.replace(/[^A-Za-z0-9]/g, '')}`, {
          name: `dead-letters-${name.replace(/\//g, '-')}`,
          description: `Messages in the dead-letter queue ${name}: work that failed every delivery waits there to be looked at and redriven.`,
          metric: queue.metricApproximateNumberOfMessagesVisible({
            statistic: Stats.MAXIMUM,
            period: PERIOD,
          }),
          threshold: ALARM_THRESHOLDS.deadLetterMessages,
        }),
      );
    }
    this.node.addValidation({
      validate: () =>
        deadLetterQueuesIn(stack)
          .filter((queue) => !this.deadLetterAlarms.has(queue))
          .map(
            (queue) =>
              `the dead-letter queue ${pathIn(stack, queue)} has no alarm: build Monitoring after it`,
          ),
    });

    // Workflows. Step Functions' own metrics see every way a run ends badly (a step that failed,
    // the run's time limit, an error of the definition), but only for the state machines known at
    // deploy: one alarm each. State machines registered through the API are created by a function
    // at run time, under names the stack cannot list (an alarm cannot use SEARCH, and a Metrics
    // Insights query over AWS/States by StateMachineArn would watch every state machine of the
    // account and region); for them the step handler publishes `WorkflowRunsFailed` per workflow
    // when it records a run's end as failed or timed out, and one Metrics Insights alarm watches
    // it, leaving out the deployed workflows, watched already. It misses what never reaches the
    // handler: a registered run that Step Functions itself stops (its own time limit, an error of
    // the definition).
    for (const [workflowId, machine] of Object.entries(props.workflows)) {
      this.workflowAlarms[workflowId] = this.#alarm(
        `WorkflowFailures${workflowId.replace(/[^A-Za-z0-9]/g, '')}`,
        {
          name: `workflow-failures-${workflowId}`,
          description: `Runs of the workflow '${workflowId}' failed or timed out (Step Functions ExecutionsFailed + ExecutionsTimedOut).`,
          metric: new MathExpression({
            expression: 'FILL(failed, 0) + FILL(timedOut, 0)',
            usingMetrics: { failed: machine.metricFailed(), timedOut: machine.metricTimedOut() },
            period: PERIOD,
            label: `${workflowId}: failed or timed out`,
          }),
          threshold: ALARM_THRESHOLDS.workflowFailures,
        },
      );
    }
    this.registeredWorkflowsAlarm = this.#alarm('RegisteredWorkflowFailures', {
      name: 'registered-workflow-failures',
      description: `Runs of workflows registered through the API failed or timed out, per workflow (${APP_METRICS.workflowRunsFailed}, published by the step handler).`,
      metric: metricsInsights(
        registeredRunsFailedQuery(Object.keys(props.workflows)),
        'Failed runs per workflow',
      ),
      threshold: ALARM_THRESHOLDS.workflowFailures,
    });

    const apiServerErrorRate = new MathExpression({
      expression: `IF(requests >= ${ALARM_THRESHOLDS.apiMinimumRequests}, 100 * FILL(errors, 0) / requests, 0)`,
      usingMetrics: {
        errors: props.api.metricServerError({ statistic: Stats.SUM }),
        requests: props.api.metricCount({ statistic: Stats.SUM }),
      },
      period: PERIOD,
      label: 'API 5xx (% of requests)',
    });
    this.apiServerErrorAlarm = this.#alarm('ApiServerErrors', {
      name: 'api-5xx-rate',
      description: `At least ${ALARM_THRESHOLDS.apiServerErrorPercent}% of the API's answers were 5xx (periods with at least ${ALARM_THRESHOLDS.apiMinimumRequests} requests).`,
      metric: apiServerErrorRate,
      threshold: ALARM_THRESHOLDS.apiServerErrorPercent,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
    });

    // Services are registered at run time, so the alarm cannot name them. A Metrics Insights query
    // grouped by service makes one alarm with a time series (a "contributor") per service, each
    // judged on its own: the alarm says which services are failing. The rate is the average of
    // the 0/1 values each call publishes, as a query cannot divide one metric by another; there
    // is no minimum number of calls, so three periods running are asked for.
    const factoryFailureRate = metricsInsights(factoryFailureRateQuery(), 'Failed calls (share) per service');
    this.factoryFailureAlarm = this.#alarm('FactoryCallFailures', {
      name: 'factory-call-failure-rate',
      description: `A factory service failed at least ${ALARM_THRESHOLDS.factoryFailureRate * 100}% of its calls for 15 minutes (${APP_METRICS.factoryCallFailures} per ${APP_METRICS.factoryServiceDimension}).`,
      metric: factoryFailureRate,
      threshold: ALARM_THRESHOLDS.factoryFailureRate,
      evaluationPeriods: 3,
    });

    this.dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: this.#prefix,
      defaultInterval: Duration.hours(6),
    });
    // CloudFormation takes tags on a dashboard, but cfn-lint (1.51 here) does not know it yet and
    // counts the stack's tags as an error; a dashboard costs the same untagged.
    (this.dashboard.node.defaultChild as CfnDashboard).addPropertyDeletionOverride('Tags');
    this.#addWidgets(props, factoryFailureRate, apiServerErrorRate);
  }

  #alarm(
    id: string,
    options: {
      name: string;
      description: string;
      metric: IMetric;
      threshold: number;
      evaluationPeriods?: number;
      datapointsToAlarm?: number;
    },
  ): Alarm {
    const alarm = new Alarm(this, id, {
      alarmName: `${this.#prefix}-${options.name}`,
      alarmDescription: options.description,
      metric: options.metric,
      threshold: options.threshold,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: options.evaluationPeriods ?? 1,
      datapointsToAlarm: options.datapointsToAlarm,
      // No data is nothing happening: no messages, no runs, no calls.
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    if (this.#topic) {
      alarm.addAlarmAction(new SnsAction(this.#topic));
      alarm.addOkAction(new SnsAction(this.#topic));
    }
    this.alarms.push(alarm);
    return alarm;
  }

  #addWidgets(props: MonitoringProps, factoryFailureRate: IMetric, apiServerErrorRate: IMetric): void {
    const machines = Object.entries(props.workflows);
    // Ids are per graph: each sum in a graph names its metrics with its own `name`.
    const sumOf = (name: string, label: string, metrics: readonly IMetric[]) =>
      new MathExpression({
        expression: metrics.length === 0 ? '0' : metrics.map((_, i) => `${name}${i}`).join(' + '),
        usingMetrics: Object.fromEntries(metrics.map((metric, i) => [`${name}${i}`, metric])),
        period: PERIOD,
        label,
      });
    const functions = props.functions.map(({ function: fn }) => fn);
    // GB-seconds, what Lambda bills by: each function's summed duration (ms) times its memory.
    const gigabyteSeconds = new MathExpression({
      expression: `(${props.functions.map(({ spec }, i) => `d${i} * ${memoryOf(spec)}`).join(' + ')}) / 1024000`,
      usingMetrics: Object.fromEntries(
        props.functions.map(({ function: fn }, i) => [`d${i}`, fn.metricDuration({ statistic: Stats.SUM })]),
      ),
      period: PERIOD,
      label: 'Lambda GB-seconds, all functions',
    });

    this.dashboard.addWidgets(
      new TextWidget({
        markdown: `# ${this.#prefix}\nTasks, factory calls and workflow runs; latency; what the bill counts. Alarms notify ${props.alarmTopicArn ? `\`${props.alarmTopicArn}\`` : 'no topic (set the `alarmTopicArn` context)'}.`,
        width: 24,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(
      new AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24, height: 3 }),
    );
    this.dashboard.addWidgets(
      graph('Tasks', [
        appMetric('TaskSubmitted', 'submitted'),
        appMetric('TaskSucceeded', 'succeeded'),
        appMetric('TaskFailed', 'failed'),
        appMetric('TaskRetry', 'waiting to retry'),
        appMetric('TaskCallback', 'waiting for a callback'),
      ]),
      graph('Factory calls', [
        appMetric('FactoryCalls', 'all services (task worker)'),
        new SearchExpression({
          expression: `SEARCH('{${APP_METRICS.namespace},${APP_METRICS.factoryServiceDimension},service} MetricName="${APP_METRICS.factoryCalls}"', 'Sum', ${PERIOD.toSeconds()})`,
          label: '',
        }),
      ]),
      graph('Factory call failure rate per service', [factoryFailureRate], {
        annotation: { value: ALARM_THRESHOLDS.factoryFailureRate, label: 'alarm' },
      }),
    );
    this.dashboard.addWidgets(
      graph('Deployed workflow runs', [
        sumOf(
          'started',
          'started',
          machines.map(([, m]) => m.metricStarted()),
        ),
        sumOf(
          'succeeded',
          'succeeded',
          machines.map(([, m]) => m.metricSucceeded()),
        ),
        sumOf(
          'failed',
          'failed',
          machines.map(([, m]) => m.metricFailed()),
        ),
        sumOf(
          'timedOut',
          'timed out',
          machines.map(([, m]) => m.metricTimedOut()),
        ),
      ]),
      graph('Workflow steps (all workflows)', [
        appMetric('WorkflowStepSucceeded', 'steps succeeded'),
        appMetric('WorkflowStepFailed', 'steps failed'),
        appMetric('WorkflowStepSkipped', 'steps skipped'),
      ]),
      graph('Failed runs per workflow (step handler)', [
        new SearchExpression({
          expression: `SEARCH('{${APP_METRICS.namespace},service,${APP_METRICS.workflowDimension}} MetricName="${APP_METRICS.workflowRunsFailed}"', 'Sum', ${PERIOD.toSeconds()})`,
          label: '',
        }),
      ]),
    );
    this.dashboard.addWidgets(
      graph('Function duration p95 (ms)', [
        props.worker.function.metricDuration({ statistic: Stats.p(95), label: 'task worker p95' }),
        props.stepFunction.function.metricDuration({ statistic: Stats.p(95), label: 'workflow step p95' }),
      ]),
      graph('API latency p95 (ms)', [props.api.metricLatency({ statistic: Stats.p(95), label: 'API p95' })]),
      graph('API 5xx rate (%)', [apiServerErrorRate], {
        annotation: { value: ALARM_THRESHOLDS.apiServerErrorPercent, label: 'alarm' },
      }),
    );
    this.dashboard.addWidgets(
      graph('Requests (billed)', [
        props.api.metricCount({ statistic: Stats.SUM, label: 'API requests' }),
        sumOf(
          'invocations',
          'Lambda invocations, all functions',
          functions.map((fn) => fn.metricInvocations()),
        ),
        props.worker.function.metricInvocations({ label: 'task worker invocations' }),
        props.stepFunction.function.metricInvocations({ label: 'workflow step invocations' }),
      ]),
      graph('Lambda compute (GB-s)', [gigabyteSeconds]),
      graph('State transitions (account and region)', [
        StateTransitionMetric.metricConsumedCapacity({ statistic: Stats.SUM, label: 'state transitions' }),
      ]),
      graph(
        'DynamoDB consumed capacity',
        Object.entries(props.tables).flatMap(([tableId, table]) => [
          table.metricConsumedReadCapacityUnits({ statistic: Stats.SUM, label: `${tableId} read units` }),
          table.metricConsumedWriteCapacityUnits({ statistic: Stats.SUM, label: `${tableId} write units` }),
        ]),
      ),
    );
  }
}

/** A metric the functions publish (Powertools adds the `service` dimension to every one). */
function appMetric(metricName: string, label: string): Metric {
  return new Metric({
    namespace: APP_METRICS.namespace,
    metricName,
    dimensionsMap: { service: APP_METRICS.service },
    statistic: Stats.SUM,
    period: PERIOD,
    label,
  });
}

function graph(
  title: string,
  metrics: IMetric[],
  options: { annotation?: { value: number; label: string } } = {},
): GraphWidget {
  return new GraphWidget({
    title,
    left: metrics,
    width: 24 / 3,
    height: 6,
    period: PERIOD,
    ...(options.annotation ? { leftAnnotations: [options.annotation] } : {}),
  });
}

/** A Metrics Insights query, for an alarm (one contributor per group) or a graph. */
function metricsInsights(query: string, label: string): MathExpression {
  // The longest expression CloudWatch takes (MetricDataQuery.Expression).
  if (query.length > 2048) throw new Error(`Metrics Insights query longer than 2048 characters: ${query}`);
  return new MathExpression({ expression: query, period: PERIOD, label });
}

/**
 * Identifiers (namespaces, metric and dimension names) as Metrics Insights takes them: bare when
 * letters, digits and underscores, else in double quotes; strings in single quotes.
 */
const identifier = (name: string) =>
  /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? name : `"${name.replace(/["\\]/g, '\\$&')}"`;
const literal = (value: string) => `'${value.replace(/['\\]/g, '\\$&')}'`;

/** Each service's failure rate: the average of its calls' 0/1 failure values. */
export function factoryFailureRateQuery(): string {
  const { namespace, factoryServiceDimension, factoryCallFailures } = APP_METRICS;
  return (
    `SELECT AVG(${identifier(factoryCallFailures)}) ` +
    `FROM SCHEMA(${identifier(namespace)}, ${identifier(factoryServiceDimension)}, ${identifier('service')}) ` +
    `GROUP BY ${identifier(factoryServiceDimension)}`
  );
}

/** Failed runs per workflow, but for the deployed workflows (watched through Step Functions). */
export function registeredRunsFailedQuery(deployedWorkflowIds: readonly string[]): string {
  const { namespace, workflowDimension, workflowRunsFailed } = APP_METRICS;
  const excluded = deployedWorkflowIds.map((id) => `${identifier(workflowDimension)} != ${literal(id)}`);
  return (
    `SELECT SUM(${identifier(workflowRunsFailed)}) ` +
    `FROM SCHEMA(${identifier(namespace)}, ${identifier('service')}, ${identifier(workflowDimension)}) ` +
    (excluded.length > 0 ? `WHERE ${excluded.join(' AND ')} ` : '') +
    `GROUP BY ${identifier(workflowDimension)}`
  );
}

/**
 * Every dead-letter queue in `scope`: the queues other queues redrive to, those of EventBridge
 * rule targets (named only by ARN in the rule) and those of functions' asynchronous invocations.
 */
export function deadLetterQueuesIn(scope: IConstruct): IQueue[] {
  const stack = Stack.of(scope);
  const constructs = scope.node.findAll();
  const queues = constructs.filter((c): c is Queue => c instanceof Queue);
  const found = new Set<IQueue>();
  for (const queue of queues) if (queue.deadLetterQueue) found.add(queue.deadLetterQueue.queue);
  for (const fn of constructs.filter((c): c is LambdaFunction => c instanceof LambdaFunction)) {
    if (fn.deadLetterQueue) found.add(fn.deadLetterQueue);
  }
  const byArn = new Map(queues.map((queue) => [JSON.stringify(stack.resolve(queue.queueArn)), queue]));
  for (const rule of constructs.filter((c): c is CfnRule => c instanceof CfnRule)) {
    const targets = (stack.resolve(rule.targets) ?? []) as Array<{ deadLetterConfig?: { arn?: unknown } }>;
    for (const target of targets) {
      const queue = byArn.get(JSON.stringify(target.deadLetterConfig?.arn));
      if (queue) found.add(queue);
    }
  }
  return [...found];
}

/** A construct's path below its stack, e.g. `Tasks/DeadLetterQueue`. */
function pathIn(stack: Stack, construct: IConstruct): string {
  return construct.node.path.slice(stack.node.path.length + 1);
}

import { Duration } from 'aws-cdk-lib';
import { EventBus, Rule } from 'aws-cdk-lib/aws-events';
import { SqsQueue } from 'aws-cdk-lib/aws-events-targets';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { EVENT_BUS_NAME, TASK_REQUESTED } from '../../lib/app.ts';
import { acknowledge } from '../nag.ts';
import type { StageSettings } from '../settings.ts';
import { consumedQueue, RETENTION } from './queues.ts';

export interface IntakeProps {
  settings: StageSettings;
  /** The manifest's `queue: 'intake'` function and its timeout. */
  consumer: IFunction;
  consumerTimeout: Duration;
}

/**
 * Asynchronous task intake: `TaskRequested` events on the orchestrator's bus, and tasks sent to
 * the queue directly, both reach the intake function through one queue.
 */
export class Intake extends Construct {
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  readonly bus: EventBus;
  readonly rule: Rule;

  constructor(scope: Construct, id: string, props: IntakeProps) {
    super(scope, id);
    const { settings } = props;

    ({ queue: this.queue, deadLetterQueue: this.deadLetterQueue } = consumedQueue(this, {
      consumerTimeout: props.consumerTimeout,
      removalPolicy: settings.removalPolicy,
    }));
    props.consumer.addEventSource(
      new SqsEventSource(this.queue, { batchSize: 10, reportBatchItemFailures: true }),
    );

    this.bus = new EventBus(this, 'Bus', {
      eventBusName: `${EVENT_BUS_NAME}-${settings.stage}`,
      description: `${settings.prefix}: events that submit tasks`,
    });
    const eventDeadLetterQueue = new Queue(this, 'EventDeadLetterQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: RETENTION,
      removalPolicy: settings.removalPolicy,
    });
    acknowledge(eventDeadLetterQueue, {
      'AwsSolutions-SQS3':
        'It is the dead-letter queue of the TaskRequested rule target, which cdk-nag cannot see; a dead-letter queue of its own would only move the same events once more',
    });
    this.rule = new Rule(this, 'TaskRequested', {
      eventBus: this.bus,
      description: 'Sends TaskRequested events to the intake queue',
      eventPattern: { source: [TASK_REQUESTED.source], detailType: [TASK_REQUESTED.detailType] },
      targets: [
        new SqsQueue(this.queue, {
          deadLetterQueue: eventDeadLetterQueue,
          retryAttempts: 8,
          maxEventAge: Duration.hours(24),
        }),
      ],
    });
  }
}

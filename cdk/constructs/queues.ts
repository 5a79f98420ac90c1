import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

/** Longest a message is kept, the SQS maximum. */
export const RETENTION = Duration.days(14);

/**
 * A queue for a Lambda consumer, with its dead-letter queue: encrypted, TLS only, kept two weeks;
 * a message is visible again six times the consumer's timeout after a receive (as Lambda
 * advises, so a batch still being worked on is not handed to a second consumer), and goes to the
 * dead-letter queue after three receives.
 */
export function consumedQueue(
  scope: Construct,
  options: { consumerTimeout: Duration; removalPolicy: RemovalPolicy },
): { queue: Queue; deadLetterQueue: Queue } {
  const deadLetterQueue = new Queue(scope, 'DeadLetterQueue', {
    encryption: QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: RETENTION,
    removalPolicy: options.removalPolicy,
  });
  const queue = new Queue(scope, 'Queue', {
    encryption: QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    visibilityTimeout: Duration.seconds(options.consumerTimeout.toSeconds() * 6),
    retentionPeriod: RETENTION,
    deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: 3 },
    removalPolicy: options.removalPolicy,
  });
  return { queue, deadLetterQueue };
}

import { Duration } from 'aws-cdk-lib';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { ARTIFACT_PREFIX } from '../../lib/store/artifact-store.ts';
import { acknowledge } from '../nag.ts';
import type { StageSettings } from '../settings.ts';

/**
 * The artifact store: outputs above the inline limit, one object per artifact under `artifacts/`.
 * Private (public access blocked, bucket-owner objects, TLS only), encrypted, and emptied by age:
 * artifacts expire after the stage's retention, and unfinished multipart uploads after a day.
 * Its access log goes to a second bucket, kept as long as the logs of the functions.
 */
export class ArtifactBucket extends Construct {
  readonly bucket: Bucket;

  constructor(scope: Construct, id: string, settings: StageSettings) {
    super(scope, id);
    const common = {
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: settings.removalPolicy,
    };
    const accessLogs = new Bucket(this, 'AccessLogs', {
      ...common,
      // Server access logging delivers with the bucket-owner-preferred ACL semantics S3 requires.
      objectOwnership: ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(settings.logRetention) }],
    });
    acknowledge(accessLogs, {
      'AwsSolutions-S1': 'This is the access log bucket of the artifact bucket; logging it again would loop',
    });
    this.bucket = new Bucket(this, 'Bucket', {
      ...common,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'artifacts/',
      lifecycleRules: [
        {
          id: 'expire-artifacts',
          prefix: ARTIFACT_PREFIX,
          expiration: Duration.days(settings.artifactRetentionDays),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
    });
  }
}

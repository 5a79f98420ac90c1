import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * Acknowledges cdk-nag findings on a construct and everything below it. cdk-nag v3 matches each
 * finding on its full id (`AwsSolutions-IAM5[Resource::*]`), so an acknowledgement never covers
 * more than the finding it names.
 */
export function acknowledge(scope: IConstruct, findings: Record<string, string>): void {
  for (const [id, reason] of Object.entries(findings)) {
    Validations.of(scope).acknowledge({ id, reason });
  }
}

export const XRAY_WILDCARD_REASON =
  'X-Ray PutTraceSegments and PutTelemetryRecords do not support resource-level permissions';

import { resolve } from 'node:path';
import { AssetHashType, DockerImage, Duration, type ILocalBundling, Stack } from 'aws-cdk-lib';
import type { CfnTable, Table } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import {
  Architecture,
  Code,
  Function as LambdaFunction,
  LoggingFormat,
  SystemLogLevel,
  Tracing,
} from 'aws-cdk-lib/aws-lambda';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import type { CfnBucket, IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { type FunctionSpec, memoryOf } from '../../lib/app.ts';
import { ARTIFACT_PREFIX } from '../../lib/store/artifact-store.ts';
import { TABLES, type TableId } from '../../lib/store/tables.ts';
import { BUNDLE_OPTIONS, bundleFunction, LAMBDA_HANDLER, NODE_RUNTIME } from '../bundling.ts';
import { acknowledge, XRAY_WILDCARD_REASON } from '../nag.ts';
import type { StageSettings } from '../settings.ts';

export { NODE_RUNTIME };

/** The repository root: the asset's source folder (never copied: local bundling reads it in place). */
const ROOT = resolve(import.meta.dirname, '..', '..');

const DEFAULT_TIMEOUT_SECONDS = 10;
/** The config default for one synchronous factory call. */
const FACTORY_CALL_TIMEOUT_MS = 10_000;
/** Time a function keeps after a factory call timed out, to record and answer the failure. */
const FACTORY_CALL_HEADROOM_MS = 2_000;

export interface ManifestFunctionProps {
  spec: FunctionSpec;
  settings: StageSettings;
  tables: Readonly<Record<TableId, Table>>;
  /** The artifact bucket, for functions that read or store artifacts. */
  artifacts: IBucket;
  /** `VOBEE_ALLOWED_PRIVATE_ENDPOINTS` for functions that call factories. */
  allowedPrivateEndpoints?: string;
}

/**
 * One function of the app manifest: its bundle, its own log group and a role that may write that
 * log group, trace, and touch exactly the tables the manifest lists.
 */
export class ManifestFunction extends Construct {
  readonly spec: FunctionSpec;
  readonly function: LambdaFunction;

  constructor(scope: Construct, id: string, props: ManifestFunctionProps) {
    super(scope, id);
    const { spec, settings, tables } = props;
    this.spec = spec;
    const timeoutSeconds = spec.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;

    const logGroup = new LogGroup(this, 'Logs', {
      retention: settings.logRetention,
      removalPolicy: settings.removalPolicy,
    });
    // A role of its own instead of AWSLambdaBasicExecutionRole, which may write every log group.
    const role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `${settings.prefix} ${spec.id}: ${spec.description}`,
    });
    logGroup.grantWrite(role);

    const environment: Record<string, string> = {
      POWERTOOLS_SERVICE_NAME: 'vobee',
      POWERTOOLS_METRICS_NAMESPACE: 'VoBee',
      POWERTOOLS_LOG_LEVEL: 'INFO',
      VOBEE_TABLE_PREFIX: settings.prefix,
    };
    // Without it Node ignores the bundled source maps and stack traces point into minified code.
    if (BUNDLE_OPTIONS.sourcemap) environment.NODE_OPTIONS = '--enable-source-maps';
    for (const tableId of accessedTables(spec)) {
      environment[`VOBEE_TABLE_${tableId.toUpperCase()}`] = tables[tableId].tableName;
    }
    if (spec.callsFactories) {
      environment.VOBEE_FACTORY_CALL_TIMEOUT_MS = String(
        Math.min(FACTORY_CALL_TIMEOUT_MS, timeoutSeconds * 1000 - FACTORY_CALL_HEADROOM_MS),
      );
      if (props.allowedPrivateEndpoints) {
        environment.VOBEE_ALLOWED_PRIVATE_ENDPOINTS = props.allowedPrivateEndpoints;
      }
    }

    this.function = new LambdaFunction(this, 'Function', {
      code: Code.fromAsset(ROOT, {
        // Hashed by the bundle, so a change anywhere in the repository redeploys only the
        // functions whose bundle it changes.
        assetHashType: AssetHashType.OUTPUT,
        bundling: {
          // Required by the type, never pulled: the local bundler always succeeds or throws.
          image: DockerImage.fromRegistry('dummy-never-used'),
          local: new LocalBundling(spec.entry),
        },
      }),
      handler: LAMBDA_HANDLER,
      description: spec.description,
      runtime: NODE_RUNTIME,
      architecture: Architecture.ARM_64,
      timeout: Duration.seconds(timeoutSeconds),
      memorySize: memoryOf(spec),
      tracing: Tracing.ACTIVE,
      role,
      logGroup,
      // JSON, so that Lambda can filter its own lines by level: at WARN it drops the START, END
      // and REPORT lines of every invocation (about 300 billed bytes each). The handlers' lines
      // are JSON already and are filtered by POWERTOOLS_LOG_LEVEL.
      loggingFormat: LoggingFormat.JSON,
      systemLogLevelV2: SystemLogLevel[settings.functionSystemLogLevel],
      environment,
    });

    if (spec.artifacts) grantArtifacts(role, this.function, props.artifacts, spec.artifacts);
    for (const [tableId, access] of Object.entries(spec.tables) as [TableId, 'read' | 'write'][]) {
      const table = tables[tableId];
      if (access === 'write') table.grantReadWriteData(this.function);
      else table.grantReadData(this.function);
    }

    const findings: Record<string, string> = { 'AwsSolutions-IAM5[Resource::*]': XRAY_WILDCARD_REASON };
    if (spec.artifacts) {
      const logicalId = Stack.of(this).getLogicalId(props.artifacts.node.defaultChild as CfnBucket);
      findings[`AwsSolutions-IAM5[Resource::<${logicalId}.Arn>/${ARTIFACT_PREFIX}*]`] =
        'Artifacts are objects with random ids created at run time; access stops at the artifacts/ prefix';
    }
    for (const tableId of accessedTables(spec)) {
      if (TABLES[tableId].globalIndexes.length === 0) continue;
      const logicalId = Stack.of(this).getLogicalId(tables[tableId].node.defaultChild as CfnTable);
      findings[`AwsSolutions-IAM5[Resource::<${logicalId}.Arn>/index/*]`] =
        `Queries the ${tableId} table's global secondary indexes, which the manifest grants with the table`;
    }
    acknowledge(role, findings);
  }
}

/**
 * Object access under the artifact prefix only: read (and presign downloads), or also store (and
 * presign uploads: a presigned URL acts with its signer's rights). Listing, under the prefix only,
 * lets a read of a missing artifact answer 404 rather than 403.
 */
function grantArtifacts(role: Role, fn: LambdaFunction, bucket: IBucket, access: 'read' | 'write'): void {
  fn.addEnvironment('VOBEE_ARTIFACT_BUCKET', bucket.bucketName);
  role.addToPolicy(
    new PolicyStatement({
      actions: access === 'write' ? ['s3:GetObject', 's3:PutObject'] : ['s3:GetObject'],
      resources: [bucket.arnForObjects(`${ARTIFACT_PREFIX}*`)],
    }),
  );
  role.addToPolicy(
    new PolicyStatement({
      actions: ['s3:ListBucket'],
      resources: [bucket.bucketArn],
      conditions: { StringLike: { 's3:prefix': [`${ARTIFACT_PREFIX}*`] } },
    }),
  );
}

function accessedTables(spec: FunctionSpec): TableId[] {
  return Object.keys(spec.tables) as TableId[];
}

/**
 * esbuild in this process, as `NodejsFunction` bundles when Docker is not forced. The entry is a
 * field, not only a closure: CDK caches staged assets within a synth by the JSON of their bundling
 * options, so without it every function would get the first function's bundle.
 */
class LocalBundling implements ILocalBundling {
  constructor(readonly entry: string) {}

  tryBundle(outputDir: string): boolean {
    bundleFunction(this.entry, outputDir);
    return true;
  }
}

import { AttributeType, BillingMode, ProjectionType, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { TABLES, type TableId } from '../../lib/store/tables.ts';
import type { StageSettings } from '../settings.ts';

/**
 * The tables of `lib/store/tables.ts`, the same keys, indexes and TTL the local runtime creates.
 * `Table` (AWS::DynamoDB::Table) rather than `TableV2` (a global table) keeps LocalStack able to
 * deploy the stack.
 */
export class VobeeTables extends Construct {
  readonly byId: Readonly<Record<TableId, Table>>;

  constructor(scope: Construct, id: string, settings: StageSettings) {
    super(scope, id);
    const byId = {} as Record<TableId, Table>;
    for (const definition of Object.values(TABLES)) {
      const table = new Table(this, definition.id, {
        tableName: `${settings.prefix}-${definition.id}`,
        partitionKey: { name: definition.partitionKey, type: AttributeType.STRING },
        sortKey: { name: definition.sortKey, type: AttributeType.STRING },
        timeToLiveAttribute: definition.timeToLiveAttribute,
        billingMode: BillingMode.PAY_PER_REQUEST,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        encryption: TableEncryption.AWS_MANAGED,
        deletionProtection: settings.production,
        removalPolicy: settings.removalPolicy,
      });
      for (const index of definition.globalIndexes) {
        table.addGlobalSecondaryIndex({
          indexName: index.indexName,
          partitionKey: { name: index.partitionKey, type: AttributeType.STRING },
          sortKey: { name: index.sortKey, type: AttributeType.STRING },
          ...(index.projection.type === 'ALL'
            ? { projectionType: ProjectionType.ALL }
            : { projectionType: ProjectionType.INCLUDE, nonKeyAttributes: index.projection.attributes }),
        });
      }
      byId[definition.id] = table;
    }
    this.byId = byId;
  }
}

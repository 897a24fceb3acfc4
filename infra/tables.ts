// Builds a CDK table from a shared TableDefinition, so the stack, the local run and the tests share
// one set of keys, TTL attributes and indexes.

import { RemovalPolicy } from 'aws-cdk-lib';
import {
  type Attribute,
  AttributeType,
  BillingMode,
  ProjectionType,
  Table,
  TableEncryption,
} from 'aws-cdk-lib/aws-dynamodb';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import type { KeyAttribute, TableDefinition } from '#shared/adapters/tables.ts';
import { tableName as forceTableName } from '#shared/delivery/names.ts';

export interface TableSettings {
  stage: string;
  production: boolean;
  key: IKey;
}

export function tableName(stage: string, definition: TableDefinition): string {
  return forceTableName(stage, definition.id);
}

const attribute = (a: KeyAttribute): Attribute => ({
  name: a.name,
  type: a.type === 'S' ? AttributeType.STRING : AttributeType.NUMBER,
});

/** On-demand, point-in-time recovery, encrypted with the CMK; kept and protected in production. */
export function tableFromDefinition(
  scope: Construct,
  definition: TableDefinition,
  settings: TableSettings,
): Table {
  const table = new Table(scope, `Table-${definition.id}`, {
    tableName: tableName(settings.stage, definition),
    partitionKey: attribute(definition.partitionKey),
    ...(definition.sortKey ? { sortKey: attribute(definition.sortKey) } : {}),
    ...(definition.ttlAttribute ? { timeToLiveAttribute: definition.ttlAttribute } : {}),
    billingMode: BillingMode.PAY_PER_REQUEST,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    encryption: TableEncryption.CUSTOMER_MANAGED,
    encryptionKey: settings.key,
    deletionProtection: settings.production,
    removalPolicy: settings.production ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
  });
  for (const index of definition.indexes) {
    table.addGlobalSecondaryIndex({
      indexName: index.indexName,
      partitionKey: attribute(index.partitionKey),
      ...(index.sortKey ? { sortKey: attribute(index.sortKey) } : {}),
      projectionType: ProjectionType.INCLUDE,
      nonKeyAttributes: [...index.projected],
    });
  }
  return table;
}

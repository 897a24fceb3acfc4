// The DynamoDB tables, defined once: the CDK stack, the local run and the tests all build their
// tables from these definitions, so they cannot drift apart.

import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

export interface KeyAttribute {
  name: string;
  type: 'S' | 'N';
}

export interface IndexDefinition {
  indexName: string;
  partitionKey: KeyAttribute;
  sortKey?: KeyAttribute;
  /** Non-key attributes projected into the index (INCLUDE projection). */
  projected: readonly string[];
}

export interface TableDefinition<Id extends string = string> {
  /** Logical id, also the default table name suffix. */
  id: Id;
  description: string;
  partitionKey: KeyAttribute;
  sortKey?: KeyAttribute;
  ttlAttribute?: string;
  indexes: readonly IndexDefinition[];
}

/** The attribute that puts an open case in the sparse, sharded open-cases index: its district's
 * shard key (the district, see shared/domain/shards.ts). It exists only while the case is open, so
 * closing a case removes it from the index, and moving district moves it to that district's shard. */
export const OPEN_SHARD_ATTRIBUTE = 'openShard';
export const OPEN_SHARDS_INDEX_NAME = 'open-shards';

/** The first release's index: one partition (`openQueue = open`) for every open case, which a scan
 * can only read page after page and which takes every open case's writes. Kept beside the sharded
 * one only while an existing mirror migrates (README: "Migrating to the sharded index"). */
export const LEGACY_OPEN_ATTRIBUTE = 'openQueue';
export const LEGACY_OPEN_VALUE = 'open';
export const LEGACY_OPEN_INDEX_NAME = 'open-cases';

/** Just what the engine needs: not sourceUpdatedAt, never anything else. */
const ENGINE_FIELDS = ['category', 'riskLevel', 'district', 'stage', 'childrenInvolved'];

const OPEN_SHARDS_INDEX: IndexDefinition = {
  indexName: OPEN_SHARDS_INDEX_NAME,
  partitionKey: { name: OPEN_SHARD_ATTRIBUTE, type: 'S' },
  sortKey: { name: 'stageEnteredAt', type: 'S' },
  projected: ENGINE_FIELDS,
};

const LEGACY_OPEN_INDEX: IndexDefinition = {
  indexName: LEGACY_OPEN_INDEX_NAME,
  partitionKey: { name: LEGACY_OPEN_ATTRIBUTE, type: 'S' },
  sortKey: { name: 'stageEnteredAt', type: 'S' },
  projected: ENGINE_FIELDS,
};

export const MIRROR_TABLE: TableDefinition<'mirror'> = {
  id: 'mirror',
  description: 'Mirror of the assessment queue: one item per case, kept true by the ingest path',
  partitionKey: { name: 'caseRef', type: 'S' },
  indexes: [OPEN_SHARDS_INDEX],
};

/** The mirror as a deployment migrating from the first release has it: both indexes. */
export const MIRROR_TABLE_MIGRATING: TableDefinition<'mirror'> = {
  ...MIRROR_TABLE,
  indexes: [OPEN_SHARDS_INDEX, LEGACY_OPEN_INDEX],
};

export const LEDGER_TABLE: TableDefinition<'ledger'> = {
  id: 'ledger',
  description:
    'Alert ledger: per audience and district (in a few shards), each case notified, its level and when',
  // One item per audience, district and shard, holding its cases: a run reads a few hundred small
  // items, not one per alerting case, and claims a whole group with one conditional write.
  partitionKey: { name: 'group', type: 'S' },
  ttlAttribute: 'expiresAt',
  indexes: [],
};

/** The disclosure log's index by case reference: "who was told about this case, when, at which
 * level". Sparse: only the per-case items carry `caseRef`, not the message items. */
export const AUDIT_CASE_INDEX_NAME = 'by-case';
/** The disclosure log's index by thread: the scan's messages to one audience at one place, in the
 * order sent (see AuditThread). Sparse: only those message items carry `thread`. */
export const AUDIT_THREAD_INDEX_NAME = 'by-thread';

const AUDITED = ['messageId', 'runId', 'kind', 'audience', 'district', 'localAuthority', 'level'];

export const AUDIT_TABLE: TableDefinition<'audit'> = {
  id: 'audit',
  description:
    'Disclosure log (DPA 2018 s62): every message sent, to whom, which cases, why, by day and by case; never the text',
  // Per day: one item per message, and one per case it gave an item of its own (sort key
  // `<sent at>#<message id>#<case>`, and `#<thread>` after it in a thread; see audit-log.ts).
  partitionKey: { name: 'day', type: 'S' },
  sortKey: { name: 'sentAtMessage', type: 'S' },
  indexes: [
    {
      indexName: AUDIT_CASE_INDEX_NAME,
      partitionKey: { name: 'caseRef', type: 'S' },
      sortKey: { name: 'sentAt', type: 'S' },
      // In this order: a deployed index's projection cannot change.
      projected: [...AUDITED, 'resolved', 'reason'],
    },
    {
      indexName: AUDIT_THREAD_INDEX_NAME,
      partitionKey: { name: 'thread', type: 'S' },
      sortKey: { name: 'sentAtMessage', type: 'S' },
      projected: [...AUDITED, 'reason', 'sentAt', 'caseRefs', 'resolvedCaseRefs'],
    },
  ],
};

export const STATE_TABLE: TableDefinition<'state'> = {
  id: 'state',
  description: 'System state: last successful ingest, last good config, heartbeats',
  partitionKey: { name: 'name', type: 'S' },
  indexes: [],
};

export const REJECTS_TABLE: TableDefinition<'rejects'> = {
  id: 'rejects',
  description: 'Feed messages that can never be valid, with their reason, kept for replay after a fix',
  partitionKey: { name: 'rejectId', type: 'S' },
  ttlAttribute: 'expiresAt',
  indexes: [],
};

export const FLOW_TABLE: TableDefinition<'flow'> = {
  id: 'flow',
  description:
    'Flow: one item per stage transition (stored once however often it is seen), one count item per district and day, and the last transition of each district',
  // pk `t#<district>#<day>` / sk `<caseRef>#<to stage>#<at>`: a transition; `d#<district>` /
  // `<day>`: that day's counts, built from its transitions; `last` and `since` / `<district>`.
  partitionKey: { name: 'pk', type: 'S' },
  sortKey: { name: 'sk', type: 'S' },
  ttlAttribute: 'expiresAt',
  indexes: [],
};

export const ACK_LINKS_TABLE: TableDefinition<'acklinks'> = {
  id: 'acklinks',
  description:
    'Acknowledgement links: one short single-use token per alert and channel (stored by its hash), what it acknowledges, until it expires',
  partitionKey: { name: 'tokenHash', type: 'S' },
  ttlAttribute: 'expiresAt',
  indexes: [],
};

export const TABLES = [
  MIRROR_TABLE,
  LEDGER_TABLE,
  AUDIT_TABLE,
  STATE_TABLE,
  REJECTS_TABLE,
  FLOW_TABLE,
  ACK_LINKS_TABLE,
] as const;

/** A table's logical id, from the definitions above (a mistyped id is a type error). */
export type TableId = (typeof TABLES)[number]['id'];

/** Environment variable that carries each table's name into a function. */
export const TABLE_ENV: Record<TableId, string> = {
  mirror: 'MIRROR_TABLE',
  ledger: 'LEDGER_TABLE',
  audit: 'AUDIT_TABLE',
  state: 'STATE_TABLE',
  rejects: 'REJECTS_TABLE',
  flow: 'FLOW_TABLE',
  acklinks: 'ACK_LINKS_TABLE',
};

/** CreateTable input for the SDK (local servers, tests). On-demand, like the stack. */
export function createTableInput(table: TableDefinition, tableName: string): CreateTableCommandInput {
  const attributes = new Map<string, KeyAttribute>();
  const add = (a?: KeyAttribute) => a && attributes.set(a.name, a);
  add(table.partitionKey);
  add(table.sortKey);
  for (const index of table.indexes) {
    add(index.partitionKey);
    add(index.sortKey);
  }
  const keySchema = (pk: KeyAttribute, sk?: KeyAttribute) => [
    { AttributeName: pk.name, KeyType: 'HASH' as const },
    ...(sk ? [{ AttributeName: sk.name, KeyType: 'RANGE' as const }] : []),
  ];
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [...attributes.values()].map((a) => ({
      AttributeName: a.name,
      AttributeType: a.type,
    })),
    KeySchema: keySchema(table.partitionKey, table.sortKey),
    ...(table.indexes.length > 0
      ? {
          GlobalSecondaryIndexes: table.indexes.map((index) => ({
            IndexName: index.indexName,
            KeySchema: keySchema(index.partitionKey, index.sortKey),
            Projection: { ProjectionType: 'INCLUDE' as const, NonKeyAttributes: [...index.projected] },
          })),
        }
      : {}),
  };
}

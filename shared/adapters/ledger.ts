// The alert ledger in DynamoDB: one item per audience, district and shard, holding the cases
// notified to that audience, their level and when. Claims and completions are conditional on the
// item's version, so two runs can never both send from the same shard.

import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  PutCommand,
  paginateScan,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { LEVELS, type Level } from '../config/schema.ts';
import type { LedgerCase, LedgerShard, LedgerStore } from '../scan/ports.ts';

/** Shards per audience and district. Small shards keep each conditional write cheap (DynamoDB
 * bills writes by item size) while a run still touches only the shards with something due; at
 * ~60 bytes a case, one audience can have 100,000 alerting cases in one district. */
export const LEDGER_SHARDS = 16;

/** Which shard a case's ledger record lives in (FNV-1a of the reference). */
export function ledgerShardOf(caseRef: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < caseRef.length; i++) {
    hash ^= caseRef.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % LEDGER_SHARDS;
}

export const ledgerGroup = (audience: string, district: string, shard: number) =>
  `${audience}#${district}#${shard}`;

// Stored compactly: level as one letter, times as epoch milliseconds.
const LEVEL_CODE: Record<Level, string> = { warning: 'w', breach: 'b', escalation: 'e' };
const CODE_LEVEL = Object.fromEntries(LEVELS.map((l) => [LEVEL_CODE[l], l])) as Record<string, Level>;

const storedCase = z.object({ l: z.enum(['w', 'b', 'e']), e: z.number(), n: z.number() });
const storedShard = z.object({
  group: z.string(),
  audience: z.string(),
  district: z.string(),
  shard: z.number().int(),
  version: z.number().int(),
  cases: z.record(z.string(), storedCase).default({}),
  claim: z.object({ runId: z.string(), leaseUntil: z.number() }).optional(),
});

const isConditionFailure = (error: unknown) =>
  error instanceof ConditionalCheckFailedException ||
  (error instanceof Error && error.name === 'ConditionalCheckFailedException');

export interface LedgerOptions {
  /** Keep what was read and written between runs (a warm Lambda container: reserved concurrency
   * 1 makes it the only writer), reading the whole ledger again only when a claim is lost, a
   * write fails, or `maxCacheAgeMs` has passed. A stale copy is safe: every write is conditional
   * on the version, so the worst it costs is a lost claim and a full read next run. */
  cache?: boolean;
  maxCacheAgeMs?: number;
  /** The clock for the cache's age (not for any alerting decision). */
  clock?: () => number;
}

export class DynamoLedger implements LedgerStore {
  /** Items the last loadAll() could not read (left alone; the scan reports them). */
  unreadable = 0;
  /** Full reads of the table so far (a cached ledger does one, then only on invalidation). */
  fullReads = 0;
  private cached: Map<string, LedgerShard> | undefined;
  private cachedAt = 0;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly options: LedgerOptions = {},
  ) {}

  private invalidate(): void {
    this.cached = undefined;
  }

  async loadAll(): Promise<LedgerShard[]> {
    const now = (this.options.clock ?? Date.now)();
    if (this.cached && now - this.cachedAt < (this.options.maxCacheAgeMs ?? 30 * 60_000)) {
      return [...this.cached.values()].map((s) => ({ ...s, cases: new Map(s.cases) }));
    }
    const shards = await this.readAll();
    if (this.options.cache) {
      this.cached = new Map(shards.map((s) => [s.group, { ...s, cases: new Map(s.cases) }]));
      this.cachedAt = now;
    }
    return shards;
  }

  private async readAll(): Promise<LedgerShard[]> {
    this.fullReads += 1;
    const shards: LedgerShard[] = [];
    this.unreadable = 0;
    for await (const page of paginateScan(
      { client: this.client },
      { TableName: this.tableName, ConsistentRead: true },
    )) {
      for (const item of page.Items ?? []) {
        const parsed = storedShard.safeParse(item);
        if (!parsed.success) {
          this.unreadable += 1;
          continue;
        }
        const { cases, claim, ...rest } = parsed.data;
        const map = new Map<string, LedgerCase>();
        for (const [caseRef, c] of Object.entries(cases)) {
          map.set(caseRef, {
            level: CODE_LEVEL[c.l] as Level,
            episode: new Date(c.e).toISOString(),
            notifiedAt: c.n,
          });
        }
        shards.push({ ...rest, cases: map, ...(claim ? { claim } : {}) });
      }
    }
    return shards;
  }

  async claim(
    shard: Pick<LedgerShard, 'group' | 'audience' | 'district' | 'shard'>,
    expectedVersion: number | undefined,
    claim: { runId: string; leaseUntil: number },
  ): Promise<number | undefined> {
    const version = (expectedVersion ?? 0) + 1;
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { group: shard.group },
          UpdateExpression:
            'SET #claim = :claim, #version = :version, audience = :audience, district = :district, #shard = :shard',
          ConditionExpression:
            expectedVersion === undefined ? 'attribute_not_exists(#group)' : '#version = :expected',
          ExpressionAttributeNames: {
            '#claim': 'claim',
            '#version': 'version',
            '#shard': 'shard',
            ...(expectedVersion === undefined ? { '#group': 'group' } : {}),
          },
          ExpressionAttributeValues: {
            ':claim': claim,
            ':version': version,
            ':audience': shard.audience,
            ':district': shard.district,
            ':shard': shard.shard,
            ...(expectedVersion === undefined ? {} : { ':expected': expectedVersion }),
          },
        }),
      );
      if (this.cached) {
        const held = this.cached.get(shard.group);
        this.cached.set(shard.group, { ...shard, version, cases: held?.cases ?? new Map(), claim });
      }
      return version;
    } catch (error) {
      this.invalidate();
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }

  async complete(shard: LedgerShard, claimedVersion: number, expiresAtMs: number): Promise<boolean> {
    const condition = {
      ConditionExpression: '#version = :expected',
      ExpressionAttributeNames: { '#version': 'version' },
      ExpressionAttributeValues: { ':expected': claimedVersion },
    };
    try {
      if (shard.cases.size === 0) {
        await this.client.send(
          new DeleteCommand({ TableName: this.tableName, Key: { group: shard.group }, ...condition }),
        );
        this.cached?.delete(shard.group);
        return true;
      }
      const cases: Record<string, z.infer<typeof storedCase>> = {};
      for (const [caseRef, c] of shard.cases) {
        cases[caseRef] = {
          l: LEVEL_CODE[c.level] as 'w' | 'b' | 'e',
          e: Date.parse(c.episode),
          n: c.notifiedAt,
        };
      }
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            group: shard.group,
            audience: shard.audience,
            district: shard.district,
            shard: shard.shard,
            version: claimedVersion + 1,
            cases,
            expiresAt: Math.floor(expiresAtMs / 1000),
          },
          ...condition,
        }),
      );
      this.cached?.set(shard.group, {
        group: shard.group,
        audience: shard.audience,
        district: shard.district,
        shard: shard.shard,
        version: claimedVersion + 1,
        cases: new Map(shard.cases),
      });
      return true;
    } catch (error) {
      this.invalidate();
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }
}

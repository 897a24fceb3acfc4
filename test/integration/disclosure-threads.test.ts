// The disclosure log's threads against a real (embedded) DynamoDB, written by the real scan: a case
// gets an item of its own only where its group's thread starts telling of it and where it ends, and
// "who was told about this case" still finds every message that listed it. The answer is checked
// against the messages themselves (each day's message items list their cases in full), for a
// steady queue, a storm with more news than a message names, and a log and ledger written the
// first release's way (an item for every listed case, and no thread).

import { BatchWriteCommand, DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoAuditLog, DynamoAuditReader } from '#shared/adapters/audit-log.ts';
import { DynamoLedger } from '#shared/adapters/ledger.ts';
import { CallbackPublisher } from '#shared/adapters/memory-sinks.ts';
import { toMirrorItem } from '#shared/adapters/mirror-item.ts';
import { DynamoOpenCaseSource } from '#shared/adapters/mirror-reader.ts';
import { AUDIT_CASE_INDEX_NAME, type TableId } from '#shared/adapters/tables.ts';
import type { CaseRecord } from '#shared/domain/case.ts';
import { createTables, type EmbeddedDynamo, startDynalite } from '#shared/local/embedded-dynamo.ts';
import { LINES_PER_LEVEL } from '#shared/scan/decide.ts';
import type { AuditEntry, AuditLog, GroupState } from '#shared/scan/ports.ts';
import { runScan } from '#shared/scan/run-scan.ts';
import { aCase, defaultConfig, HOUR, iso, MINUTE } from '#test/support/fixtures.ts';

const NOW = Date.parse('2026-11-30T09:00:00Z');
const config = defaultConfig();
const SUPERVISOR_D01 = 'district-supervisor@D01';

let dynamo: EmbeddedDynamo;
let doc: DynamoDBDocumentClient;

beforeAll(async () => {
  dynamo = await startDynalite();
  doc = DynamoDBDocumentClient.from(dynamo.client, { marshallOptions: { removeUndefinedValues: true } });
});
afterAll(async () => {
  await dynamo?.close();
});

/** A high-risk domestic abuse case in D01 waiting since `ageMs` before NOW (breach at 24 h). */
const waiting = (caseRef: string, ageMs: number, overrides: Partial<CaseRecord> = {}): CaseRecord =>
  aCase({ caseRef, stageEnteredAt: iso(NOW - ageMs), sourceUpdatedAt: iso(NOW - ageMs), ...overrides });

const closed = (record: CaseRecord, at: number): CaseRecord => ({
  ...record,
  stage: 'closed',
  sourceUpdatedAt: iso(at),
});

async function put(table: string, records: readonly CaseRecord[], at = NOW): Promise<void> {
  for (let i = 0; i < records.length; i += 25) {
    const batch = records.slice(i, i + 25).map((r) => ({ PutRequest: { Item: toMirrorItem(r, at) } }));
    await doc.send(new BatchWriteCommand({ RequestItems: { [table]: batch } }));
  }
}

/** The first release's writes: every listed case an item, no thread, no threadSince. */
class FirstReleaseAuditLog implements AuditLog {
  constructor(private readonly log: DynamoAuditLog) {}
  record({ thread: _dropped, ...entry }: AuditEntry): Promise<void> {
    return this.log.record(entry);
  }
}
class FirstReleaseLedger extends DynamoLedger {
  override releaseGroup(state: GroupState, claimedVersion: number, expiresAtMs: number) {
    const { threadSince: _dropped, ...first } = state;
    return super.releaseGroup(first, claimedVersion, expiresAtMs);
  }
}

function scan(tables: Record<TableId, string>, at: number, firstRelease = false) {
  const log = new DynamoAuditLog(doc, tables.audit);
  return runScan({
    config,
    nowMs: at,
    runId: `run-${at}`,
    source: new DynamoOpenCaseSource(doc, tables.mirror),
    ledger: firstRelease ? new FirstReleaseLedger(doc, tables.ledger) : new DynamoLedger(doc, tables.ledger),
    publisher: new CallbackPublisher(),
    audit: firstRelease ? new FirstReleaseAuditLog(log) : log,
  });
}

/** Every message that listed the case, from the message items of these days: the oracle. */
async function listingsOf(table: string, days: readonly string[], caseRef: string): Promise<string[]> {
  const reader = new DynamoAuditReader(doc, table);
  const out: string[] = [];
  for (const day of days) {
    for (const m of (await reader.messagesOn(day)).items) {
      if (m.caseRefs.includes(caseRef)) out.push(`${m.sentAt} ${m.messageId} listed`);
      if (m.resolvedCaseRefs.includes(caseRef)) out.push(`${m.sentAt} ${m.messageId} resolved`);
    }
  }
  return out.sort();
}

/** What `queuewatch audit --case` answers, named disclosures only, in the oracle's terms. */
async function answerFor(table: string, caseRef: string): Promise<string[]> {
  const page = await new DynamoAuditReader(doc, table).disclosuresOf(caseRef);
  expect(page.unreadable).toBe(0);
  return page.items
    .filter((d) => !d.counted)
    .map((d) => `${d.sentAt} ${d.messageId} ${d.resolved ? 'resolved' : 'listed'}`)
    .sort();
}

/** The case's own items in the log (the by-case index), by the thread their key names. */
async function itemsOf(table: string, caseRef: string): Promise<string[]> {
  const response = await doc.send(
    new QueryCommand({
      TableName: table,
      IndexName: AUDIT_CASE_INDEX_NAME,
      KeyConditionExpression: 'caseRef = :caseRef',
      ExpressionAttributeValues: { ':caseRef': caseRef },
    }),
  );
  return (response.Items ?? []).map((i) => String(i.sentAtMessage).split(`#${caseRef}`)[1] ?? '').sort();
}

const DAYS = ['2026-11-30', '2026-12-01'];

describe('the disclosure log by thread', () => {
  it('gives a case an item where its thread starts and ends, and still finds every message that listed it', async () => {
    const tables = await createTables(dynamo.client, 'steady');
    const first = waiting('DA-002-0000001', 30 * HOUR);
    const second = waiting('DA-002-0000002', 29 * HOUR);
    const moving = waiting('DA-002-0000003', 28 * HOUR);
    await put(tables.mirror, [first, second, moving]);
    // Told at 09:00, reminded at 17:00 and 01:00 (the supervisor's breach reminder is 8 h); the
    // first case closes before the last reminder, which carries its resolved line; the third moves
    // district (a new thread for a district's audiences, the same one for the force's).
    await scan(tables, NOW);
    await scan(tables, NOW + 8 * HOUR);
    await put(tables.mirror, [closed(first, NOW + 12 * HOUR)], NOW + 12 * HOUR);
    await put(
      tables.mirror,
      [{ ...moving, district: 'D02', sourceUpdatedAt: iso(NOW + 12 * HOUR) }],
      NOW + 12 * HOUR,
    );
    await scan(tables, NOW + 16 * HOUR);

    for (const caseRef of [first.caseRef, second.caseRef, moving.caseRef]) {
      const listings = await listingsOf(tables.audit, DAYS, caseRef);
      // At least the supervisor's three and the MARAC coordinator's first (whose resolved line for
      // the first case waits out the coordinator's quiet hours, 20:00 to 08:00).
      expect(listings.length).toBeGreaterThanOrEqual(4);
      expect(await answerFor(tables.audit, caseRef)).toEqual(listings);
    }
    // The supervisor's three messages listed both cases: each has one item in that thread where it
    // started, and the first one where it ended.
    const supervisorItems = (caseRef: string) =>
      itemsOf(tables.audit, caseRef).then((items) => items.filter((i) => i.startsWith(`#${SUPERVISOR_D01}`)));
    expect(await supervisorItems(first.caseRef)).toEqual([`#${SUPERVISOR_D01}`, `#${SUPERVISOR_D01}`]);
    expect(await supervisorItems(second.caseRef)).toEqual([`#${SUPERVISOR_D01}`]);
  });

  it('counts news past the lines a message names, and finds the later reminder that names it', async () => {
    const tables = await createTables(dynamo.client, 'storm');
    // More breaches than a message lists at a level, oldest first: the youngest five are counted.
    const storm = Array.from({ length: LINES_PER_LEVEL + 5 }, (_, i) =>
      waiting(`DA-003-${String(i).padStart(7, '0')}`, 30 * HOUR - i * MINUTE),
    );
    await put(tables.mirror, storm);
    await scan(tables, NOW);
    // Ten of the oldest are assessed; the reminder eight hours on names the five it only counted.
    await put(
      tables.mirror,
      storm.slice(0, 10).map((r) => closed(r, NOW + HOUR)),
      NOW + HOUR,
    );
    await scan(tables, NOW + 8 * HOUR);

    const youngest = storm.at(-1) as CaseRecord;
    const page = await new DynamoAuditReader(doc, tables.audit).disclosuresOf(youngest.caseRef);
    expect(
      page.items
        .filter((d) => d.audience === 'district-supervisor')
        .map((d) => [d.sentAt, d.counted ?? false]),
    ).toEqual([
      [iso(NOW), true],
      [iso(NOW + 8 * HOUR), false],
    ]);
    for (const record of [storm[0], storm[150], youngest] as CaseRecord[]) {
      expect(await answerFor(tables.audit, record.caseRef)).toEqual(
        await listingsOf(tables.audit, DAYS, record.caseRef),
      );
    }
    // Items: the storm's news (listed or counted) and the ten resolved lines, not the reminder's.
    expect(await itemsOf(tables.audit, storm[150]?.caseRef as string)).not.toContain('');
    const reminded = await listingsOf(tables.audit, DAYS, (storm[150] as CaseRecord).caseRef);
    const own = await itemsOf(tables.audit, (storm[150] as CaseRecord).caseRef);
    expect(own.length).toBeLessThan(reminded.length);
  });

  it('migrates a log and ledger of the first release without losing a disclosure', async () => {
    const tables = await createTables(dynamo.client, 'migrating');
    const storm = Array.from({ length: LINES_PER_LEVEL + 5 }, (_, i) =>
      waiting(`DA-004-${String(i).padStart(7, '0')}`, 30 * HOUR - i * MINUTE),
    );
    await put(tables.mirror, storm);
    // The first release: every listed case an item; the five it only counted have none.
    await scan(tables, NOW, true);
    const youngest = storm.at(-1) as CaseRecord;
    expect(await itemsOf(tables.audit, youngest.caseRef)).toEqual([]);

    // This release from the next run on: ten cases close, a new one breaches.
    const later = waiting('DA-004-9999999', 25 * HOUR - 8 * HOUR);
    await put(
      tables.mirror,
      storm.slice(0, 10).map((r) => closed(r, NOW + HOUR)),
      NOW + HOUR,
    );
    await put(tables.mirror, [later]);
    await scan(tables, NOW + 8 * HOUR);
    await scan(tables, NOW + 16 * HOUR);

    for (const record of [storm[0], storm[20], storm[150], youngest, later] as CaseRecord[]) {
      const listings = await listingsOf(tables.audit, DAYS, record.caseRef);
      expect(listings.length).toBeGreaterThan(0);
      expect(await answerFor(tables.audit, record.caseRef)).toEqual(listings);
    }
    // A case notified before the thread began gets an item each time a message lists it; one
    // notified since, only where it started.
    const supervisor = (items: string[]) => items.filter((i) => i.startsWith(`#${SUPERVISOR_D01}`));
    expect(supervisor(await itemsOf(tables.audit, youngest.caseRef))).toHaveLength(2);
    expect(supervisor(await itemsOf(tables.audit, later.caseRef))).toHaveLength(1);
    expect(
      (await listingsOf(tables.audit, DAYS, later.caseRef)).filter((l) => l.endsWith('listed')).length,
    ).toBeGreaterThan(1);
  });
});

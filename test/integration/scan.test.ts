// The scan against a real (embedded) DynamoDB: the sparse index, the ledger's conditional writes,
// concurrent runs, failed publishes, repeats and resolved lines.

import { DynamoDBDocumentClient, GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoAuditLog } from '#shared/adapters/audit-log.ts';
import { DynamoLedger } from '#shared/adapters/ledger.ts';
import { MemoryAuditLog } from '#shared/adapters/memory-sinks.ts';
import { toMirrorItem } from '#shared/adapters/mirror-item.ts';
import { DynamoOpenCaseSource } from '#shared/adapters/mirror-reader.ts';
import type { TableId } from '#shared/adapters/tables.ts';
import { loadConfig } from '#shared/config/load.ts';
import type { CaseRecord } from '#shared/domain/case.ts';
import { generateQueue } from '#shared/generate/queue.ts';
import { createTables, type EmbeddedDynamo, startDynalite } from '#shared/local/embedded-dynamo.ts';
import { seedMirror } from '#shared/local/seed.ts';
import type { OutgoingMessage, Publisher } from '#shared/scan/ports.ts';
import { runScan } from '#shared/scan/run-scan.ts';
import { aCase as baseCase, iso } from '#test/support/fixtures.ts';
import { openIndexRefs } from '#test/support/open-index.ts';

const config = loadConfig();
const NOW = Date.parse('2026-11-27T09:00:00Z');
const HOUR = 3_600_000;

class RecordingPublisher implements Publisher {
  readonly messages: OutgoingMessage[] = [];
  failOn = new Set<number>();
  private calls = 0;

  async publish(message: OutgoingMessage): Promise<string> {
    this.calls += 1;
    const call = this.calls;
    // Let the event loop turn, so concurrent runs really interleave.
    await new Promise((r) => setTimeout(r, 1));
    if (this.failOn.has(call)) throw Object.assign(new Error('Throttled'), { name: 'ThrottledException' });
    this.messages.push(message);
    return `msg-${call}`;
  }

  /** Every (caseRef, audience@place) pair delivered. */
  deliveries(): string[] {
    return this.messages.flatMap((m) =>
      m.kind === 'summary' ? [] : caseRefsOf(m).flatMap((ref) => m.groups.map((g) => `${ref}|${g}`)),
    );
  }
}

/** Case references listed in a message's email body (the plain-text list, one per line). */
function caseRefsOf(message: OutgoingMessage): string[] {
  const body = message.email?.body ?? '';
  const listed = body.split('No longer waiting')[0] ?? '';
  return [...listed.matchAll(/^ {2}([A-Z0-9][A-Z0-9-]+) {2}/gm)].map((m) => m[1] as string);
}

const aCase = (overrides: Partial<CaseRecord>): CaseRecord =>
  baseCase({ stageEnteredAt: iso(NOW - 30 * HOUR), sourceUpdatedAt: iso(NOW - 30 * HOUR), ...overrides });

let dynamo: EmbeddedDynamo;
let doc: DynamoDBDocumentClient;
let tables: Record<TableId, string>;
let prefixCount = 0;

beforeAll(async () => {
  dynamo = await startDynalite();
  doc = DynamoDBDocumentClient.from(dynamo.client, { marshallOptions: { removeUndefinedValues: true } });
});
afterAll(async () => {
  await dynamo?.close();
});
beforeEach(async () => {
  prefixCount += 1;
  tables = await createTables(dynamo.client, `t${prefixCount}`);
});

function scanInput(publisher: Publisher, nowMs = NOW, runId = 'run-1') {
  return {
    config,
    nowMs,
    runId,
    source: new DynamoOpenCaseSource(doc, tables.mirror, { pageSize: 100 }),
    ledger: new DynamoLedger(doc, tables.ledger),
    publisher,
    audit: new DynamoAuditLog(doc, tables.audit),
  };
}

describe('the open-cases index', () => {
  it('reads only open cases, never the closed history', async () => {
    await seedMirror(
      doc,
      tables.mirror,
      generateQueue({
        open: 250,
        closed: 2000,
        seed: 3,
        nowMs: NOW,
        districts: Object.keys(config.file.districts),
      }),
      NOW,
    );
    const source = new DynamoOpenCaseSource(doc, tables.mirror, { pageSize: 100 });
    const result = await runScan({ ...scanInput(new RecordingPublisher()), source });

    expect(source.itemsRead).toBe(250);
    expect(result.read).toBe(250);
    expect(result.open).toBe(250);
    expect(result.invalid).toEqual({ total: 0, listed: [] });
  });

  it('drops a case from the index when it closes', async () => {
    const open = aCase({ caseRef: 'DA-000-0000002' });
    await doc.send(new PutCommand({ TableName: tables.mirror, Item: toMirrorItem(open, NOW) }));
    const before = await openIndexRefs(doc, tables.mirror);

    const closed = { ...open, stage: 'closed' as const, sourceUpdatedAt: new Date(NOW).toISOString() };
    await doc.send(new PutCommand({ TableName: tables.mirror, Item: toMirrorItem(closed, NOW) }));
    const after = await openIndexRefs(doc, tables.mirror);

    expect(before).toEqual(['DA-000-0000002']);
    expect(after).toEqual([]);
  });

  it('projects only what the engine needs', async () => {
    await doc.send(new PutCommand({ TableName: tables.mirror, Item: toMirrorItem(aCase({}), NOW) }));
    const source = new DynamoOpenCaseSource(doc, tables.mirror);
    const items: Record<string, unknown>[] = [];
    for (const shard of source.shards(['D01']))
      for await (const page of source.pages(shard)) items.push(...page);

    expect(Object.keys(items[0] ?? {}).sort()).toEqual(
      [
        'caseRef',
        'category',
        'childrenInvolved',
        'district',
        'openShard',
        'riskLevel',
        'stage',
        'stageEnteredAt',
      ].sort(),
    );
  });
});

describe('the alert ledger', () => {
  beforeEach(async () => {
    await seedMirror(
      doc,
      tables.mirror,
      generateQueue({ open: 300, seed: 5, nowMs: NOW, districts: Object.keys(config.file.districts) }),
      NOW,
    );
  });

  it("reads the first release's case records, writes its own packed, and writes a damaged one anew, reported", async () => {
    const first = new RecordingPublisher();
    await runScan(scanInput(first));
    const packed = await doc.send(new ScanCommand({ TableName: tables.ledger }));
    const shards = (packed.Items ?? []).filter((i) => typeof i.shard === 'number');
    expect(shards.length).toBeGreaterThan(0);
    expect(shards.every((i) => typeof i.packed === 'string' && i.cases === undefined)).toBe(true);
    // The same records the first release's way (a map per case), and one damaged beyond reading.
    const [damaged, ...rest] = shards;
    for (const item of rest) {
      const cases = Object.fromEntries(
        String(item.packed)
          .split(';')
          .map((part) => part.split(','))
          .map(([ref, l, e, n]) => [ref, { l, e: Number(e), n: Number(n) }]),
      );
      const { packed: _, ...old } = item;
      await doc.send(new PutCommand({ TableName: tables.ledger, Item: { ...old, cases } }));
    }
    await doc.send(
      new PutCommand({ TableName: tables.ledger, Item: { ...damaged, packed: 'DA-1,x,nope,1' } }),
    );

    const again = new RecordingPublisher();
    const result = await runScan(scanInput(again, NOW + 60_000, 'run-2'));

    // Nothing is news again but the damaged record's cases (a record not read is not trusted).
    const damagedRefs = String(damaged?.packed)
      .split(';')
      .map((part) => part.split(',')[0]);
    const resent = again.messages.flatMap((m) => caseRefsOf(m));
    expect(resent.length).toBeGreaterThan(0);
    expect(resent.every((ref) => damagedRefs.includes(ref))).toBe(true);
    // ... and the damaged record is reported, and written anew on its version by that message.
    expect(result.failures).toEqual([
      expect.objectContaining({ stage: 'read', error: 'LedgerRecordUnreadable' }),
    ]);
    expect(result.failures[0]?.consequence).toMatch(/^1 alert-ledger case record could not be read/);
    const rewritten = await doc.send(
      new GetCommand({ TableName: tables.ledger, Key: { group: damaged?.group } }),
    );
    expect(rewritten.Item?.version).toBe(Number(damaged?.version) + 1);
    expect(String(rewritten.Item?.packed).split(';').length).toBe(damagedRefs.length);

    // So its cases were news once, not at every run.
    const third = new RecordingPublisher();
    const after = await runScan(scanInput(third, NOW + 120_000, 'run-3'));
    expect(third.messages.flatMap((m) => caseRefsOf(m))).toEqual([]);
    expect(after.failures).toEqual([]);
  });

  it('group records damaged beyond their key and version are reported, and written anew by their next message: no group is silenced', async () => {
    await runScan(scanInput(new RecordingPublisher()));
    const stored = await doc.send(new ScanCommand({ TableName: tables.ledger }));
    const records = (stored.Items ?? []).filter((i) => String(i.group).startsWith('groups/'));
    expect(records.length).toBeGreaterThan(1);
    // Every one's version and audience gone (a hand edit, or a format this release cannot read).
    for (const { audience: _a, version: _v, ...rest } of records) {
      await doc.send(new PutCommand({ TableName: tables.ledger, Item: { ...rest, version: 'seven' } }));
    }

    // A day on, reminders are due: each group is claimed on its record as it stands, and told.
    const again = new RecordingPublisher();
    const result = await runScan(scanInput(again, NOW + 86_400_000, 'run-2'));
    expect(result.lostClaims).toBe(0);
    expect(again.messages.length).toBeGreaterThan(0);
    expect(result.failures).toEqual([
      expect.objectContaining({ stage: 'read', error: 'LedgerGroupUnreadable' }),
    ]);
    expect(result.failures[0]?.consequence).toMatch(
      new RegExp(`^${records.length} alert-ledger group records \\(or acknowledgements\\) could not be read`),
    );
    // Each group told has its record written anew, readable.
    const told = new Set(again.messages.flatMap((m) => m.groups));
    const after = await doc.send(new ScanCommand({ TableName: tables.ledger }));
    const rewritten = (after.Items ?? []).filter(
      (i) => String(i.group).startsWith('groups/') && told.has(`${i.audience}@${i.place}`),
    );
    expect(rewritten.length).toBe(told.size);
    expect(rewritten.every((i) => typeof i.version === 'number' && i.claim === undefined)).toBe(true);
    // A run a minute later finds fewer damaged, and claims none in vain.
    const third = await runScan(scanInput(new RecordingPublisher(), NOW + 86_460_000, 'run-3'));
    expect(third.lostClaims).toBe(0);
    const left = records.filter((r) => !told.has(String(r.group).slice('groups/'.length).replace('/', '@')));
    expect(left.length).toBeLessThan(records.length);
    expect(third.failures.filter((f) => f.error === 'LedgerGroupUnreadable')).toEqual(
      left.length > 0
        ? [expect.objectContaining({ consequence: expect.stringMatching(new RegExp(`^${left.length} `)) })]
        : [],
    );
  });

  it('a case record damaged beyond its key and version is written anew: its cases are news once, not at every run', async () => {
    await runScan(scanInput(new RecordingPublisher()));
    const stored = await doc.send(new ScanCommand({ TableName: tables.ledger }));
    const record = (stored.Items ?? []).find((i) => typeof i.packed === 'string');
    if (!record) throw new Error('no case record to damage');
    const { district: _d, version: _v, ...rest } = record;
    await doc.send(new PutCommand({ TableName: tables.ledger, Item: { ...rest, shard: 'x' } }));
    const refs = String(record.packed)
      .split(';')
      .map((part) => part.split(',')[0]);

    const again = new RecordingPublisher();
    const result = await runScan(scanInput(again, NOW + 60_000, 'run-2'));
    const resent = again.messages.flatMap((m) => caseRefsOf(m));
    expect(resent.length).toBeGreaterThan(0);
    expect(resent.every((ref) => refs.includes(ref))).toBe(true);
    expect(result.failures).toEqual([
      expect.objectContaining({ stage: 'read', error: 'LedgerRecordUnreadable' }),
    ]);
    const rewritten = await doc.send(
      new GetCommand({ TableName: tables.ledger, Key: { group: record.group } }),
    );
    expect(rewritten.Item).toMatchObject({
      audience: record.audience,
      district: record.district,
      shard: record.shard,
    });
    expect(String(rewritten.Item?.packed).split(';').length).toBe(refs.length);

    const third = new RecordingPublisher();
    const after = await runScan(scanInput(third, NOW + 120_000, 'run-3'));
    expect(third.messages.flatMap((m) => caseRefsOf(m))).toEqual([]);
    expect(after.failures).toEqual([]);
  });

  it('keeps the readable entries of a record damaged in part: only the damaged case is news, and a case that left still gets its resolved line', async () => {
    await runScan(scanInput(new RecordingPublisher()));
    const stored = await doc.send(new ScanCommand({ TableName: tables.ledger }));
    const record = (stored.Items ?? []).find(
      (i) => typeof i.packed === 'string' && i.packed.split(';').length >= 3,
    );
    if (!record) throw new Error('no ledger record with three cases to damage');
    const [first, ...others] = String(record.packed).split(';');
    const damagedRef = String(first?.split(',')[0]);
    const keptRefs = others.map((part) => String(part.split(',')[0]));
    await doc.send(
      new PutCommand({
        TableName: tables.ledger,
        Item: { ...record, packed: [`${damagedRef},x,nope,1`, ...others].join(';') },
      }),
    );
    // One of the readable entries' cases closes.
    const leaving = keptRefs[0] as string;
    const queue = [
      ...generateQueue({ open: 300, seed: 5, nowMs: NOW, districts: Object.keys(config.file.districts) }),
    ];
    const open = queue.find((c) => c.caseRef === leaving);
    if (!open) throw new Error(`${leaving} is not in the seeded queue`);
    const closed = {
      ...open,
      stage: 'closed' as const,
      sourceUpdatedAt: new Date(NOW + 30_000).toISOString(),
    };
    await doc.send(new PutCommand({ TableName: tables.mirror, Item: toMirrorItem(closed, NOW + 30_000) }));

    const again = new RecordingPublisher();
    const result = await runScan(scanInput(again, NOW + 60_000, 'run-2'));

    // One message, to the record's group: the damaged entry's case is news again, the readable
    // ones are not ...
    const newRefs = again.messages.flatMap((m) =>
      [...(m.email?.body ?? '').matchAll(/^ {2}([A-Z0-9-]+) {2}.* {2}NEW {2}/gm)].map((r) => r[1]),
    );
    expect(again.messages.map((m) => m.groups)).toEqual([[`${record.audience}@${record.district}`]]);
    expect(newRefs).toEqual([damagedRef]);
    // ... the one that closed is listed as resolved ...
    expect(result.messages.flatMap((m) => m.resolved)).toEqual([leaving]);
    // ... and the record is reported, and written anew with every case it still holds readable.
    expect(result.failures).toEqual([
      expect.objectContaining({ stage: 'read', error: 'LedgerRecordUnreadable' }),
    ]);
    expect(result.failures[0]?.consequence).toMatch(
      /^1 alert-ledger case record could not be read, in whole or in part/,
    );
    const rewritten = await doc.send(
      new GetCommand({ TableName: tables.ledger, Key: { group: record.group } }),
    );
    expect(rewritten.Item?.version).toBe(Number(record.version) + 1);
    const refs = String(rewritten.Item?.packed)
      .split(';')
      .map((part) => part.split(',')[0]);
    expect(refs.sort()).toEqual([damagedRef, ...keptRefs.slice(1)].sort());
  });

  it('sends nothing twice when two runs go at once', async () => {
    const single = new RecordingPublisher();
    // What one run alone would deliver, on a copy of the same queue.
    await runScan(scanInput(single));
    const expected = new Set(single.deliveries());
    const freshLedger = await createTables(dynamo.client, `c${prefixCount}`);
    const a = new RecordingPublisher();
    const b = new RecordingPublisher();
    const ledger = freshLedger.ledger;

    const [ra, rb] = await Promise.all([
      runScan({ ...scanInput(a, NOW, 'run-a'), ledger: new DynamoLedger(doc, ledger) }),
      runScan({ ...scanInput(b, NOW, 'run-b'), ledger: new DynamoLedger(doc, ledger) }),
    ]);

    const delivered = [...a.deliveries(), ...b.deliveries()];
    expect(new Set(delivered).size).toBe(delivered.length);
    expect(new Set(delivered)).toEqual(expected);
    expect(ra.lostClaims + rb.lostClaims + ra.inFlightElsewhere + rb.inFlightElsewhere).toBeGreaterThan(0);
  });

  it('leaves the cases of a failed publish due for the next run', async () => {
    const first = new RecordingPublisher();
    first.failOn = new Set([2, 3]);

    const failedRun = await runScan(scanInput(first));
    const retry = new RecordingPublisher();
    const nextRun = await runScan(scanInput(retry, NOW + 60_000, 'run-2'));

    const firstDelivered = new Set(first.deliveries());
    const failed = failedRun.failures.filter((f) => f.stage === 'publish');
    expect(failed).toHaveLength(2);
    expect(nextRun.messages.length).toBe(2);
    for (const delivery of retry.deliveries()) expect(firstDelivered.has(delivery)).toBe(false);
    expect(retry.messages.flatMap((m) => m.groups).sort()).toEqual(failed.map((f) => f.group).sort());
  });

  it('reminds an audience only after its own repeat interval', async () => {
    await runScan(scanInput(new RecordingPublisher()));
    const soon = new RecordingPublisher();
    const later = new RecordingPublisher();

    await runScan(scanInput(soon, NOW + 30 * 60_000, 'run-2'));
    await runScan(scanInput(later, NOW + 4 * HOUR + 60_000, 'run-3'));

    // Within 30 minutes, only cases that crossed a new threshold are sent; after four hours, every
    // district supervisor with an escalation waiting is reminded (its escalation repeat is 4h).
    const supervisorReminders = (p: RecordingPublisher) =>
      p.messages.filter(
        (m) => String(m.audience) === 'district-supervisor' && m.level.includes('escalation'),
      );
    expect(supervisorReminders(later).length).toBeGreaterThan(supervisorReminders(soon).length);
  });
});

describe('resolved cases', () => {
  it('adds one resolved line to the next message for the same audience, then forgets the case', async () => {
    const stuck = aCase({
      caseRef: 'DA-000-0000010',
      stageEnteredAt: new Date(NOW - 30 * HOUR).toISOString(),
    });
    const assessed = aCase({
      caseRef: 'DA-000-0000011',
      stageEnteredAt: new Date(NOW - 29 * HOUR).toISOString(),
    });
    for (const c of [stuck, assessed]) {
      await doc.send(new PutCommand({ TableName: tables.mirror, Item: toMirrorItem(c, NOW) }));
    }
    await runScan(scanInput(new RecordingPublisher()));
    const closedAt = new Date(NOW + HOUR).toISOString();
    await doc.send(
      new PutCommand({
        TableName: tables.mirror,
        Item: toMirrorItem(
          { ...assessed, stage: 'closed', stageEnteredAt: closedAt, sourceUpdatedAt: closedAt },
          NOW,
        ),
      }),
    );

    const next = new RecordingPublisher();
    const second = await runScan(scanInput(next, NOW + 5 * HOUR, 'run-2'));
    const third = await runScan(scanInput(new RecordingPublisher(), NOW + 10 * HOUR, 'run-3'));

    const toSupervisor = second.messages.find((m) => m.audience === 'district-supervisor');
    expect(toSupervisor?.resolved).toEqual(['DA-000-0000011']);
    expect(toSupervisor?.kind).toBe('email-only');
    expect(toSupervisor?.email?.body).toContain('No longer waiting');
    expect(second.resolved).toBe(2); // district supervisor and MARAC coordinator
    expect(third.resolved).toBe(0);
  });
});

describe('a case moving district', () => {
  it('moves shard with neither a duplicate nor a lost alert, even with two runs at once', async () => {
    // Thirty days waiting: escalated everywhere it is watched.
    const stale = aCase({
      caseRef: 'DA-000-0000020',
      stageEnteredAt: new Date(NOW - 30 * 24 * HOUR).toISOString(),
      sourceUpdatedAt: new Date(NOW - 30 * 24 * HOUR).toISOString(),
    });
    await doc.send(new PutCommand({ TableName: tables.mirror, Item: toMirrorItem(stale, NOW) }));
    const first = new RecordingPublisher();
    await runScan(scanInput(first));
    expect(first.deliveries()).toContain('DA-000-0000020|district-supervisor@D01');
    expect(first.deliveries()).toContain('DA-000-0000020|senior-officer@force');

    const movedAt = new Date(NOW + 60_000).toISOString();
    const moved = { ...stale, district: 'D02', sourceUpdatedAt: movedAt };
    await doc.send(new PutCommand({ TableName: tables.mirror, Item: toMirrorItem(moved, NOW + 60_000) }));
    // The index now holds it under D02 only.
    expect(await openIndexRefs(doc, tables.mirror, ['D01'])).not.toContain('DA-000-0000020');
    expect(await openIndexRefs(doc, tables.mirror, ['D02'])).toEqual(['DA-000-0000020']);

    const a = new RecordingPublisher();
    const b = new RecordingPublisher();
    await Promise.all([
      runScan(scanInput(a, NOW + 5 * 60_000, 'run-2a')),
      runScan(scanInput(b, NOW + 5 * 60_000, 'run-2b')),
    ]);
    const later = new RecordingPublisher();
    const afterQuiet = await runScan(scanInput(later, NOW + 4 * HOUR + 10 * 60_000, 'run-3'));

    const afterMove = [...a.deliveries(), ...b.deliveries()];
    // New where the move makes it new, once; nothing again for the force, which heard of it already.
    expect(afterMove.filter((d) => d === 'DA-000-0000020|district-supervisor@D02')).toHaveLength(1);
    expect(afterMove.filter((d) => d.endsWith('@force'))).toEqual([]);
    expect(afterMove.filter((d) => d.endsWith('@D01'))).toEqual([]);
    // D01's supervisor is told it no longer waits there, once.
    const resolvedForD01 = afterQuiet.messages.filter(
      (m) => m.groups.includes('district-supervisor@D01') && m.resolved.includes('DA-000-0000020'),
    );
    expect(resolvedForD01).toHaveLength(1);
    // Reminders follow the case to D02 on its cadence; D01 lists it no more.
    expect(later.deliveries().filter((d) => d.endsWith('@D01'))).toEqual([]);
  });
});

describe('the SMS budget', () => {
  it('sends at most the budget by SMS, and one summary for the rest per set of levels', async () => {
    const districts = Object.keys(config.file.districts);
    await seedMirror(
      doc,
      tables.mirror,
      generateQueue({ open: 700, seed: 11, nowMs: NOW, districts, backlog: 700 }),
      NOW,
    );
    const publisher = new RecordingPublisher();

    const result = await runScan(scanInput(publisher));

    const withSms = publisher.messages.filter((m) => m.sms !== undefined);
    const summaries = publisher.messages.filter((m) => m.kind === 'summary');
    // At most one summary for each set of the three levels an alert can carry.
    expect(summaries.length).toBeGreaterThanOrEqual(1);
    expect(summaries.length).toBeLessThanOrEqual(7);
    expect(new Set(summaries.map((m) => [...m.level].join(','))).size).toBe(summaries.length);
    expect(withSms.length).toBe(config.file.sms.maxPerRun + summaries.length);
    for (const summary of summaries) expect(summary.sms).toMatch(/email only/);
    expect(summaries.flatMap((m) => m.groups).sort()).toEqual([...result.smsStarved].sort());
    expect(result.emailOnly).toBeGreaterThan(0);
    expect(publisher.messages.length).toBeLessThanOrEqual(districts.length * 9 * 3 + summaries.length);
  });

  it('writes a disclosure record for every message, without its text', async () => {
    await doc.send(new PutCommand({ TableName: tables.mirror, Item: toMirrorItem(aCase({}), NOW) }));
    const audit = new MemoryAuditLog();

    const result = await runScan({ ...scanInput(new RecordingPublisher()), audit });

    expect(audit.entries).toHaveLength(result.messages.length);
    for (const entry of audit.entries) {
      expect(entry.caseRefs).toEqual(['DA-000-0000001']);
      expect(entry.messageId).toMatch(/^msg-/);
      expect(JSON.stringify(entry)).not.toContain('QW ');
    }
  });
});

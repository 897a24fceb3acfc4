// The disclosure log and the live picture against a real (embedded) DynamoDB: the real scan writes
// the log, `queuewatch audit` reads it back by day and by case; `queuewatch status` reads the
// open-cases index through the scan's own source and engine.

import { DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoAuditLog, DynamoAuditReader } from '#shared/adapters/audit-log.ts';
import { recordIngest } from '#shared/adapters/ingest-state.ts';
import { DynamoLedger } from '#shared/adapters/ledger.ts';
import { CallbackPublisher } from '#shared/adapters/memory-sinks.ts';
import { toMirrorItem } from '#shared/adapters/mirror-item.ts';
import { DynamoOpenCaseSource } from '#shared/adapters/mirror-reader.ts';
import type { TableId } from '#shared/adapters/tables.ts';
import { queueStatus } from '#shared/app/status.ts';
import type { CaseRecord } from '#shared/domain/case.ts';
import { createTables, type EmbeddedDynamo, startDynalite } from '#shared/local/embedded-dynamo.ts';
import type { AuditEntry } from '#shared/scan/ports.ts';
import { runScan } from '#shared/scan/run-scan.ts';
import { aCase, DAY, defaultConfig, HOUR, iso, MINUTE, runCli } from '#test/support/fixtures.ts';

const NOW = Date.parse('2026-11-30T09:00:00Z');
const config = defaultConfig();

let dynamo: EmbeddedDynamo;
let doc: DynamoDBDocumentClient;

beforeAll(async () => {
  dynamo = await startDynalite();
  doc = DynamoDBDocumentClient.from(dynamo.client, { marshallOptions: { removeUndefinedValues: true } });
});
afterAll(async () => {
  await dynamo?.close();
});

const waiting = (caseRef: string, ageMs: number, overrides: Partial<CaseRecord> = {}): CaseRecord =>
  aCase({ caseRef, stageEnteredAt: iso(NOW - ageMs), sourceUpdatedAt: iso(NOW - ageMs), ...overrides });

async function put(table: string, record: CaseRecord): Promise<void> {
  await doc.send(new PutCommand({ TableName: table, Item: toMirrorItem(record, NOW) }));
}

/** The real scan with the real DynamoDB adapters, publishing to a callback. */
function scan(tables: Record<TableId, string>, at: number) {
  return runScan({
    config,
    nowMs: at,
    runId: `run-${at}`,
    source: new DynamoOpenCaseSource(doc, tables.mirror),
    ledger: new DynamoLedger(doc, tables.ledger),
    publisher: new CallbackPublisher(),
    audit: new DynamoAuditLog(doc, tables.audit),
  });
}

describe('the disclosure log', () => {
  let table: string;
  const entry = (overrides: Partial<AuditEntry> = {}): AuditEntry => ({
    sentAt: '2026-11-30T09:00:00.000Z',
    messageId: 'msg-1',
    runId: 'run-1',
    kind: 'alert',
    audience: 'district-supervisor',
    district: 'D01',
    localAuthority: 'la-northgate',
    level: 'breach',
    caseRefs: ['DA-000-0000001', 'DA-000-0000002'],
    resolvedCaseRefs: ['DA-000-0000003'],
    reason: 'breach threshold reached',
    ...overrides,
  });

  beforeAll(async () => {
    table = (await createTables(dynamo.client, 'log')).audit;
  });

  it('keeps one item per message and one per disclosed case, and a repeated record adds nothing', async () => {
    const log = new DynamoAuditLog(doc, table);

    await log.record(entry());
    await log.record(entry());
    const items = await doc.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: '#day = :day',
        ExpressionAttributeNames: { '#day': 'day' },
        ExpressionAttributeValues: { ':day': '2026-11-30' },
      }),
    );

    expect(items.Items?.map((i) => i.sentAtMessage)).toEqual([
      '2026-11-30T09:00:00.000Z#msg-1',
      '2026-11-30T09:00:00.000Z#msg-1#DA-000-0000001',
      '2026-11-30T09:00:00.000Z#msg-1#DA-000-0000002',
      '2026-11-30T09:00:00.000Z#msg-1#DA-000-0000003',
    ]);
    expect(items.Items?.[0]).toMatchObject({ caseRefs: ['DA-000-0000001', 'DA-000-0000002'] });
  });

  it('answers by day with the messages only, and by case from the index, oldest first', async () => {
    const log = new DynamoAuditLog(doc, table);
    const reader = new DynamoAuditReader(doc, table);
    await log.record(
      entry({
        sentAt: '2026-11-30T13:00:00.000Z',
        messageId: 'msg-2',
        caseRefs: ['DA-000-0000001'],
        resolvedCaseRefs: [],
      }),
    );
    // A summary goes to several audiences and districts at once and names no case.
    await log.record(
      entry({
        sentAt: '2026-11-30T13:00:00.000Z',
        messageId: 'msg-3',
        kind: 'summary',
        audience: ['district-supervisor', 'senior-officer'],
        district: ['D01', 'D02'],
        localAuthority: ['la-northgate', 'la-eastmoor'],
        level: ['breach', 'warning'],
        caseRefs: [],
        resolvedCaseRefs: [],
        reason: 'SMS cap of 20 reached; 3 messages went by email only',
      }),
    );

    const day = await reader.messagesOn('2026-11-30');
    const one = await reader.disclosuresOf('DA-000-0000001');
    const resolved = await reader.disclosuresOf('DA-000-0000003');

    expect(day.unreadable).toBe(0);
    expect(day.items.map((m) => m.messageId).sort()).toEqual(['msg-1', 'msg-2', 'msg-3']);
    expect(one.items.map((d) => [d.sentAt, d.messageId, d.level, d.resolved])).toEqual([
      ['2026-11-30T09:00:00.000Z', 'msg-1', 'breach', false],
      ['2026-11-30T13:00:00.000Z', 'msg-2', 'breach', false],
    ]);
    expect(resolved.items).toEqual([expect.objectContaining({ messageId: 'msg-1', resolved: true })]);
  });
});

describe('queuewatch audit', () => {
  let tables: Record<TableId, string>;

  beforeAll(async () => {
    tables = await createTables(dynamo.client, 'audited');
    await put(tables.mirror, waiting('DA-001-0000001', 30 * HOUR));
    await put(tables.mirror, waiting('DA-001-0000002', 5 * HOUR, { district: 'D02' }));
    await scan(tables, NOW);
    // Four hours on, the breach is still inside its 8-hour reminder; the warning has been
    // assessed and closed: the supervisor and the MARAC coordinator are told it is resolved (by
    // email alone, four hours after their last message).
    await put(tables.mirror, {
      ...waiting('DA-001-0000002', 5 * HOUR, { district: 'D02' }),
      stage: 'closed',
      sourceUpdatedAt: iso(NOW + HOUR),
    });
    await scan(tables, NOW + 4 * HOUR);
  });

  const audit = (...args: string[]) =>
    runCli(['audit', '--endpoint', dynamo.endpoint, '--prefix', 'audited', ...args]);

  it('lists who was told about a case, when and at which level', async () => {
    const [breached, resolved] = await Promise.all([
      audit('--case', 'DA-001-0000001'),
      audit('--case', 'DA-001-0000002'),
    ]);

    expect(breached.status).toBe(0);
    expect(breached.stdout.split('\n')).toEqual([
      'DA-001-0000001: 2 disclosures in audited-audit, oldest first',
      expect.stringMatching(
        /^ {2}2026-11-30 09:00:00Z {2}breach +to district-supervisor in D01 \(la-northgate\) by SMS and email; message [\w-]+; a case reached breach$/,
      ),
      expect.stringMatching(
        /^ {2}2026-11-30 09:00:00Z {2}breach +to marac-coordinator in D01 \(la-northgate\) by SMS and email; /,
      ),
      '',
    ]);
    expect(resolved.stdout).toMatch(/^DA-001-0000002: 4 disclosures in audited-audit, oldest first\n/);
    expect(resolved.stdout).toMatch(
      /\n {2}2026-11-30 13:00:00Z {2}resolved \(no longer at warning\) {2}to district-supervisor in D02 /,
    );
  });

  it('lists the messages of a day, with their cases on request, and as JSON', async () => {
    const [day, withCases, json, otherDay] = await Promise.all([
      audit('--day', '2026-11-30'),
      audit('--day', '2026-11-30', '--cases'),
      audit('--day', '2026-11-30', '--json'),
      audit('--day', '2026-11-29'),
    ]);

    expect(day.status).toBe(0);
    expect(day.stdout).toMatch(
      /^audited-audit, 2026-11-30 \(UTC\): 6 messages disclosing 2 cases, and 2 resolved lines\n/,
    );
    expect(day.stdout).toMatch(
      /\n {2}09:00:00 {2}breach +to district-supervisor in D01 by SMS and email: 1 case; message /,
    );
    expect(withCases.stdout).toMatch(/\n {6}DA-001-0000001\n/);
    expect(withCases.stdout).toMatch(/\n {6}resolved: DA-001-0000002\n/);
    const document = JSON.parse(json.stdout);
    expect(document).toMatchObject({ table: 'audited-audit', day: '2026-11-30', unreadable: 0 });
    expect(document.items).toHaveLength(6);
    expect(otherDay.stdout).toBe('audited-audit, 2026-11-29 (UTC): 0 messages disclosing 0 cases\n');
  });

  it('refuses a case reference that cannot be one, and a table it is not told', async () => {
    const [badRef, noTable] = await Promise.all([
      audit('--case', 'not a ref'),
      runCli(['audit', '--day', '2026-11-30']),
    ]);

    expect(badRef.status).toBe(2);
    expect(badRef.stderr).toBe(
      'queuewatch: --case must be a case reference: 3 to 40 capital letters, digits and dashes\n',
    );
    expect(noTable.status).toBe(2);
    expect(noTable.stderr).toMatch(
      /^queuewatch: name the audit table: --table NAME or --prefix PREFIX, or --stage STAGE/,
    );
  });

  it('says so when the table named is not a disclosure log (exit 4), never an internal error', async () => {
    const [byCase, byDay] = await Promise.all([
      runCli(['audit', '--endpoint', dynamo.endpoint, '--table', tables.mirror, '--case', 'DA-001-0000001']),
      runCli(['audit', '--endpoint', dynamo.endpoint, '--table', tables.mirror, '--day', '2026-11-30']),
    ]);

    for (const result of [byCase, byDay]) {
      expect(result.status).toBe(4);
      expect(result.stderr).toBe(
        "queuewatch: audited-mirror is not a disclosure log table (its key is caseRef, a disclosure log's is day, sentAtMessage): check --prefix or --table\n",
      );
    }
  });

  it('says so when the table does not exist', async () => {
    const result = await runCli([
      'audit',
      '--endpoint',
      dynamo.endpoint,
      '--prefix',
      'missing',
      '--day',
      '2026-11-30',
    ]);

    expect(result.status).toBe(4);
    expect(result.stderr).toMatch(
      /^queuewatch: DynamoDB at http:\/\/127\.0\.0\.1:\d+ has no table missing-audit: create the tables with/,
    );
  });
});

describe('queuewatch status', () => {
  let tables: Record<TableId, string>;

  beforeAll(async () => {
    tables = await createTables(dynamo.client, 'watched');
    const mirror = tables.mirror;
    await put(mirror, waiting('DA-002-0000001', 60 * DAY));
    await put(mirror, waiting('DA-002-0000002', 30 * HOUR, { district: 'D02' }));
    await put(mirror, waiting('DA-002-0000003', HOUR, { district: 'D02' }));
    await put(mirror, waiting('VA-002-0000001', 5 * HOUR, { category: 'vulnerable-adult', district: 'D03' }));
    await put(
      mirror,
      waiting('CP-002-0000001', 2 * HOUR, { category: 'child-protection', childrenInvolved: true }),
    );
    await put(mirror, { ...waiting('DA-002-0000004', 90 * DAY), stage: 'closed' });
    // An item the scan cannot evaluate (an unknown district) is counted, not guessed at.
    await doc.send(
      new PutCommand({
        TableName: mirror,
        Item: { ...toMirrorItem(waiting('DA-002-0000005', HOUR), NOW), district: 'D99' },
      }),
    );
  });

  it('reads the open-cases index through the scan’s source and engine', async () => {
    const status = await queueStatus(new DynamoOpenCaseSource(doc, tables.mirror), config, NOW);

    expect(status).toMatchObject({ read: 6, invalid: 1, open: 5 });
    expect(status.levels).toEqual({ escalation: 1, breach: 1, warning: 1, none: 2 });
    expect(status.byDistrict.find((d) => d.district === 'D02')).toEqual({
      district: 'D02',
      name: 'Eastmoor',
      levels: { escalation: 0, breach: 1, warning: 0, none: 1 },
      open: 2,
    });
    expect(status.oldestByCategory.find((c) => c.category === 'domestic-abuse')).toEqual({
      category: 'domestic-abuse',
      open: 3,
      oldest: {
        caseRef: 'DA-002-0000001',
        district: 'D01',
        riskLevel: 'high',
        stage: 'awaiting-risk-assessment',
        ageMs: 60 * DAY,
        level: 'escalation',
        rule: 'da-high-assessment',
      },
    });
  });

  it('prints open cases by district and level and the oldest of each category', async () => {
    const result = await runCli([
      'status',
      '--endpoint',
      dynamo.endpoint,
      '--prefix',
      'watched',
      '--at',
      iso(NOW),
    ]);

    expect(result.status).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines.slice(0, 3)).toEqual([
      'watched-mirror as of 2026-11-30 09:00 UTC, limits from the shipped config: 5 open cases',
      '  1 at escalation, 1 at breach, 1 at warning, 2 within limits',
      '  and 1 item in the open-cases index that could not be evaluated (the scan skips them and tells ops)',
    ]);
    expect(lines).toContain('  district         escalation  breach  warning  within  open');
    expect(lines).toContain('  D01 Northgate             1       0        0       1     2');
    expect(lines).toContain('  D03 Southwick             0       0        1       0     1');
    expect(lines).toContain('  all                       1       1        1       2     5');
    expect(lines).toContain(
      '  domestic-abuse              DA-002-0000001   60d 0h  escalation, D01, high risk, awaiting-risk-assessment (rule da-high-assessment; 3 open cases)',
    );
    expect(lines).toContain('  child-immediate-protection  no open case');
  });

  it('says how fresh the mirror is: when the feed last delivered a case change, and a quiet feed loudly', async () => {
    const status = (...args: string[]) =>
      runCli(['status', '--endpoint', dynamo.endpoint, '--prefix', 'watched', ...args]);
    const never = await status();
    await recordIngest(doc, tables.state, Date.now() - 7 * HOUR);
    const [quiet, quietJson] = await Promise.all([status(), status('--json')]);
    await recordIngest(doc, tables.state, Date.now() - 10 * MINUTE);
    const [fresh, byTable] = await Promise.all([
      status(),
      runCli(['status', '--endpoint', dynamo.endpoint, '--table', tables.mirror]),
    ]);

    expect(never.status).toBe(0);
    expect(never.stdout.split('\n')[3]).toBe(
      '  FEED QUIET: no case change from the case system has ever been recorded in watched-state: these figures may not reflect the queue',
    );
    expect(quiet.stdout.split('\n')[3]).toMatch(
      /^ {2}FEED QUIET: no case change has come from the case system for 7h [01]m \(since 20\d\d-[-\dT:.]+Z\): these figures may be out of date$/,
    );
    expect(JSON.parse(quietJson.stdout).feed).toMatchObject({ stateTable: 'watched-state', quiet: true });
    expect(fresh.stdout.split('\n')[3]).toMatch(/^ {2}feed: the last case change arrived 1[01]m ago$/);
    // Named by --table alone, the mirror has no state table known beside it: nothing said.
    expect(byTable.status).toBe(0);
    expect(byTable.stdout).not.toMatch(/feed|FEED/);
  });

  it('says so when the table named is not a mirror (exit 4), never an internal error', async () => {
    const result = await runCli(['status', '--endpoint', dynamo.endpoint, '--table', tables.audit]);

    expect(result.status).toBe(4);
    expect(result.stderr).toBe(
      "queuewatch: watched-audit is not a mirror table (its key is day, sentAtMessage, a mirror's is caseRef): check --prefix or --table\n",
    );
  });

  it('prints the same as JSON', async () => {
    const result = await runCli([
      'status',
      '--endpoint',
      dynamo.endpoint,
      '--prefix',
      'watched',
      '--at',
      iso(NOW),
      '--json',
    ]);

    const expected = await queueStatus(new DynamoOpenCaseSource(doc, tables.mirror), config, NOW);
    expect(JSON.parse(result.stdout)).toEqual({
      table: 'watched-mirror',
      limits: 'the shipped config',
      ...expected,
    });
  });
});

// `queuewatch audit`: what the disclosure log says was sent, locally (--endpoint) or on AWS
// (--stage): every message of a day, or every disclosure of one case ("who was told about this
// case, when, at which level"). Reads the log; never the message text, which is not kept.

import {
  type AuditPage,
  type Disclosure,
  DynamoAuditReader,
  type LoggedMessage,
} from '../adapters/audit-log.ts';
import { AUDIT_CASE_INDEX_NAME, AUDIT_TABLE, AUDIT_THREAD_INDEX_NAME } from '../adapters/tables.ts';
import { CASE_REF_PATTERN } from '../domain/case.ts';
import { byCodeUnit } from '../domain/order.ts';
import { documentClient, dynamoClient } from './aws.ts';
import { callService } from './errors.ts';
import { plural, print, UsageError } from './output.ts';
import { expectTable } from './table-shape.ts';
import { type TargetOptions, tableTarget } from './targets.ts';

export interface AuditOptions extends TargetOptions {
  day?: string;
  case?: string;
  cases?: boolean;
  json?: boolean;
}

const list = (value: string | readonly string[]) => (typeof value === 'string' ? value : value.join(', '));

const HOW: Record<string, string> = {
  alert: 'SMS and email',
  'email-only': 'email only',
  summary: 'summary SMS',
};

export async function auditCommand(options: AuditOptions, nowMs: number): Promise<void> {
  const target = tableTarget(options, AUDIT_TABLE.id);
  if (options.case !== undefined && !CASE_REF_PATTERN.test(options.case)) {
    throw new UsageError('--case must be a case reference: 3 to 40 capital letters, digits and dashes');
  }
  if (options.cases && options.case !== undefined) {
    throw new UsageError('--cases lists the cases of each message of a day: use it with --day, not --case');
  }
  const client = dynamoClient(target);
  try {
    const reader = new DynamoAuditReader(documentClient(client), target.tableName);
    const service = { service: 'DynamoDB' as const, resource: target.tableName, ...target };
    await expectTable(client, service, {
      what: 'disclosure log',
      definition: AUDIT_TABLE,
      // By case: the case's own items, and the threads between them (a log written before the
      // by-thread index was deployed has no thread to read).
      reads: (present) =>
        options.case === undefined
          ? []
          : [
              AUDIT_CASE_INDEX_NAME,
              ...(present.has(AUDIT_THREAD_INDEX_NAME) ? [AUDIT_THREAD_INDEX_NAME] : []),
            ],
    });
    if (options.case !== undefined) {
      const caseRef = options.case;
      const page = await callService(service, () => reader.disclosuresOf(caseRef));
      print(
        options.json
          ? JSON.stringify({ table: target.tableName, caseRef, ...page }, null, 2)
          : formatDisclosures(caseRef, page, target.tableName),
      );
      return;
    }
    const day = options.day ?? new Date(nowMs).toISOString().slice(0, 10);
    const page = await callService(service, () => reader.messagesOn(day));
    print(
      options.json
        ? JSON.stringify({ table: target.tableName, day, ...page }, null, 2)
        : formatDay(day, page, target.tableName, options.cases ?? false),
    );
  } finally {
    client.destroy();
  }
}

const unreadableNote = (count: number) =>
  count > 0
    ? [`  and ${plural(count, 'item')} in the log that could not be read (not in the expected shape)`]
    : [];

/** An acknowledgement is in the log beside the disclosures, but tells nobody anything: the audience
 * it names acknowledged the message, by its link. */
const isAck = (entry: { kind: string }) => entry.kind === 'acknowledgement';

export function formatDisclosures(caseRef: string, page: AuditPage<Disclosure>, table: string): string {
  const counted = page.items.filter((d) => d.counted).length;
  const acks = page.items.filter(isAck).length;
  const named = page.items.length - counted - acks;
  const also = [
    acks > 0 ? plural(acks, 'acknowledgement') : '',
    counted > 0 ? `${plural(counted, 'message')} that counted it without naming it` : '',
  ].filter(Boolean);
  const out = [
    `${caseRef}: ${plural(named, 'disclosure')}${also.length > 0 ? `${also.length > 1 ? ', ' : ' and '}${also.join(' and ')}` : ''} in ${table}${page.items.length > 0 ? ', oldest first' : ''}`,
  ];
  for (const d of page.items) {
    const at = d.sentAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
    const where = `${list(d.audience)} in ${list(d.district)} (${list(d.localAuthority)})`;
    if (isAck(d)) {
      out.push(`  ${at}  ${'acknowledged'.padEnd(10)}  by ${where}; ${d.messageId}; ${d.reason}`);
      continue;
    }
    const what = d.resolved
      ? `resolved (no longer at ${list(d.level)})`
      : d.counted
        ? 'counted, not named'
        : list(d.level);
    out.push(
      `  ${at}  ${what.padEnd(10)}  to ${where} by ${HOW[d.kind] ?? d.kind}; message ${d.messageId}; ${d.reason}`,
    );
  }
  out.push(...unreadableNote(page.unreadable));
  return out.join('\n');
}
export function formatDay(
  day: string,
  page: AuditPage<LoggedMessage>,
  table: string,
  withCases: boolean,
): string {
  // In the order sent; within a run, by audience and district, so a day reads the same each time.
  const messages = [...page.items].sort(
    (a, b) =>
      byCodeUnit(a.sentAt, b.sentAt) ||
      byCodeUnit(list(a.audience), list(b.audience)) ||
      byCodeUnit(list(a.district), list(b.district)) ||
      byCodeUnit(a.messageId, b.messageId),
  );
  const sent = messages.filter((m) => !isAck(m));
  const cases = new Set(sent.flatMap((m) => m.caseRefs));
  const resolved = sent.reduce((sum, m) => sum + m.resolvedCaseRefs.length, 0);
  const acks = messages.length - sent.length;
  const out = [
    `${table}, ${day} (UTC): ${plural(sent.length, 'message')} disclosing ${plural(cases.size, 'case')}${resolved > 0 ? `, and ${plural(resolved, 'resolved line')}` : ''}${acks > 0 ? `; ${plural(acks, 'acknowledgement')}` : ''}`,
  ];
  for (const m of messages) {
    if (isAck(m)) {
      out.push(
        `  ${m.sentAt.slice(11, 19)}  ${list(m.level).padEnd(10)}  acknowledged by ${list(m.audience)} in ${list(m.district)}: ${plural(m.caseRefs.length, 'case')}; ${m.messageId}`,
      );
      if (withCases && m.caseRefs.length > 0) out.push(`      ${m.caseRefs.join(' ')}`);
      continue;
    }
    const lines = [
      m.caseRefs.length > 0 ? plural(m.caseRefs.length, 'case') : '',
      m.resolvedCaseRefs.length > 0 ? `${m.resolvedCaseRefs.length} resolved` : '',
    ].filter(Boolean);
    out.push(
      `  ${m.sentAt.slice(11, 19)}  ${list(m.level).padEnd(10)}  to ${list(m.audience)} in ${list(m.district)} by ${HOW[m.kind] ?? m.kind}: ${lines.join(', ') || m.reason}; message ${m.messageId}`,
    );
    if (withCases && m.caseRefs.length > 0) out.push(`      ${m.caseRefs.join(' ')}`);
    if (withCases && m.resolvedCaseRefs.length > 0)
      out.push(`      resolved: ${m.resolvedCaseRefs.join(' ')}`);
  }
  out.push(...unreadableNote(page.unreadable));
  return out.join('\n');
}

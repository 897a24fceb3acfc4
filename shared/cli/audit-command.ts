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

export function formatDisclosures(caseRef: string, page: AuditPage<Disclosure>, table: string): string {
  const counted = page.items.filter((d) => d.counted).length;
  const named = page.items.length - counted;
  const out = [
    `${caseRef}: ${plural(named, 'disclosure')}${counted > 0 ? ` and ${plural(counted, 'message')} that counted it without naming it` : ''} in ${table}${page.items.length > 0 ? ', oldest first' : ''}`,
  ];
  for (const d of page.items) {
    const what = d.resolved
      ? `resolved (no longer at ${list(d.level)})`
      : d.counted
        ? 'counted, not named'
        : list(d.level);
    out.push(
      `  ${d.sentAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}  ${what.padEnd(10)}  to ${list(d.audience)} in ${list(d.district)} (${list(d.localAuthority)}) by ${HOW[d.kind] ?? d.kind}; message ${d.messageId}; ${d.reason}`,
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
  const cases = new Set(messages.flatMap((m) => m.caseRefs));
  const resolved = messages.reduce((sum, m) => sum + m.resolvedCaseRefs.length, 0);
  const out = [
    `${table}, ${day} (UTC): ${plural(messages.length, 'message')} disclosing ${plural(cases.size, 'case')}${resolved > 0 ? `, and ${plural(resolved, 'resolved line')}` : ''}`,
  ];
  for (const m of messages) {
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

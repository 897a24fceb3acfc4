// The acknowledgement use case: one request to `/{token}` in, one page out, and what happened for
// the logs and metrics. Mail gateways open links by themselves, some running the page's script, so
// a GET only ever reads. Only a POST carrying the button's own field (which a script's
// `form.submit()` leaves out) and not sent from another site acknowledges: it uses the link up
// with one conditional write, then stores the acknowledgement for that link's audience and place
// (never anything the request says) and writes it to the disclosure log. The token is the
// capability; there is no session or cookie for another site to ride on.

import { LEVELS, LEVELS_HIGHEST_FIRST } from '../domain/levels.ts';
import type { AckStore, AuditEntry, AuditLog, GroupAck } from '../scan/ports.ts';
import { DEFAULT_RETRY, errorName, type RetryPolicy, withRetry } from '../scan/retry.ts';
import {
  acknowledgedPage,
  failedPage,
  linkPage,
  methodNotAllowedPage,
  type Page,
  refusedPage,
} from './page.ts';
import { type AckLinkRecord, type AckLinkStore, AckLinkUnreadableError } from './ports.ts';
import { isTokenShaped, linkRef, tokenHash } from './token.ts';

export interface AckDeps {
  links: AckLinkStore;
  acks: AckStore;
  audit: AuditLog;
  /** The case system's address for the refusal page, which knows nothing of the link. */
  caseSystemUrl?: string;
  retry?: RetryPolicy;
}

export interface AckRequest {
  method: string;
  /** The last segment of the path, as presented. */
  token: string;
  /** The form body of a POST, decoded. */
  body?: string;
  /** The browser's Sec-Fetch-Site header, when it sent one. */
  fetchSite?: string;
}

/** Why a link was refused: logged and counted, never shown. */
export type Refusal = 'malformed' | 'unknown' | 'expired' | 'used' | 'unreadable';

interface About {
  /** The link in logs: a prefix of its hash. */
  link: string;
  audience: string;
  place: string;
  channel: 'sms' | 'email';
}

export type AckOutcome =
  | ({ kind: 'shown' } & About)
  | ({ kind: 'unconfirmed'; why: 'no-button' | 'cross-site' } & About)
  | ({ kind: 'acknowledged'; cases: number; unaudited?: AuditEntry; auditError?: string } & About)
  | ({ kind: 'failed'; error: string; released: boolean } & About)
  | { kind: 'refused'; link: string; method: string; reason: Refusal }
  | { kind: 'method-not-allowed'; method: string };

export interface AckResult {
  page: Page;
  outcome: AckOutcome;
}

/** A body longer than this is not our form. */
const MAX_BODY = 1024;

export async function respond(request: AckRequest, deps: AckDeps, nowMs: number): Promise<AckResult> {
  const method = request.method.toUpperCase();
  if (method !== 'GET' && method !== 'POST') {
    return { page: methodNotAllowedPage(), outcome: { kind: 'method-not-allowed', method } };
  }
  const link = linkRef(request.token);
  const refuse = (reason: Refusal): AckResult => ({
    page: refusedPage(deps.caseSystemUrl),
    outcome: { kind: 'refused', link, method, reason },
  });
  if (!isTokenShaped(request.token)) return refuse('malformed');

  const hash = tokenHash(request.token);
  let record: AckLinkRecord | undefined;
  try {
    record = await deps.links.get(hash);
  } catch (error) {
    if (error instanceof AckLinkUnreadableError) return refuse('unreadable');
    throw error;
  }
  if (!record) return refuse('unknown');
  if (record.usedAtMs !== undefined) return refuse('used');
  if (record.expiresAtMs <= nowMs) return refuse('expired');
  const about: About = { link, audience: record.audience, place: record.place, channel: record.channel };

  if (method === 'GET') return { page: linkPage(record), outcome: { kind: 'shown', ...about } };

  const unconfirmed = unconfirmedWhy(request);
  if (unconfirmed) {
    return {
      page: linkPage(record, {
        statusCode: 400,
        notice: 'Nothing was acknowledged. To acknowledge, press the button below.',
      }),
      outcome: { kind: 'unconfirmed', why: unconfirmed, ...about },
    };
  }

  // Used up first, so a second press (or a race) can never acknowledge twice.
  if (!(await deps.links.consume(hash, nowMs))) return refuse('used');
  const ack = groupAck(record, nowMs);
  const retry = deps.retry ?? DEFAULT_RETRY;
  try {
    await withRetry(() => deps.acks.acknowledge(ack), retry);
  } catch (error) {
    // Nothing was acknowledged: give the link back so the person can press again.
    const released = await withRetry(() => deps.links.release(hash, nowMs), retry).then(
      () => true,
      () => false,
    );
    return { page: failedPage(), outcome: { kind: 'failed', error: errorName(error), released, ...about } };
  }

  const entry = auditEntry(record, nowMs);
  const acknowledged: AckOutcome = { kind: 'acknowledged', cases: entry.caseRefs.length, ...about };
  try {
    await withRetry(() => deps.audit.record(entry), retry);
  } catch (error) {
    // The acknowledgement stands; the entry goes to the function's log for ops to write later.
    acknowledged.unaudited = entry;
    acknowledged.auditError = errorName(error);
  }
  return { page: acknowledgedPage(record, nowMs, ack.until), outcome: acknowledged };
}

/** Why a POST does not count as a press of the button, if it does not. */
function unconfirmedWhy(request: AckRequest): 'no-button' | 'cross-site' | undefined {
  if (request.fetchSite?.toLowerCase() === 'cross-site') return 'cross-site';
  const body = request.body ?? '';
  if (body.length > MAX_BODY) return 'no-button';
  const fields = new URLSearchParams(body);
  return fields.get('acknowledge') === 'yes' ? undefined : 'no-button';
}

/** The acknowledgement a link stands for: its audience and place, as of when its message was sent,
 * pausing each level it listed for that level's pause. */
export function groupAck(record: AckLinkRecord, nowMs: number): GroupAck {
  const until: GroupAck['until'] = {};
  for (const level of LEVELS) {
    if (record.sections[level] !== undefined) until[level] = nowMs + (record.pauseMs[level] ?? 0);
  }
  return { audience: record.audience, place: record.place, asOf: record.sentAtMs, at: nowMs, until };
}

/** The disclosure-log entry: who acknowledged (the audience at its place, and by which channel's
 * link), when, and which cases. */
export function auditEntry(record: AckLinkRecord, nowMs: number): AuditEntry {
  const levels = LEVELS.filter((l) => record.sections[l] !== undefined);
  return {
    sentAt: new Date(nowMs).toISOString(),
    messageId: `ack:${record.tokenHash.slice(0, 12)}`,
    runId: record.runId,
    kind: 'acknowledgement',
    audience: record.audience,
    district: record.district,
    localAuthority: record.localAuthority,
    level: levels,
    caseRefs: LEVELS_HIGHEST_FIRST.flatMap((l) => record.sections[l]?.lines.map((c) => c.caseRef) ?? []),
    resolvedCaseRefs: [],
    reason: `acknowledged by the ${record.channel === 'sms' ? 'SMS' : 'email'} link of the message sent ${new Date(record.sentAtMs).toISOString()}`,
  };
}

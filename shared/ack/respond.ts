// The acknowledgement use case: one request to `/{token}` in, one page out, and what happened for
// the logs and metrics. Mail gateways open links by themselves, some running the page's script, so
// a GET only ever reads. Only a POST carrying the button's own field (which a script's
// `form.submit()` leaves out) and not sent from another site acknowledges: it uses the link up
// with one conditional write, then stores the acknowledgement for that link's audience and place
// (never anything the request says) and writes it to the disclosure log. The token is the
// capability; there is no session or cookie for another site to ride on.

import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { LEVELS, LEVELS_HIGHEST_FIRST } from '../domain/levels.ts';
import type { AckStore, AuditEntry, AuditLog, GroupAck } from '../scan/ports.ts';
import {
  DEFAULT_RETRY,
  errorName,
  mayHaveBeenCarriedOut,
  type RetryPolicy,
  withRetry,
} from '../scan/retry.ts';
import {
  acknowledgedPage,
  failedPage,
  linkPage,
  methodNotAllowedPage,
  type Page,
  refusedPage,
} from './page.ts';
import type { AckLinkRecord, AckLinkStore } from './ports.ts';
import { isTokenShaped, linkRef, tokenHash } from './token.ts';

export interface AckDeps {
  links: AckLinkStore;
  acks: AckStore;
  audit: AuditLog;
  /** The case system's address for the refusal page, which knows nothing of the link. */
  caseSystemUrl?: string;
  retry?: RetryPolicy;
  /** How long a press may take from its start (ms): no new try to store the acknowledgement after
   * `ackMs`, nor to give the link back or write the disclosure log after `afterMs`; whatever a
   * call does, the link's use and the acknowledgement are given up at `afterMs`, and the press is
   * answered by `hardMs`. */
  budget?: { ackMs: number; afterMs: number; hardMs: number };
}

/** Inside the function's 10 s time-out (infra/ack-endpoint.ts), with time left to log. The
 * function's DynamoDB client tries each call once and gives up one with no reply within 2.5 s
 * (shared/lambda/clients.ts), so a try started before its deadline has usually settled before the
 * press is answered; `hardMs` answers whatever a call does. A stalled call must never leave a
 * press unanswered, its link used up with nothing stored, or an acknowledgement that may be stored
 * without its entry in the disclosure log or the function's log. */
export const ACK_BUDGET = { ackMs: 4_000, afterMs: 6_500, hardMs: 8_500 };

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
export type Refusal = 'malformed' | 'unknown' | 'expired' | 'used';

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
  | ({
      kind: 'failed';
      error: string;
      /** The link was given back: the person can press again. */
      released: boolean;
      /** The disclosure-log entry of an acknowledgement whose outcome is not known (its call timed
       * out, or the service failed after it may have written): it may be stored, so it goes to
       * the function's log. Absent when it is known that nothing was stored. */
      ifStored?: AuditEntry;
    } & About)
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

  const started = performance.now();
  const budget = deps.budget ?? ACK_BUDGET;
  const retry = deps.retry ?? DEFAULT_RETRY;
  const until = (ms: number): RetryPolicy => ({ ...retry, stopAt: started + ms });
  // Backstops: the link's use and the acknowledgement are answered by `afterMs`, leaving time to
  // give the link back; everything by `hardMs`.
  const first = <T>(call: (signal: AbortSignal) => Promise<T>) => by(call, started, budget.afterMs);
  const hard = <T>(call: (signal: AbortSignal) => Promise<T>) => by(call, started, budget.hardMs);
  const hash = tokenHash(request.token);
  // A stored link that cannot be read (damaged, or written by another version) is a failure, not a
  // refusal: thrown, so that the person is told to try again and ops are alarmed.
  const record = await first((signal) => deps.links.get(hash, { signal }));
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
  const use = randomUUID();
  const ack = groupAck(record, nowMs);
  // Whether any try to store the acknowledgement may have written, whatever the last one said.
  let maybeStored = false;
  const acknowledgeOnce = async (signal: AbortSignal) => {
    try {
      await deps.acks.acknowledge(ack, { signal });
    } catch (error) {
      if (outcomeUnknown(error)) maybeStored = true;
      throw error;
    }
  };
  try {
    if (!(await first((signal) => deps.links.consume(hash, nowMs, use, { signal })))) return refuse('used');
    await first((signal) => withRetry(() => acknowledgeOnce(signal), until(budget.ackMs))).catch(
      (error: unknown) => {
        // Cut off by the backstop while a try was still going: it may yet write.
        if (error instanceof DeadlineError) maybeStored = true;
        throw error;
      },
    );
  } catch (error) {
    // Give the link back (only this press's use of it), so the person can press again; a use whose
    // outcome was not known is undone too, if it landed.
    const released = await hard((signal) =>
      withRetry(() => deps.links.release(hash, use, { signal }), until(budget.afterMs)),
    ).then(
      () => true,
      () => false,
    );
    const unknown = maybeStored;
    return {
      page: failedPage({ released, unknown }, deps.caseSystemUrl),
      outcome: {
        kind: 'failed',
        error: errorName(error),
        released,
        ...about,
        ...(unknown ? { ifStored: auditEntry(record, nowMs) } : {}),
      },
    };
  }

  const entry = auditEntry(record, nowMs);
  const acknowledged: AckOutcome = { kind: 'acknowledged', cases: coveredCount(record), ...about };
  try {
    await hard((signal) => withRetry(() => deps.audit.record(entry, { signal }), until(budget.afterMs)));
  } catch (error) {
    // The acknowledgement stands; the entry goes to the function's log for ops to write later.
    acknowledged.unaudited = entry;
    acknowledged.auditError = errorName(error);
  }
  return { page: acknowledgedPage(record, nowMs, ack.until), outcome: acknowledged };
}

/** Whether a failed write may have been made after all: cut off at the press's deadline, or any
 * failure that is not the service answering that it did not write (see mayHaveBeenCarriedOut). */
const outcomeUnknown = (error: unknown): boolean =>
  error instanceof DeadlineError || mayHaveBeenCarriedOut(error);

/** A dependency call cut off at the press's deadline. */
class DeadlineError extends Error {
  override name = 'DeadlineExceeded';
}

/** `call`, failed with a DeadlineError when it has not settled `ms` after `started` (a
 * `performance.now()`). Its signal is then aborted, so that it starts no further request once the
 * press is answered (a Lambda function frozen after answering would otherwise send it whenever it
 * next runs); a request already sent may still land. */
async function by<T>(call: (signal: AbortSignal) => Promise<T>, started: number, ms: number): Promise<T> {
  const left = ms - (performance.now() - started);
  if (left <= 0) throw new DeadlineError(`no time left of ${ms} ms`);
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new DeadlineError(`not done within ${ms} ms`);
      reject(error);
      controller.abort(error);
    }, left);
  });
  try {
    return await Promise.race([Promise.resolve().then(() => call(controller.signal)), deadline]);
  } finally {
    clearTimeout(timer);
  }
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
  const sent = new Date(record.sentAtMs).toISOString();
  const covered = coveredCount(record);
  const unlisted = covered - LEVELS.reduce((n, l) => n + (record.sections[l]?.lines.length ?? 0), 0);
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
    reason: `acknowledged by the ${record.channel === 'sms' ? 'SMS' : 'email'} link of the message sent ${sent}${unlisted > 0 ? `, covering ${covered} cases: the ${covered - unlisted} listed here and ${unlisted} more the message counted without listing` : ''}`,
  };
}

/** The cases a link's acknowledgement covers: every case each of its levels counted, listed or not. */
const coveredCount = (record: AckLinkRecord) =>
  LEVELS.reduce(
    (n, l) => n + Math.max(record.sections[l]?.count ?? 0, record.sections[l]?.lines.length ?? 0),
    0,
  );

// The change feed's message: what the source system sends for every change to a case, and the one
// validation path both the feed and `queuewatch import` use. Nothing outside the schema survives it.
//
// A message is one JSON object carrying the whole case as the source holds it after the change
// (state transfer, not a delta), so that a repeat or a late arrival can be judged on its own:
//
//   {
//     "changeType": "stage-changed",        // created | updated | stage-changed | regraded | closed | reopened
//     "sourceSequence": 1042,               // optional: the source's per-case (or global) sequence number
//     "case": {                             // exactly the case record fields (shared/domain/case.ts)
//       "caseRef": "DA-001-0000042", "category": "domestic-abuse", "riskLevel": "high",
//       "district": "D01", "stage": "awaiting-risk-assessment",
//       "stageEnteredAt": "2026-03-29T00:30:00Z", "childrenInvolved": true,
//       "sourceUpdatedAt": "2026-03-29T00:31:12+01:00"
//     }
//   }
//
// Other fields, at the top or in `case` (names, addresses, notes), are dropped here. The version of
// a change is (sourceUpdatedAt, sourceSequence): see ordering.ts. `changeType` is checked against
// the record (a `closed` change must leave the case closed, a `reopened` one open) and logged; the
// mirror's state comes from the record alone, so replays and reorderings converge.
//
// The clock: the mirror's stageEnteredAt is always the source record's. A regrade that arrives
// without a new stageEnteredAt keeps the old one: the case is judged against its new risk level's
// thresholds from when it entered its stage. We do not invent a restart at the regrade, because
// (1) the next update from the source carries the old stageEnteredAt again, so an invented restart
// would flip back and forth and depend on arrival order, and (2) erring towards "older" is the loud
// direction: a case that waited three weeks and is re-graded high should alert now, not in a day.
// A source that does restart its clock on a regrade sends the new stageEnteredAt, and that is used.

import {
  CASE_FIELDS,
  CASE_REF_PATTERN,
  CASE_REJECT_CODES,
  type CaseRecord,
  type CaseVocabulary,
  caseRecordSchema,
  checkCase,
  FUTURE_TOLERANCE_MS,
  isAcceptedValue,
  isOpenStage,
  OPEN_STAGES,
} from '../domain/case.ts';
import { firstRepeatedKey } from '../domain/json-keys.ts';
import { forbiddenKeyOf } from '../domain/safe-keys.ts';
import * as z from '../domain/zod.ts';
import { jsonErrorReason, READ_ERROR_CODES, repeatedFieldReason } from '../io/case-file.ts';

export const CHANGE_TYPES = [
  'created',
  'updated',
  'stage-changed',
  'regraded',
  'closed',
  'reopened',
] as const;
export type ChangeType = (typeof CHANGE_TYPES)[number];

const sourceSequenceSchema = z
  .number({ error: 'sourceSequence must be a number' })
  .check(
    z.int('sourceSequence must be a whole number'),
    z.minimum(0, 'sourceSequence must not be negative'),
    z.maximum(Number.MAX_SAFE_INTEGER, 'sourceSequence is too large'),
  );

/** The message's own fields and the record's: a repeat of any of these is refused. */
const ENVELOPE_FIELDS: ReadonlySet<string> = new Set(['changeType', 'case', 'sourceSequence']);
const CASE_FIELD_NAMES: ReadonlySet<string> = new Set(CASE_FIELDS);

const envelopeSchema = z.object({
  changeType: z.enum(CHANGE_TYPES, { error: `changeType must be one of ${CHANGE_TYPES.join(', ')}` }),
  sourceSequence: z.optional(sourceSequenceSchema),
});

/** The feed message, for documentation and the tests. Validation goes through parseChange, which adds
 * the config's vocabulary, the plausible range of instants and reasons that never quote a value. */
export const changeMessageSchema = z.extend(envelopeSchema, { case: caseRecordSchema });

/** A validated case record and its optional sequence number: what the mirror applies. */
export interface VersionedRecord {
  record: CaseRecord;
  sourceSequence?: number;
}

export interface Change extends VersionedRecord {
  changeType: ChangeType;
}

/** Why a message or line was turned away, as a stable code (metrics, ops reports, rejects): a file
 * line the reader could not read, a feed body that is not JSON, what checkCase refused (the
 * record's own checks), a change inconsistent with its record, a version conflict. */
export const REJECT_CODES = [
  ...READ_ERROR_CODES,
  'invalid-json',
  ...CASE_REJECT_CODES,
  'inconsistent-change',
  'conflict',
] as const;
export type RejectCode = (typeof REJECT_CODES)[number];

export interface Rejection {
  ok: false;
  code: RejectCode;
  /** Names fields and what they allow; never quotes a value. */
  reason: string;
  /** Present only when it is a well-formed opaque reference. */
  caseRef?: string;
}

export type Validated<T> = ({ ok: true } & T) | Rejection;

/** Largest message body looked at; SQS allows 1 MiB, a case change is a few hundred bytes. */
export const MAX_BODY_CHARS = 1024 * 1024;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Validates one case record (a feed message's `case`, or an import line) with checkCase, which
 * gives the reject code with its reason. An import line may carry `sourceSequence` beside the case
 * fields (a CSV cell arrives as a string of digits). */
export function validateRecord(
  raw: unknown,
  vocabulary: CaseVocabulary,
  nowMs: number,
  sequence: unknown = isObject(raw) ? raw.sourceSequence : undefined,
): Validated<VersionedRecord> {
  const checked = checkCase(raw, vocabulary, nowMs);
  const seq = parseSequence(sequence);
  if (!checked.ok) {
    const reason = seq.ok ? checked.reason : `${checked.reason}; ${seq.reason}`;
    return { ok: false, code: checked.code, reason, ...refOf(checked.caseRef) };
  }
  if (!seq.ok)
    return { ok: false, code: 'invalid-fields', reason: seq.reason, caseRef: checked.value.caseRef };
  const order = stageAfterVersion(checked.value);
  if (order) return { ok: false, code: 'implausible-date', reason: order, caseRef: checked.value.caseRef };
  return {
    ok: true,
    record: checked.value,
    ...(seq.value !== undefined ? { sourceSequence: seq.value } : {}),
  };
}

/** Why a record's stage cannot have begun when it says, if it cannot: entering a stage is a change
 * of the case, so the source's last change (sourceUpdatedAt, the version the mirror orders by) is
 * no earlier, give or take clock skew. A stage entered later is the two instants swapped or mixed
 * up; stored, it would make an old case look new (its age runs from stageEnteredAt) and order its
 * versions by the wrong instant. */
function stageAfterVersion(record: CaseRecord): string | undefined {
  if (Date.parse(record.stageEnteredAt) <= Date.parse(record.sourceUpdatedAt) + FUTURE_TOLERANCE_MS)
    return undefined;
  return `stageEnteredAt is after sourceUpdatedAt: a stage is entered by a change of the case, so it must be at most ${FUTURE_TOLERANCE_MS / 60_000} minutes after the source last changed it (are the two swapped?)`;
}

function parseSequence(value: unknown): { ok: true; value?: number } | { ok: false; reason: string } {
  if (value === undefined || value === null) return { ok: true };
  const candidate = typeof value === 'string' && /^\d{1,16}$/.test(value) ? Number(value) : value;
  const parsed = sourceSequenceSchema.safeParse(candidate);
  return parsed.success
    ? { ok: true, value: parsed.data }
    : { ok: false, reason: parsed.error.issues.map((i) => i.message).join('; ') };
}

const refOf = (caseRef: string | undefined) => (caseRef ? { caseRef } : {});

/** Parses and validates a feed message body. Never throws: anything wrong comes back as a
 * Rejection with a code and a reason. */
export function parseChange(body: string, vocabulary: CaseVocabulary, nowMs: number): Validated<Change> {
  if (body.length > MAX_BODY_CHARS) {
    return { ok: false, code: 'too-large', reason: `message is longer than ${MAX_BODY_CHARS} characters` };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch (error) {
    return { ok: false, code: 'invalid-json', reason: jsonErrorReason(error) };
  }
  if (!isObject(raw))
    return { ok: false, code: 'not-an-object', reason: 'a change message must be a JSON object' };
  const forbidden = forbiddenKeyOf(raw);
  if (forbidden !== undefined) {
    return { ok: false, code: 'invalid-fields', reason: `${forbidden} is not allowed as a field name` };
  }
  const repeated = firstRepeatedKey(body, raw, (path, key) =>
    path.length === 0
      ? ENVELOPE_FIELDS.has(key)
      : path.length === 1 && path[0] === 'case' && CASE_FIELD_NAMES.has(key),
  );
  if (repeated) {
    const field = repeated.path.length > 0 ? `case.${repeated.key}` : repeated.key;
    return { ok: false, code: 'invalid-fields', reason: repeatedFieldReason(field) };
  }

  const envelope = envelopeSchema.safeParse(raw);
  const envelopeReasons = envelope.success
    ? []
    : envelope.error.issues.map((issue) =>
        raw[String(issue.path[0])] === undefined ? `${issue.path.join('.')} is missing` : issue.message,
      );
  const caseRaw = raw.case;
  const caseRef = isObject(caseRaw) && typeof caseRaw.caseRef === 'string' ? caseRaw.caseRef : undefined;
  const ref = refOf(caseRef !== undefined && CASE_REF_PATTERN.test(caseRef) ? caseRef : undefined);
  if (!isObject(caseRaw)) {
    const reason = caseRaw === undefined ? 'case is missing' : 'case must be a JSON object';
    return { ok: false, code: 'invalid-fields', reason: [...envelopeReasons, reason].join('; ') };
  }
  // The sequence lives in the envelope; one inside `case` is an unknown field and is ignored.
  const validated = validateRecord(caseRaw, vocabulary, nowMs, undefined);
  if (!validated.ok) {
    const reason = [...envelopeReasons, `case: ${validated.reason}`].join('; ');
    return { ...validated, code: envelopeReasons.length > 0 ? 'invalid-fields' : validated.code, reason };
  }
  if (!envelope.success) {
    return { ok: false, code: 'invalid-fields', reason: envelopeReasons.join('; '), ...ref };
  }
  const { changeType, sourceSequence } = envelope.data;
  const { record } = validated;
  if (changeType === 'closed' && isOpenStage(record.stage)) {
    return {
      ok: false,
      code: 'inconsistent-change',
      reason:
        'a closed change must leave the case closed: case.stage must be closed or referral-acknowledged',
      caseRef: record.caseRef,
    };
  }
  if (changeType === 'reopened' && !isOpenStage(record.stage)) {
    return {
      ok: false,
      code: 'inconsistent-change',
      reason: `a reopened change must leave the case open: case.stage must be one of ${OPEN_STAGES.join(', ')}`,
      caseRef: record.caseRef,
    };
  }
  return { ok: true, changeType, record, ...(sourceSequence !== undefined ? { sourceSequence } : {}) };
}

/** The schema fields of a raw message, for the rejects store: enough for an engineer to find and
 * replay it, nothing the schema does not name. A value is kept only when the edge would accept it
 * for its field on its own (an enum member, a well-formed reference, a category or district of the
 * config, a plausible instant, a boolean): such a value cannot be free text. Any other value (an
 * unknown category or district, a malformed reference or date) may be personal data typed into the
 * wrong column, so it is withheld, replaced by a marker of its type and length; fill it in from the
 * source system before a replay. */
export function schemaFieldsOf(
  raw: unknown,
  vocabulary: CaseVocabulary,
  nowMs: number,
): Record<string, unknown> | undefined {
  if (!isObject(raw)) return undefined;
  const out: Record<string, unknown> = {};
  if (Object.hasOwn(raw, 'changeType')) {
    const value = raw.changeType;
    out.changeType = (CHANGE_TYPES as readonly unknown[]).includes(value) ? value : withheld(value);
  }
  if (Object.hasOwn(raw, 'sourceSequence')) {
    const value = raw.sourceSequence;
    out.sourceSequence = sourceSequenceSchema.safeParse(value).success ? value : withheld(value);
  }
  const caseRaw = raw.case;
  if (isObject(caseRaw)) {
    const kept: Record<string, unknown> = {};
    for (const field of CASE_FIELDS) {
      if (!Object.hasOwn(caseRaw, field)) continue;
      const value = caseRaw[field];
      kept[field] = isAcceptedValue(field, value, vocabulary, nowMs) ? value : withheld(value);
    }
    out.case = kept;
  } else if (Object.hasOwn(raw, 'case')) out.case = withheld(caseRaw);
  return out;
}

/** What stands in for a value not kept: its type (and a string's length), never the value. Booleans
 * and null carry nothing personal and are kept as they are. */
function withheld(value: unknown): unknown {
  if (typeof value === 'boolean' || value === null) return value;
  if (typeof value === 'string') return `[withheld: a string of ${value.length} characters]`;
  return `[withheld: ${Array.isArray(value) ? 'an array' : typeof value === 'object' ? 'an object' : `a ${typeof value}`}]`;
}

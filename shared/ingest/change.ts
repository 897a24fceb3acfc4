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

import * as z from 'zod';
import {
  CASE_FIELDS,
  CASE_REF_PATTERN,
  type CaseRecord,
  type CaseVocabulary,
  caseRecordSchema,
  checkCase,
  isOpenStage,
} from '../domain/case.ts';
import { jsonErrorReason } from '../io/case-file.ts';

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
  .int('sourceSequence must be a whole number')
  .min(0, 'sourceSequence must not be negative')
  .max(Number.MAX_SAFE_INTEGER, 'sourceSequence is too large');

const envelopeSchema = z.object({
  changeType: z.enum(CHANGE_TYPES, { error: `changeType must be one of ${CHANGE_TYPES.join(', ')}` }),
  sourceSequence: sourceSequenceSchema.optional(),
});

/** The feed message, for documentation and types. Validation goes through parseChange, which adds
 * the config's vocabulary, the future check and reasons that never echo unknown fields. */
export const changeMessageSchema = envelopeSchema.extend({ case: caseRecordSchema });
export type ChangeMessage = z.infer<typeof changeMessageSchema>;

/** A validated case record and its optional sequence number: what the mirror applies. */
export interface VersionedRecord {
  record: CaseRecord;
  sourceSequence?: number;
}

export interface Change extends VersionedRecord {
  changeType: ChangeType;
}

/** Why a message or line was turned away, as a stable code (metrics, ops reports, rejects). */
export type RejectCode =
  | 'unreadable'
  | 'too-large'
  | 'invalid-json'
  | 'not-an-object'
  | 'invalid-fields'
  | 'unknown-category'
  | 'unknown-district'
  | 'future-stage'
  | 'inconsistent-change'
  | 'conflict';

export interface Rejection {
  ok: false;
  code: RejectCode;
  /** Names fields and schema values only; never echoes anything outside the schema. */
  reason: string;
  /** Present only when it is a well-formed opaque reference. */
  caseRef?: string;
}

export type Validated<T> = ({ ok: true } & T) | Rejection;

/** Largest message body looked at; SQS allows 1 MiB, a case change is a few hundred bytes. */
export const MAX_BODY_CHARS = 1024 * 1024;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Validates one case record (a feed message's `case`, or an import line) against the schema, the
 * config's vocabulary and the future check. An import line may carry `sourceSequence` beside the
 * case fields (a CSV cell arrives as a string of digits). */
export function validateRecord(
  raw: unknown,
  vocabulary: CaseVocabulary,
  nowMs: number,
  sequence: unknown = isObject(raw) ? raw.sourceSequence : undefined,
): Validated<VersionedRecord> {
  if (!isObject(raw))
    return { ok: false, code: 'not-an-object', reason: 'a case record must be a JSON object' };
  const checked = checkCase(raw, vocabulary, nowMs);
  const seq = parseSequence(sequence);
  if (!checked.ok) {
    const reason = seq.ok ? checked.reason : `${checked.reason}; ${seq.reason}`;
    return { ok: false, code: classify(raw, vocabulary), reason, ...refOf(checked.caseRef) };
  }
  if (!seq.ok)
    return { ok: false, code: 'invalid-fields', reason: seq.reason, caseRef: checked.value.caseRef };
  return {
    ok: true,
    record: checked.value,
    ...(seq.value !== undefined ? { sourceSequence: seq.value } : {}),
  };
}

function parseSequence(value: unknown): { ok: true; value?: number } | { ok: false; reason: string } {
  if (value === undefined || value === null) return { ok: true };
  const candidate = typeof value === 'string' && /^\d{1,16}$/.test(value) ? Number(value) : value;
  const parsed = sourceSequenceSchema.safeParse(candidate);
  return parsed.success
    ? { ok: true, value: parsed.data }
    : { ok: false, reason: parsed.error.issues.map((i) => i.message).join('; ') };
}

/** Which check a record that checkCase turned away failed (only runs on the failure path). */
function classify(raw: Record<string, unknown>, vocabulary: CaseVocabulary): RejectCode {
  const parsed = caseRecordSchema.safeParse(raw);
  if (!parsed.success) return 'invalid-fields';
  if (!vocabulary.categories.has(parsed.data.category)) return 'unknown-category';
  if (!vocabulary.districts.has(parsed.data.district)) return 'unknown-district';
  return 'future-stage';
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
      reason: `changeType closed but case.stage ${record.stage} is an open stage`,
      caseRef: record.caseRef,
    };
  }
  if (changeType === 'reopened' && !isOpenStage(record.stage)) {
    return {
      ok: false,
      code: 'inconsistent-change',
      reason: `changeType reopened but case.stage ${record.stage} is not an open stage`,
      caseRef: record.caseRef,
    };
  }
  return { ok: true, changeType, record, ...(sourceSequence !== undefined ? { sourceSequence } : {}) };
}

/** Longest string kept from a rejected message; every valid value is far shorter. */
export const MAX_KEPT_CHARS = 200;

/** Only the schema fields of a raw message, each value cut to a safe size, for the rejects store:
 * enough for an engineer to find and replay it, nothing the schema does not name. Nested objects
 * and arrays in a schema field are replaced by a marker: they could hide anything. */
export function schemaFieldsOf(raw: unknown): Record<string, unknown> | undefined {
  if (!isObject(raw)) return undefined;
  const out: Record<string, unknown> = {};
  for (const key of ['changeType', 'sourceSequence'] as const) {
    if (key in raw) out[key] = keptValue(raw[key]);
  }
  const caseRaw = raw.case;
  if (isObject(caseRaw)) {
    const kept: Record<string, unknown> = {};
    for (const field of CASE_FIELDS) if (field in caseRaw) kept[field] = keptValue(caseRaw[field]);
    out.case = kept;
  } else if ('case' in raw) out.case = keptValue(caseRaw);
  return out;
}

function keptValue(value: unknown): unknown {
  if (typeof value === 'string') {
    return value.length > MAX_KEPT_CHARS
      ? `${value.slice(0, MAX_KEPT_CHARS)}...[${value.length - MAX_KEPT_CHARS} more characters cut]`
      : value;
  }
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return value;
  return Array.isArray(value) ? '[array]' : `[${typeof value}]`;
}

// One case as a message lists it: the allowed fields only (caseRef, category, risk level, stage,
// age), never anything else about a case. Apart from notify.ts so that what lists cases without
// sending an SMS (the daily digest) does not load the SMS segment counter.

import type { Evaluation } from './engine.ts';
import { byCodeUnit } from './order.ts';

/** One case line in a message: the allowed fields, nothing more. */
export interface AlertLine {
  caseRef: string;
  category: string;
  riskLevel: string;
  stage: string;
  ageMs: number;
}

export const alertLine = (e: Evaluation): AlertLine => ({
  caseRef: e.record.caseRef,
  category: e.record.category,
  riskLevel: e.record.riskLevel,
  stage: e.record.stage,
  ageMs: e.ageMs,
});

export const oldestLineFirst = (a: AlertLine, b: AlertLine) =>
  b.ageMs - a.ageMs || byCodeUnit(a.caseRef, b.caseRef);

// Stage 3 of a run: the per-run SMS budget (a spend guard) decides which due groups get their one
// SMS. Every group with a new escalation is served before any new breach, every new breach before
// any reminder, and reminders before warnings; within each, places take turns (the most urgent
// group of every place before a second group of any), so no district is starved because of its
// name. Resolved lines alone, and news an audience takes by email only (`smsFor`), never go by
// SMS. What the budget cannot cover goes by email only.

import { byCodeUnit } from '../domain/order.ts';
import { TRIGGERS } from './decide.ts';

export interface BudgetCandidate {
  id: string;
  /** Who takes turns: the place (district, local authority, or the force). */
  place: string;
  trigger: (typeof TRIGGERS)[number];
  /** Larger is more urgent (the age of the group's oldest case). */
  urgency: number;
  /** Whether the audience takes this news by SMS at all. */
  wantsSms: boolean;
}

export interface Allocation<T> {
  /** In the order they were served. */
  sms: T[];
  /** Due groups the budget could not cover (resolved-only groups are not counted here). */
  starved: T[];
  emailOnly: T[];
}

export function allocateSms<T extends BudgetCandidate>(
  candidates: readonly T[],
  maxPerRun: number,
): Allocation<T> {
  const served = new Map<string, number>();
  const out: Allocation<T> = { sms: [], starved: [], emailOnly: [] };
  for (const trigger of TRIGGERS) {
    const tier = candidates.filter((c) => c.trigger === trigger && c.wantsSms && trigger !== 'resolved-only');
    out.emailOnly.push(...candidates.filter((c) => c.trigger === trigger && !tier.includes(c)));
    // Each group's turn: how many of its place came before it (in earlier tiers and this one).
    const byPlace = new Map<string, T[]>();
    for (const c of tier) byPlace.set(c.place, [...(byPlace.get(c.place) ?? []), c]);
    const turns = new Map<T, number>();
    for (const [place, group] of byPlace) {
      group.sort((a, b) => b.urgency - a.urgency || byCodeUnit(a.id, b.id));
      group.forEach((c, i) => {
        turns.set(c, (served.get(place) ?? 0) + i);
      });
    }
    const ordered = [...tier].sort(
      (a, b) =>
        (turns.get(a) as number) - (turns.get(b) as number) ||
        b.urgency - a.urgency ||
        byCodeUnit(a.id, b.id),
    );
    for (const c of ordered) {
      if (out.sms.length < maxPerRun) {
        out.sms.push(c);
        served.set(c.place, (served.get(c.place) ?? 0) + 1);
      } else {
        out.starved.push(c);
        out.emailOnly.push(c);
      }
    }
  }
  return out;
}

import Holidays from 'date-holidays';
import { describe, expect, it } from 'vitest';
import {
  COVERED_FROM,
  COVERED_UNTIL,
  ENGLAND_AND_WALES_BANK_HOLIDAYS,
} from '#shared/domain/bank-holidays.ts';
import { createWorkingCalendar, epochDay } from '#shared/domain/calendar.ts';

const firstYear = Number(COVERED_FROM.slice(0, 4));
const lastYear = Number(COVERED_UNTIL.slice(0, 4));
const years = Array.from({ length: lastYear - firstYear + 1 }, (_, i) => firstYear + i);
const ours = ENGLAND_AND_WALES_BANK_HOLIDAYS.map(([date]) => date);
const isWeekend = (date: string) => [0, 6].includes(new Date(`${date}T00:00:00Z`).getUTCDay());

/** Public holidays in England that fall on a weekday, per the date-holidays library. */
function libraryHolidays(year: number): string[] {
  return new Holidays('GB', 'ENG')
    .getHolidays(year)
    .filter((h) => h.type === 'public')
    .map((h) => h.date.slice(0, 10))
    .filter((date) => !isWeekend(date));
}

describe('the England and Wales bank-holiday list', () => {
  it('covers every year from 2018 to 2030', () => {
    expect([firstYear, lastYear]).toEqual([2018, 2030]);
    expect(new Set(ours.map((d) => Number(d.slice(0, 4))))).toEqual(new Set(years));
  });

  it.each(years)('matches the date-holidays library for %i', (year) => {
    const listed = ours.filter((d) => d.startsWith(`${year}-`));

    expect(listed).toEqual(libraryHolidays(year));
  });

  it('lists weekdays only, each once, in date order', () => {
    expect(ours.filter(isWeekend)).toEqual([]);
    expect(new Set(ours).size).toBe(ours.length);
    expect([...ours].sort()).toEqual(ours);
  });

  it('lists the Boxing Day substitute on Monday 28 December 2026', () => {
    expect(ENGLAND_AND_WALES_BANK_HOLIDAYS).toContainEqual(['2026-12-28', 'Boxing Day (substitute day)']);
    expect(ours).not.toContain('2026-12-26');
  });

  it('lists both Christmas substitutes on 27 and 28 December 2027', () => {
    expect(ours).toContain('2027-12-27');
    expect(ours).toContain('2027-12-28');
  });

  it('includes the one-off holidays of 2020, 2022 and 2023', () => {
    expect(ours).toEqual(expect.arrayContaining(['2020-05-08', '2022-06-03', '2022-09-19', '2023-05-08']));
  });

  it('makes every listed holiday a non-working day', () => {
    const calendar = createWorkingCalendar();

    expect(ours.filter((d) => calendar.isWorkingDay(epochDay(d)))).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import {
  clockMinutes,
  createWorkingCalendar,
  epochDay,
  formatDate,
  formatLondon,
  formatLondonClock,
  formatLondonLong,
  formatLondonWeekdayClock,
  isoDateOfEpochDay,
  londonLocalToUtc,
  londonOffsetMs,
} from '#shared/domain/calendar.ts';
import { type Limit, parseLimit } from '#shared/domain/duration.ts';
import { deadline } from '#shared/domain/engine.ts';
import { at, configWith, HOUR, iso } from '#test/support/fixtures.ts';

const limit = (text: string): Limit => {
  const parsed = parseLimit(text);
  if ('error' in parsed) throw new Error(parsed.error);
  return parsed;
};

/** London wall-clock time of an instant, as YYYY-MM-DD HH:MM. */
const londonWallClock = (ms: number) =>
  new Date(ms + londonOffsetMs(ms)).toISOString().slice(0, 16).replace('T', ' ');

describe('London offsets', () => {
  it('switches to BST at 01:00 UTC on the last Sunday of March', () => {
    expect(londonOffsetMs(at('2026-03-29T00:59:59Z'))).toBe(0);
    expect(londonOffsetMs(at('2026-03-29T01:00:00Z'))).toBe(HOUR);
  });

  it('switches back to GMT at 01:00 UTC on the last Sunday of October', () => {
    expect(londonOffsetMs(at('2026-10-25T00:59:59Z'))).toBe(HOUR);
    expect(londonOffsetMs(at('2026-10-25T01:00:00Z'))).toBe(0);
  });

  it('converts ordinary London wall-clock times to UTC in both seasons', () => {
    expect(iso(londonLocalToUtc(at('2026-01-15T09:00:00Z')))).toBe('2026-01-15T09:00:00.000Z');
    expect(iso(londonLocalToUtc(at('2026-07-15T09:00:00Z')))).toBe('2026-07-15T08:00:00.000Z');
  });

  it('resolves a wall-clock time repeated in October to its first occurrence', () => {
    // 01:30 happens at 00:30 UTC (BST) and again at 01:30 UTC (GMT).
    expect(iso(londonLocalToUtc(at('2026-10-25T01:30:00Z')))).toBe('2026-10-25T00:30:00.000Z');
  });

  it('resolves a wall-clock time skipped in March to after the gap', () => {
    // 01:30 never happens on 2026-03-29: clocks go from 01:00 GMT to 02:00 BST. Moving forward by
    // the gap gives 02:30 BST, which is 01:30 UTC; never the 00:30 UTC before the change.
    const utc = londonLocalToUtc(at('2026-03-29T01:30:00Z'));
    expect(utc).toBeGreaterThanOrEqual(at('2026-03-29T01:00:00Z'));
    expect(iso(utc)).toBe('2026-03-29T01:30:00.000Z');
  });
});

describe("the coded summer-time rule, against the runtime's time-zone database", () => {
  const intl = new Intl.DateTimeFormat('en-GB', {
    timeZone: 'Europe/London',
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
  });
  const intlOffset = (ms: number) => {
    const p = Object.fromEntries(intl.formatToParts(new Date(ms)).map((x) => [x.type, Number(x.value)]));
    return Date.UTC(p.year ?? 0, (p.month ?? 0) - 1, p.day, p.hour, p.minute) - ms;
  };

  it('gives the offset the database gives, each side of every change, in every year from 1996 to 2100', () => {
    let changes = 0;
    for (let year = 1996; year <= 2100; year++) {
      // Each hour's offset from the database, and either side of each change the rule makes.
      for (let t = Date.UTC(year, 0, 1); t < Date.UTC(year + 1, 0, 1); t += 6 * HOUR) {
        const expected = intlOffset(t);
        if (londonOffsetMs(t) !== expected)
          expect(`${iso(t)}: ${londonOffsetMs(t)}`).toBe(`${iso(t)}: ${expected}`);
        const next = t + 6 * HOUR;
        if (londonOffsetMs(next) !== londonOffsetMs(t)) {
          changes += 1;
          // The change is at the minute the database has it.
          let minute = t;
          while (londonOffsetMs(minute) === londonOffsetMs(t)) minute += 60_000;
          expect(intlOffset(minute - 60_000)).toBe(londonOffsetMs(t));
          expect(intlOffset(minute)).toBe(londonOffsetMs(minute));
        }
      }
    }
    expect(changes).toBe(2 * 105);
  });

  it('asks the database for the years before the rule', () => {
    // 1995 ended summer time on 22 October, not on the last Sunday (the 29th).
    expect(londonOffsetMs(at('1995-10-22T00:59:00Z'))).toBe(HOUR);
    expect(londonOffsetMs(at('1995-10-22T01:00:00Z'))).toBe(0);
    // 1970 was in British Standard Time (GMT+1) all year.
    expect(londonOffsetMs(at('1970-01-15T12:00:00Z'))).toBe(HOUR);
  });
});

describe('wall-clock times in the configs (HH:MM)', () => {
  it('are minutes after midnight, and anything else is refused', () => {
    expect(['00:00', '06:30', '23:59'].map(clockMinutes)).toEqual([0, 390, 1439]);
    for (const bad of ['24:00', '6:30', '06:60', '06:30:00', ' 06:30', '']) {
      expect(() => clockMinutes(bad), bad).toThrow(RangeError);
    }
  });
});

describe('London times in words', () => {
  it('writes the London date and time the database gives, in both seasons', () => {
    const intl = new Intl.DateTimeFormat('en-GB', {
      timeZone: 'Europe/London',
      day: 'numeric',
      month: 'numeric',
      year: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sept', 'Oct', 'Nov', 'Dec'];
    for (let t = at('2025-12-28T23:59:00Z'); t < at('2027-01-03T00:00:00Z'); t += 7 * HOUR + 13 * 60_000) {
      const p = Object.fromEntries(intl.formatToParts(new Date(t)).map((x) => [x.type, x.value]));
      const expected = `${Number(p.day)} ${months[Number(p.month) - 1]} ${p.year}, ${p.hour}:${p.minute} London time`;
      expect(formatLondon(t)).toBe(expected);
    }
  });

  it('writes the forms messages use', () => {
    const winter = at('2026-11-19T06:12:00Z');
    const summer = at('2026-07-19T06:12:00Z');
    expect(formatLondon(winter)).toBe('19 Nov 2026, 06:12 London time');
    expect(formatLondon(summer)).toBe('19 Jul 2026, 07:12 London time');
    expect(formatLondonClock(summer)).toBe('07:12');
    expect(formatLondonWeekdayClock(winter)).toBe('Thu 06:12');
    expect(formatLondonWeekdayClock(at('2026-07-18T23:30:00Z'))).toBe('Sun 00:30');
    expect(formatLondonLong(summer)).toBe('Sunday 19 July at 07:12');
    expect(formatLondonLong(at('2026-03-01T09:05:00Z'))).toBe('Sunday 1 March at 09:05');
    expect(formatDate('2026-11-27', 'year')).toBe('Fri 27 Nov 2026');
    expect(formatDate('2026-11-19', 'short')).toBe('19 Nov');
    expect(formatDate('2026-09-01', 'short')).toBe('1 Sept');
  });
});

describe('elapsed limits across daylight-saving changes', () => {
  const calendar = createWorkingCalendar();

  it('counts a 4h limit across the March change as exactly 4 hours of real time', () => {
    const start = at('2026-03-29T00:30:00Z'); // 00:30 GMT

    const due = deadline(start, limit('4h'), calendar);

    expect(due - start).toBe(4 * HOUR);
    expect(iso(due)).toBe('2026-03-29T04:30:00.000Z');
    expect(londonWallClock(due)).toBe('2026-03-29 05:30'); // the wall clock moved 5 hours
  });

  it('counts a 4h limit across the October change as exactly 4 hours of real time', () => {
    const start = at('2026-10-25T00:30:00Z'); // 01:30 BST, the first time round

    const due = deadline(start, limit('4h'), calendar);

    expect(due - start).toBe(4 * HOUR);
    expect(londonWallClock(due)).toBe('2026-10-25 04:30'); // the wall clock moved 3 hours
  });

  it('counts 24h across the March change as 24 hours, not to the same wall-clock time', () => {
    const start = at('2026-03-28T12:00:00Z');

    const due = deadline(start, limit('24h'), calendar);

    expect(iso(due)).toBe('2026-03-29T12:00:00.000Z');
    expect(londonWallClock(due)).toBe('2026-03-29 13:00');
  });

  it('counts 7d across the October change as 168 hours', () => {
    const start = at('2026-10-20T12:00:00Z');

    expect(deadline(start, limit('7d'), calendar) - start).toBe(168 * HOUR);
  });
});

describe('working days', () => {
  const calendar = createWorkingCalendar();
  const addWorkingDays = (start: string, days: number) => iso(calendar.addWorkingDays(at(start), days));

  it('lands on the same London time on the next working day when the start is in GMT and the end in BST', () => {
    // Friday 10:00 GMT -> Monday 10:00 BST (09:00 UTC): 71 hours of real time.
    expect(addWorkingDays('2026-03-27T10:00:00Z', 1)).toBe('2026-03-30T09:00:00.000Z');
  });

  it('lands on the same London time on the next working day when the start is in BST and the end in GMT', () => {
    // Friday 10:00 BST (09:00 UTC) -> Monday 10:00 GMT.
    expect(addWorkingDays('2026-10-23T09:00:00Z', 1)).toBe('2026-10-26T10:00:00.000Z');
  });

  it('keeps the London time over several working days across the March change', () => {
    // Thursday 16:30 GMT + 2 working days -> Monday 16:30 BST.
    expect(addWorkingDays('2026-03-26T16:30:00Z', 2)).toBe('2026-03-30T15:30:00.000Z');
  });

  it('counts from the London date, not the UTC date', () => {
    // 23:30 UTC on Sunday 29 March is 00:30 BST on Monday 30 March: the next working day is Tuesday.
    expect(addWorkingDays('2026-03-29T23:30:00Z', 1)).toBe('2026-03-30T23:30:00.000Z');
    expect(londonWallClock(at('2026-03-30T23:30:00Z'))).toBe('2026-03-31 00:30');
  });

  it('skips the weekend', () => {
    // Friday 18:00 BST -> Monday 18:00 BST.
    expect(addWorkingDays('2026-06-05T17:00:00Z', 1)).toBe('2026-06-08T17:00:00.000Z');
    expect(addWorkingDays('2026-06-05T17:00:00Z', 5)).toBe('2026-06-12T17:00:00.000Z');
  });

  it('counts a start on a Saturday or a Sunday from the following Monday', () => {
    expect(addWorkingDays('2026-06-06T09:00:00Z', 1)).toBe('2026-06-08T09:00:00.000Z');
    expect(addWorkingDays('2026-06-07T09:00:00Z', 1)).toBe('2026-06-08T09:00:00.000Z');
    expect(addWorkingDays('2026-06-06T09:00:00Z', 2)).toBe('2026-06-09T09:00:00.000Z');
  });

  it('skips Easter Monday for a start on Good Friday', () => {
    expect(addWorkingDays('2026-04-03T09:00:00Z', 1)).toBe('2026-04-07T09:00:00.000Z');
  });

  it('skips Christmas, the Boxing Day substitute and New Year across the holiday fortnight', () => {
    // Thursday 24 December 2026 15:00 GMT. 25 Fri (Christmas), 26 Sat, 27 Sun, 28 Mon (Boxing
    // Day substitute), then 29, 30, 31 December, 1 January 2027 (Fri, New Year), 4 January.
    const start = '2026-12-24T15:00:00Z';

    expect(addWorkingDays(start, 1)).toBe('2026-12-29T15:00:00.000Z');
    expect(addWorkingDays(start, 2)).toBe('2026-12-30T15:00:00.000Z');
    expect(addWorkingDays(start, 3)).toBe('2026-12-31T15:00:00.000Z');
    expect(addWorkingDays(start, 4)).toBe('2027-01-04T15:00:00.000Z');
    expect(addWorkingDays(start, 5)).toBe('2027-01-05T15:00:00.000Z');
  });

  it('knows which days around Christmas and New Year are not working days', () => {
    const notWorking = ['2026-12-25', '2026-12-26', '2026-12-27', '2026-12-28', '2027-01-01'];
    const working = ['2026-12-24', '2026-12-29', '2026-12-30', '2026-12-31', '2027-01-04'];

    expect(notWorking.filter((d) => calendar.isWorkingDay(epochDay(d)))).toEqual([]);
    expect(working.filter((d) => !calendar.isWorkingDay(epochDay(d)))).toEqual([]);
  });

  it('skips the 2027 Christmas substitutes on 27 and 28 December', () => {
    // Friday 24 December 2027: 25-26 are a weekend, 27-28 the substitute days.
    expect(addWorkingDays('2027-12-24T10:00:00Z', 1)).toBe('2027-12-29T10:00:00.000Z');
  });

  it('treats extraNonWorkingDays as holidays', () => {
    const withExtra = createWorkingCalendar(['2026-06-08']);

    expect(withExtra.isWorkingDay(epochDay('2026-06-08'))).toBe(false);
    expect(iso(withExtra.addWorkingDays(at('2026-06-05T09:00:00Z'), 1))).toBe('2026-06-09T09:00:00.000Z');
  });

  it('takes extraNonWorkingDays from the config', () => {
    const config = configWith(['extraNonWorkingDays: []', "extraNonWorkingDays: ['2026-06-08']"]);

    expect(iso(config.calendar.addWorkingDays(at('2026-06-05T09:00:00Z'), 1))).toBe(
      '2026-06-09T09:00:00.000Z',
    );
  });

  it('answers after the end of the bank-holiday list with weekends only, and says so', () => {
    const fresh = createWorkingCalendar();

    // 1 January 2031 (New Year's Day) is not in the list: the deadline lands on it, a day early.
    expect(iso(fresh.addWorkingDays(at('2030-12-31T10:00:00Z'), 1))).toBe('2031-01-01T10:00:00.000Z');
    expect(fresh.isWorkingDay(epochDay('2031-01-02'))).toBe(true);
    expect(fresh.isWorkingDay(epochDay('2031-01-04'))).toBe(false); // a Saturday
    expect(fresh.uncoveredAnswers).toBe(3);
  });

  it('answers before the start of the bank-holiday list with weekends only, and says so', () => {
    const fresh = createWorkingCalendar();

    expect(fresh.isWorkingDay(epochDay('2017-12-29'))).toBe(true);
    expect(fresh.isWorkingDay(epochDay('2017-12-25'))).toBe(true); // Christmas, unknown before 2018
    expect(fresh.isWorkingDay(epochDay('2017-12-30'))).toBe(false);
    // Friday 29 December 2017 + 1: Monday 1 January 2018, a known holiday, is skipped.
    expect(iso(fresh.addWorkingDays(at('2017-12-29T10:00:00Z'), 1))).toBe('2018-01-02T10:00:00.000Z');
    expect(fresh.uncoveredAnswers).toBe(4);
  });

  it('counts nothing for answers inside the list, however often it is asked', () => {
    const fresh = createWorkingCalendar();

    fresh.addWorkingDays(at('2026-12-24T15:00:00Z'), 5);
    fresh.addWorkingDays(at('2026-12-24T15:00:00Z'), 5);
    fresh.isWorkingDay(epochDay('2030-12-31'));

    expect(fresh.uncoveredAnswers).toBe(0);
  });

  it('counts an answer that runs past the end of the list even when it comes from the cache', () => {
    const fresh = createWorkingCalendar();

    fresh.addWorkingDays(at('2030-12-30T10:00:00Z'), 3);
    fresh.addWorkingDays(at('2030-12-30T10:00:00Z'), 3);

    expect(fresh.uncoveredAnswers).toBe(2);
  });

  it('honours extraNonWorkingDays outside the list', () => {
    const withExtra = createWorkingCalendar(['2031-01-01']);

    expect(iso(withExtra.addWorkingDays(at('2030-12-31T10:00:00Z'), 1))).toBe('2031-01-02T10:00:00.000Z');
  });

  it('tells which instants the list covers, by London date', () => {
    expect(calendar.coverage).toEqual({ from: '2018-01-01', until: '2030-12-31' });
    expect(calendar.isCovered(at('2018-01-01T00:00:00Z'))).toBe(true);
    expect(calendar.isCovered(at('2017-12-31T23:59:59Z'))).toBe(false);
    expect(calendar.isCovered(at('2030-12-31T23:59:59Z'))).toBe(true);
    expect(calendar.isCovered(at('2031-01-01T00:00:00Z'))).toBe(false);
  });

  it('works up to the last covered day', () => {
    expect(addWorkingDays('2030-12-30T10:00:00Z', 1)).toBe('2030-12-31T10:00:00.000Z');
  });
});

describe('calendar dates', () => {
  it('round-trips epoch days and ISO dates', () => {
    expect(epochDay('1970-01-02')).toBe(1);
    expect(isoDateOfEpochDay(epochDay('2026-03-29'))).toBe('2026-03-29');
  });

  it('rejects text that is not a date', () => {
    expect(() => epochDay('2026-13-45')).toThrow(RangeError);
  });
});

import { describe, expect, it } from 'vitest';
import { formatAge, minimumMs, parseLimit } from '#shared/domain/duration.ts';
import { DAY, HOUR, MINUTE } from '#test/support/fixtures.ts';

describe('parseLimit', () => {
  it.each([
    ['30m', { kind: 'elapsed', ms: 30 * MINUTE, text: '30m' }],
    ['4h', { kind: 'elapsed', ms: 4 * HOUR, text: '4h' }],
    ['7d', { kind: 'elapsed', ms: 7 * DAY, text: '7d' }],
    ['1wd', { kind: 'working-days', days: 1, text: '1wd' }],
    ['60wd', { kind: 'working-days', days: 60, text: '60wd' }],
    [' 36h ', { kind: 'elapsed', ms: 36 * HOUR, text: '36h' }],
  ])('accepts %j', (text, expected) => {
    expect(parseLimit(text)).toEqual(expected);
  });

  it.each(['0m', '4', 'h', '4 h', '4H', '4hours', '1.5h', '-1h', '04h', '2w', '1wd1', '', '100000m'])(
    'rejects %j with a reason that shows the accepted form',
    (text) => {
      const parsed = parseLimit(text);

      expect(parsed).toHaveProperty('error');
      expect((parsed as { error: string }).error).toMatch(/30m, 4h, 7d, 1wd|working days/);
    },
  );

  it('rejects more than 60 working days', () => {
    expect(parseLimit('61wd')).toEqual({ error: "'61wd' is more than 60 working days" });
  });

  it('takes a working day as at least 24 hours for ordering checks', () => {
    const twoWorkingDays = parseLimit('2wd');
    if ('error' in twoWorkingDays) throw new Error(twoWorkingDays.error);

    expect(minimumMs(twoWorkingDays)).toBe(2 * DAY);
  });
});

describe('formatAge', () => {
  it.each([
    [0, '0m'],
    [59_999, '0m'],
    [45 * MINUTE, '45m'],
    [59 * MINUTE, '59m'],
    [HOUR, '1h'],
    [7 * HOUR + 59 * MINUTE, '7h'],
    [47 * HOUR, '47h'],
    [48 * HOUR, '2d'],
    [2 * DAY + 4 * HOUR, '2d 4h'],
    [9 * DAY + 23 * HOUR, '9d 23h'],
    [10 * DAY + 5 * HOUR, '10d'],
    [89 * DAY + 12 * HOUR, '89d'],
  ])('formats %i ms as %s', (ms, text) => {
    expect(formatAge(ms)).toBe(text);
  });

  it('shows a negative age (a stage starting within the clock-skew tolerance) as 0m', () => {
    expect(formatAge(-3 * MINUTE)).toBe('0m');
  });
});

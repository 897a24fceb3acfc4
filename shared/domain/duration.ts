// Threshold limits: true elapsed time (`30m`, `4h`, `7d`) or whole working days (`1wd`).

export type Limit =
  | { readonly kind: 'elapsed'; readonly ms: number; readonly text: string }
  | { readonly kind: 'working-days'; readonly days: number; readonly text: string };

const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const LIMIT_PATTERN = /^([1-9]\d{0,4})(m|h|d|wd)$/;

/** Parses a limit, or returns why it is not one. */
export function parseLimit(text: string): Limit | { error: string } {
  const match = LIMIT_PATTERN.exec(text.trim());
  if (!match) {
    return {
      error: /^\d{6,}(m|h|d|wd)$/.test(text.trim())
        ? `'${text}' is not a limit: at most five digits and a unit (e.g. 30m, 4h, 7d, 1wd)`
        : `'${text}' is not a limit: use a whole number and a unit, m, h, d or wd (e.g. 30m, 4h, 7d, 1wd)`,
    };
  }
  const count = Number(match[1]);
  const unit = match[2] as 'm' | 'h' | 'd' | 'wd';
  if (unit === 'wd') {
    if (count > 60) return { error: `'${text}' is more than 60 working days` };
    return { kind: 'working-days', days: count, text: `${count}wd` };
  }
  return { kind: 'elapsed', ms: count * UNIT_MS[unit], text: `${count}${unit}` };
}

/** The shortest a limit can be, in ms: a working day is at least 24 hours. For ordering checks. */
export function minimumMs(limit: Limit): number {
  return limit.kind === 'elapsed' ? limit.ms : limit.days * UNIT_MS.d;
}

/** An age for people: `45m`, `7h`, `2d 4h`, `89d`. */
export function formatAge(ms: number): string {
  const minutes = Math.max(0, Math.floor(ms / 60_000));
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours}h`;
  const days = Math.floor(hours / 24);
  const rest = hours % 24;
  return days >= 10 || rest === 0 ? `${days}d` : `${days}d ${rest}h`;
}

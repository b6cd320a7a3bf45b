// Business dates (`YYYY-MM-DD`) and times as stores write them.

export function isValidIsoDate(s: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (mo < 1 || mo > 12 || d < 1) return false;
  return d <= new Date(Date.UTC(y, mo, 0)).getUTCDate();
}

/** `YYYY-MM-DD` or `DD/MM/YYYY` → `YYYY-MM-DD`, or undefined. */
export function parseBusinessDate(text: string): string | undefined {
  const s = text.trim();
  let iso: string | undefined;
  if (/^\d{4}-\d{2}-\d{2}$/.test(s)) iso = s;
  else {
    const m = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(s);
    if (m) iso = `${m[3]}-${m[2]!.padStart(2, '0')}-${m[1]!.padStart(2, '0')}`;
  }
  return iso && isValidIsoDate(iso) ? iso : undefined;
}

export interface ParsedTime {
  /** the date part when the value carried one */
  date?: string;
  hour: number;
  minute: number;
  second: number;
}

/** `HH:MM[:SS]`, ISO 8601 date-time (`2024-05-01T14:03:00[Z|±hh:mm]`), or `DD/MM/YYYY HH:MM[:SS]`. */
export function parseSoldAt(text: string): ParsedTime | undefined {
  const s = text.trim();
  let m = /^(\d{1,2}):(\d{2})(?::(\d{2}))?$/.exec(s);
  if (m) return time(undefined, m[1]!, m[2]!, m[3]);
  m = /^(\d{4}-\d{2}-\d{2})[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/.exec(s);
  if (m) return time(parseBusinessDate(m[1]!) ?? 'bad', m[2]!, m[3]!, m[4]);
  m = /^(\d{1,2}\/\d{1,2}\/\d{4})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?$/.exec(s);
  if (m) return time(parseBusinessDate(m[1]!) ?? 'bad', m[2]!, m[3]!, m[4]);
  return undefined;
}

function time(date: string | undefined, h: string, mi: string, se: string | undefined): ParsedTime | undefined {
  if (date === 'bad') return undefined;
  const hour = Number(h);
  const minute = Number(mi);
  const second = se === undefined ? 0 : Number(se);
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  return { ...(date ? { date } : {}), hour, minute, second };
}

export function addDays(iso: string, days: number): string {
  const d = new Date(`${iso}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const pad2 = (n: number) => (n < 10 ? `0${n}` : String(n));

/**
 * Every day from `from` to `to` (`YYYY-MM-DD`, inclusive), in order. A series by day lists a year of them per
 * answer: counting on the calendar is several times cheaper than a Date round trip per day.
 */
export function daysOf(from: string, to: string): string[] {
  const out: string[] = [];
  let y = Number(from.slice(0, 4));
  let m = Number(from.slice(5, 7));
  let d = Number(from.slice(8, 10));
  for (;;) {
    const day = `${y}-${pad2(m)}-${pad2(d)}`;
    if (day > to) return out;
    out.push(day);
    const leap = m === 2 && y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
    if (++d > DAYS_IN_MONTH[m - 1]! + (leap ? 1 : 0)) {
      d = 1;
      if (++m > 12) {
        m = 1;
        y++;
      }
    }
  }
}

export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}

// A formatter per time zone: building one costs more than a hundred uses of it (profiled in a sales file's load).
const dayFormatters = new Map<string, Intl.DateTimeFormat>();

/** Today's date in a time zone, as `YYYY-MM-DD`. */
export function todayIn(timeZone: string, now = new Date()): string {
  let f = dayFormatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    dayFormatters.set(timeZone, f);
  }
  return f.format(now);
}

export interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** What a clock on the wall of a time zone shows at an instant. */
export function wallClockIn(timeZone: string, at: Date): WallClock {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(at);
  const get = (type: Intl.DateTimeFormatPartTypes) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return {
    year: get('year'),
    month: get('month'),
    day: get('day'),
    hour: get('hour'),
    minute: get('minute'),
    second: get('second'),
  };
}

/** How far a time zone's wall clock is ahead of UTC at an instant, in milliseconds. */
function zoneOffsetMs(timeZone: string, at: number): number {
  const w = wallClockIn(timeZone, new Date(at));
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) - Math.floor(at / 1000) * 1000;
}

/** The instant a local date begins in a time zone (its midnight, or the first minute after a DST gap). */
export function startOfDayIn(date: string, timeZone: string): Date {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const wall = Date.UTC(y, m - 1, d);
  const first = wall - zoneOffsetMs(timeZone, wall);
  // the offset at the guess may differ from the one at the result when a DST change falls between them
  return new Date(wall - zoneOffsetMs(timeZone, first));
}

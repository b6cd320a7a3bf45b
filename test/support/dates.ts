// A time zone's calendar day, worked out by the tests themselves (not by the code they test).

/** The calendar day in `timeZone` at `at`, YYYY-MM-DD. */
export const dayIn = (timeZone: string, at = new Date()) =>
  new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(at);

/** The day before today in `timeZone`, YYYY-MM-DD. */
export function yesterdayIn(timeZone: string): string {
  const d = new Date(`${dayIn(timeZone)}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() - 1);
  return d.toISOString().slice(0, 10);
}

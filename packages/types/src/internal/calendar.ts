/**
 * Proleptic Gregorian calendar arithmetic on astronomical years (year 0 = 1 BC), the calendar
 * PostgreSQL uses for `date` and `timestamp` (see `date2j` / `j2date` in PostgreSQL's datetime.c).
 *
 * @internal
 */

/** Days from 1970-01-01 to 2000-01-01 (the PostgreSQL epoch). @internal */
export const UNIX_TO_PG_DAYS = 10957

/** Days since 2000-01-01 of a calendar date. @internal */
export const daysFromCivil = (year: number, month: number, day: number): number => {
  const y = month <= 2 ? year - 1 : year
  const era = Math.floor(y / 400)
  const yoe = y - era * 400
  const mp = month > 2 ? month - 3 : month + 9
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy
  return era * 146097 + doe - 719468 - UNIX_TO_PG_DAYS
}

/** Calendar date of a day count since 2000-01-01, written into `out` as [year, month, day]. @internal */
export const civilFromDays = (days: number, out: Array<number>): Array<number> => {
  const z = days + UNIX_TO_PG_DAYS + 719468
  const era = Math.floor(z / 146097)
  const doe = z - era * 146097
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365)
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100))
  const mp = Math.floor((5 * doy + 2) / 153)
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1
  const month = mp < 10 ? mp + 3 : mp - 9
  out[0] = yoe + era * 400 + (month <= 2 ? 1 : 0)
  out[1] = month
  out[2] = day
  return out
}

/** Days in a month of an astronomical year. @internal */
export const daysInMonth = (year: number, month: number): number => {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31
}

const pad2 = (n: number): string => (n < 10 ? `0${n}` : String(n))

/**
 * `YYYY-MM-DD` for an astronomical year as PostgreSQL's ISO DateStyle prints it: years ≤ 0 are
 * shown as `1 − year` (the caller appends ` BC`), at least 4 digits, more in full.
 *
 * @internal
 */
export const formatYmd = (year: number, month: number, day: number): string => {
  const y = year > 0 ? year : 1 - year
  return `${y < 1000 ? String(y).padStart(4, "0") : String(y)}-${pad2(month)}-${pad2(day)}`
}

export { pad2 }

/** PostgreSQL's first valid day (4714-11-24 BC, Julian day 0) in days since 2000-01-01. @internal */
export const DATE_MIN_DAYS = -2451545
/** One past PostgreSQL's last valid `date` (5874897-12-31 AD) in days since 2000-01-01. @internal */
export const DATE_END_DAYS = 2145031949

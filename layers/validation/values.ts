/**
 * Byte-level readers for the typed values of a spec. They read a value straight from the bytes of
 * a cell, without making a string, and say why a value is refused (a {@link ValueStatus}) so that
 * the message can be precise. What each type accepts is documented on its reader; the README of
 * the validation layer repeats it for people who write data.
 */

/** Why a value was refused, or `OK`. */
export type ValueStatus =
  | 'ok'
  /** Not in the form the type needs at all. */
  | 'malformed'
  /** An integer outside ±(2^53 − 1), which a double cannot hold exactly. */
  | 'unsafe-integer'
  /** NaN, Infinity, or a number too large for a double. */
  | 'not-finite'
  /** Well formed, but not a day or time of the calendar (2024-02-30, 24:00, minute 60). */
  | 'calendar'
  /** A timestamp without `Z` or an offset. */
  | 'no-zone'
  /** A timestamp column holding a date without a time. */
  | 'date-only'
  /** A timestamp with a space instead of `T` between date and time. */
  | 'space-separator'
  /** More than nine fractional digits (nanoseconds are the finest the profile keeps). */
  | 'too-precise';

/**
 * The typed value of the last successful read. One object is reused for every cell, so reading
 * allocates nothing.
 */
export interface ParsedValue {
  /** integer, number: the value; boolean: 1 or 0; date: days since 1970-01-01. */
  number: number;
  /** timestamp: whole seconds since 1970-01-01T00:00:00Z. */
  seconds: number;
  /** timestamp: nanoseconds within the second. */
  nanos: number;
}

export function parsedValue(): ParsedValue {
  return { number: 0, seconds: 0, nanos: 0 };
}

const ZERO = 0x30;
const NINE = 0x39;
const PLUS = 0x2b;
const MINUS = 0x2d;
const DOT = 0x2e;
const COLON = 0x3a;

/** Powers of ten a double holds exactly: the fast, correctly rounded path of {@link readNumber}. */
const EXACT_POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);

const isDigit = (c: number | undefined): boolean => c !== undefined && c >= ZERO && c <= NINE;

/**
 * An integer: optional sign, then decimal digits (leading zeros allowed), nothing else. `1e3`,
 * `1.0` and `1_000` are refused: a file that writes them is not writing integers, and guessing
 * would hide a unit or export mistake. The value must lie within ±(2^53 − 1) so it is exact.
 */
export function readInteger(buf: Uint8Array, start: number, end: number, out: ParsedValue): ValueStatus {
  let pos = start;
  let negative = false;
  const first = buf[pos];
  if (first === PLUS || first === MINUS) {
    negative = first === MINUS;
    pos++;
  }
  if (pos === end) return 'malformed';
  let value = 0;
  let unsafe = false;
  for (; pos < end; pos++) {
    const c = buf[pos]!;
    if (c < ZERO || c > NINE) return 'malformed';
    // Exact while below 2^53: every step is an exact integer operation on doubles.
    value = value * 10 + (c - ZERO);
    if (value > Number.MAX_SAFE_INTEGER) unsafe = true;
  }
  if (unsafe) return 'unsafe-integer';
  out.number = negative ? -value : value;
  return 'ok';
}

/**
 * A decimal number: optional sign, digits with an optional fraction (`21.5`, `.5`, `5.`), and an
 * optional exponent (`2.1e3`). NaN, Infinity (in any spelling) and values beyond the range of a
 * double are `not-finite`. The value is correctly rounded: the common short case is computed from
 * the digits, the rest goes through the engine's own conversion.
 */
export function readNumber(buf: Uint8Array, start: number, end: number, out: ParsedValue): ValueStatus {
  if (readShortDecimal(buf, start, end, out)) return 'ok';
  let pos = start;
  let negative = false;
  const first = buf[pos];
  if (first === PLUS || first === MINUS) {
    negative = first === MINUS;
    pos++;
  }
  const unsigned = pos;
  let mantissa = 0;
  let significant = 0;
  let scale = 0;
  let digits = 0;
  for (; pos < end && isDigit(buf[pos]); pos++, digits++) {
    const d = buf[pos]! - ZERO;
    if (significant > 0 || d !== 0) {
      significant++;
      if (significant <= 15) mantissa = mantissa * 10 + d;
      else scale++;
    }
  }
  if (pos < end && buf[pos] === DOT) {
    pos++;
    for (; pos < end && isDigit(buf[pos]); pos++, digits++) {
      const d = buf[pos]! - ZERO;
      if (significant > 0 || d !== 0) {
        significant++;
        if (significant <= 15) {
          mantissa = mantissa * 10 + d;
          scale--;
        }
      } else {
        scale--;
      }
    }
  }
  if (digits === 0) return isNonFiniteWord(buf, start, end) ? 'not-finite' : 'malformed';
  let exponent = 0;
  if (pos < end && (buf[pos] === 0x65 || buf[pos] === 0x45)) {
    pos++;
    let expNegative = false;
    if (buf[pos] === PLUS || buf[pos] === MINUS) {
      expNegative = buf[pos] === MINUS;
      pos++;
    }
    let expDigits = 0;
    for (; pos < end && isDigit(buf[pos]); pos++, expDigits++) {
      if (exponent < 100_000) exponent = exponent * 10 + (buf[pos]! - ZERO);
    }
    if (expDigits === 0) return 'malformed';
    if (expNegative) exponent = -exponent;
  }
  if (pos !== end) return 'malformed';
  let value: number;
  const power = scale + exponent;
  if (significant <= 15 && power >= -22 && power <= 22) {
    // Both operands are exact doubles, so one IEEE operation rounds correctly (Clinger's fast path).
    value = power < 0 ? mantissa / EXACT_POW10[-power]! : mantissa * EXACT_POW10[power]!;
  } else {
    // Without the sign: it is applied below, once.
    value = Number(latin1(buf, unsigned, end));
  }
  if (!Number.isFinite(value)) return 'not-finite';
  // -0 and 0 are the same measurement; keeping one keeps keys and the profile honest.
  out.number = negative && value !== 0 ? -value : value;
  return 'ok';
}

/**
 * The common case of {@link readNumber} in one tight loop: an optional sign, at most 15 digits
 * with an optional fraction, nothing else. False leaves the value to the general reader. The
 * digits make an exact integer and the power of ten is exact, so one division rounds correctly:
 * the same double the general reader (and the engine) gives.
 */
function readShortDecimal(buf: Uint8Array, start: number, end: number, out: ParsedValue): boolean {
  let pos = start;
  const first = buf[pos];
  const negative = first === MINUS;
  if (negative || first === PLUS) pos++;
  let mantissa = 0;
  let digits = 0;
  let fraction = 0;
  for (; pos < end; pos++) {
    const d = (buf[pos]! - ZERO) >>> 0;
    if (d > 9) break;
    mantissa = mantissa * 10 + d;
    digits++;
  }
  if (pos < end && buf[pos] === DOT) {
    for (pos++; pos < end; pos++) {
      const d = (buf[pos]! - ZERO) >>> 0;
      if (d > 9) break;
      mantissa = mantissa * 10 + d;
      digits++;
      fraction++;
    }
  }
  if (pos !== end || digits === 0 || digits > 15) return false;
  const value = fraction === 0 ? mantissa : mantissa / EXACT_POW10[fraction]!;
  out.number = negative && value !== 0 ? -value : value;
  return true;
}

/** `nan`, `inf`, `infinity`, with an optional sign, in any case. */
function isNonFiniteWord(buf: Uint8Array, start: number, end: number): boolean {
  let pos = start;
  if (buf[pos] === PLUS || buf[pos] === MINUS) pos++;
  const word = latin1(buf, pos, end).toLowerCase();
  return word === 'nan' || word === 'inf' || word === 'infinity';
}

/**
 * A boolean: `true` or `false` in any letter case (spreadsheets write `TRUE`). `1`/`0` and
 * `yes`/`no` are refused: they are just as often counts or codes.
 */
export function readBoolean(buf: Uint8Array, start: number, end: number, out: ParsedValue): ValueStatus {
  const length = end - start;
  if (length === 4 && lowerEquals(buf, start, 'true')) {
    out.number = 1;
    return 'ok';
  }
  if (length === 5 && lowerEquals(buf, start, 'false')) {
    out.number = 0;
    return 'ok';
  }
  return 'malformed';
}

function lowerEquals(buf: Uint8Array, start: number, word: string): boolean {
  for (let i = 0; i < word.length; i++) {
    if ((buf[start + i]! | 0x20) !== word.charCodeAt(i)) return false;
  }
  return true;
}

/** Reads `count` digits at `pos` as a number, or -1 when one of them is not a digit. */
function digitsAt(buf: Uint8Array, pos: number, count: number): number {
  let value = 0;
  for (let i = 0; i < count; i++) {
    const c = buf[pos + i];
    if (c === undefined || c < ZERO || c > NINE) return -1;
    value = value * 10 + (c - ZERO);
  }
  return value;
}

const isLeapYear = (year: number): boolean => (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;

/** Days in a month of the proleptic Gregorian calendar. */
export function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Days from 1970-01-01 to a civil date (Howard Hinnant's days_from_civil). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** Reads `YYYY-MM-DD` at `pos`; returns the status and leaves the day number in `out.number`. */
function readDatePart(buf: Uint8Array, pos: number, out: ParsedValue): ValueStatus {
  const year = digitsAt(buf, pos, 4);
  const month = digitsAt(buf, pos + 5, 2);
  const day = digitsAt(buf, pos + 8, 2);
  if (year < 0 || month < 0 || day < 0 || buf[pos + 4] !== MINUS || buf[pos + 7] !== MINUS) return 'malformed';
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || year === 0) return 'calendar';
  out.number = daysFromCivil(year, month, day);
  return 'ok';
}

/**
 * A calendar date, `YYYY-MM-DD` exactly (years 0001–9999), checked against the calendar:
 * 2024-02-29 is a day, 2023-02-29 and 2024-02-30 are not.
 */
export function readDate(buf: Uint8Array, start: number, end: number, out: ParsedValue): ValueStatus {
  if (end - start !== 10) return 'malformed';
  return readDatePart(buf, start, out);
}

/**
 * An ISO 8601 timestamp: `YYYY-MM-DDTHH:MM:SS`, optional fraction of one to nine digits, then `Z`
 * or an offset `±HH:MM`. A date alone is not a timestamp (`date-only`: a day is not an instant),
 * and neither is a time without a zone (`no-zone`: the instant would depend on where it is read).
 * Hour 24, minute 60 and second 60 are refused (`calendar`).
 */
export function readTimestamp(buf: Uint8Array, start: number, end: number, out: ParsedValue): ValueStatus {
  const length = end - start;
  if (length === 20 && buf[start + 19] === 0x5a && readUtcSeconds(buf, start, out)) return 'ok';
  const date = readDatePart(buf, start, out);
  if (date === 'malformed') return 'malformed';
  if (length === 10) return date === 'ok' ? 'date-only' : date;
  const separator = buf[start + 10];
  if (separator === 0x20) return 'space-separator';
  if (separator !== 0x54) return 'malformed';
  const hour = digitsAt(buf, start + 11, 2);
  const minute = digitsAt(buf, start + 14, 2);
  if (hour < 0 || minute < 0 || buf[start + 13] !== COLON) return 'malformed';
  let pos = start + 16;
  let second = 0;
  if (buf[pos] === COLON) {
    second = digitsAt(buf, pos + 1, 2);
    if (second < 0) return 'malformed';
    pos += 3;
  } else {
    return 'malformed';
  }
  let nanos = 0;
  if (buf[pos] === DOT) {
    pos++;
    let count = 0;
    for (; pos < end && isDigit(buf[pos]); pos++, count++) {
      if (count < 9) nanos = nanos * 10 + (buf[pos]! - ZERO);
    }
    if (count === 0) return 'malformed';
    if (count > 9) return 'too-precise';
    nanos *= EXACT_POW10[9 - count]!;
  }
  let offsetSeconds = 0;
  if (pos === end) return date === 'ok' ? 'no-zone' : date;
  const zone = buf[pos];
  if (zone === 0x5a && pos + 1 === end) {
    // Z: UTC.
  } else if ((zone === PLUS || zone === MINUS) && end - pos === 6 && buf[pos + 3] === COLON) {
    const offsetHours = digitsAt(buf, pos + 1, 2);
    const offsetMinutes = digitsAt(buf, pos + 4, 2);
    if (offsetHours < 0 || offsetMinutes < 0) return 'malformed';
    if (offsetHours > 23 || offsetMinutes > 59) return 'calendar';
    offsetSeconds = (offsetHours * 3600 + offsetMinutes * 60) * (zone === MINUS ? -1 : 1);
  } else {
    return 'malformed';
  }
  if (date !== 'ok') return date;
  if (hour > 23 || minute > 59 || second > 59) return 'calendar';
  out.seconds = out.number * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds;
  out.nanos = nanos;
  return 'ok';
}

/** The day of the last `YYYY-MM-DD` read by {@link readUtcSeconds}: consecutive rows mostly share it. */
let cachedDate = -1;
let cachedDays = 0;

/**
 * The common shape `YYYY-MM-DDTHH:MM:SSZ`, read in one go: true with the instant in `out` when the
 * bytes are exactly that shape and a valid moment, false to let the general reader decide (and say
 * why). The day number of the last date is kept, so most rows skip the calendar arithmetic.
 */
function readUtcSeconds(buf: Uint8Array, start: number, out: ParsedValue): boolean {
  if (buf[start + 4] !== MINUS || buf[start + 7] !== MINUS || buf[start + 10] !== 0x54 || buf[start + 13] !== COLON || buf[start + 16] !== COLON) return false;
  // Each digit minus '0' as an unsigned number: anything that is not a digit ends up above 9.
  const y0 = (buf[start]! - ZERO) >>> 0;
  const y1 = (buf[start + 1]! - ZERO) >>> 0;
  const y2 = (buf[start + 2]! - ZERO) >>> 0;
  const y3 = (buf[start + 3]! - ZERO) >>> 0;
  const m0 = (buf[start + 5]! - ZERO) >>> 0;
  const m1 = (buf[start + 6]! - ZERO) >>> 0;
  const d0 = (buf[start + 8]! - ZERO) >>> 0;
  const d1 = (buf[start + 9]! - ZERO) >>> 0;
  const h0 = (buf[start + 11]! - ZERO) >>> 0;
  const h1 = (buf[start + 12]! - ZERO) >>> 0;
  const i0 = (buf[start + 14]! - ZERO) >>> 0;
  const i1 = (buf[start + 15]! - ZERO) >>> 0;
  const s0 = (buf[start + 17]! - ZERO) >>> 0;
  const s1 = (buf[start + 18]! - ZERO) >>> 0;
  if (y0 > 9 || y1 > 9 || y2 > 9 || y3 > 9 || m0 > 9 || m1 > 9 || d0 > 9 || d1 > 9 || h0 > 9 || h1 > 9 || i0 > 9 || i1 > 9 || s0 > 9 || s1 > 9) return false;
  const hour = h0 * 10 + h1;
  const minute = i0 * 10 + i1;
  const second = s0 * 10 + s1;
  if (hour > 23 || minute > 59 || second > 59) return false;
  const year = ((y0 * 10 + y1) * 10 + y2) * 10 + y3;
  const month = m0 * 10 + m1;
  const day = d0 * 10 + d1;
  const date = year * 10_000 + month * 100 + day;
  let days: number;
  if (date === cachedDate) {
    days = cachedDays;
  } else {
    if (year === 0 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return false;
    days = daysFromCivil(year, month, day);
    cachedDate = date;
    cachedDays = days;
  }
  out.number = days;
  out.seconds = days * 86_400 + hour * 3600 + minute * 60 + second;
  out.nanos = 0;
  return true;
}

/** Bytes as a string, one character per byte: right for ASCII, and never throws. */
export function latin1(buf: Uint8Array, start: number, end: number): string {
  return Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString('latin1');
}

/** Bytes decoded as UTF-8 (invalid sequences become U+FFFD). */
export function utf8(buf: Uint8Array, start: number, end: number): string {
  return Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString('utf8');
}

/** Unicode code points in a UTF-8 byte range: every byte that does not continue a sequence. */
export function codePointLength(buf: Uint8Array, start: number, end: number): number {
  let count = 0;
  for (let pos = start; pos < end; pos++) if ((buf[pos]! & 0xc0) !== 0x80) count++;
  return count;
}

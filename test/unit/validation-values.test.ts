import { describe, expect, it } from 'vitest';
import {
  parsedValue,
  readBoolean,
  readDate,
  readInteger,
  readNumber,
  readTimestamp,
  type ParsedValue,
  type ValueStatus,
} from '#validation/values';

type Reader = (buf: Uint8Array, start: number, end: number, out: ParsedValue) => ValueStatus;

/** Reads `text` with `reader` from the middle of a larger buffer, as cells are read. */
function read(reader: Reader, text: string): { status: ValueStatus; value: ParsedValue } {
  const bytes = Buffer.from(`,${text},`);
  const value = parsedValue();
  return { status: reader(bytes, 1, bytes.length - 1, value), value };
}

describe('integer values', () => {
  it('accepts a sign and leading zeros', () => {
    const { status, value } = read(readInteger, '-007');

    expect(status).toBe('ok');
    expect(value.number).toBe(-7);
  });

  it('refuses a decimal point and an exponent', () => {
    const statuses = ['1.0', '1e3', '1_000', '', '+', ' 1'].map((text) => read(readInteger, text).status);

    expect(statuses).toEqual(['malformed', 'malformed', 'malformed', 'malformed', 'malformed', 'malformed']);
  });

  it('accepts ±(2^53 − 1) and refuses one more, which a double cannot hold exactly', () => {
    const largest = read(readInteger, '9007199254740991');
    const smallest = read(readInteger, '-9007199254740991');
    const beyond = read(readInteger, '9007199254740992');

    expect([largest.value.number, smallest.value.number]).toEqual([Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER]);
    expect(beyond.status).toBe('unsafe-integer');
  });
});

describe('number values', () => {
  it('reads decimal and exponent forms exactly as the engine does', () => {
    const texts = ['21.5', '0.1', '-0.5', '.5', '5.', '+3', '1e-7', '2.5E+3', '123456789012345678', '0.30000000000000004', '4.9e-324'];

    const values = texts.map((text) => read(readNumber, text).value.number);

    expect(values).toEqual(texts.map(Number));
  });

  it('reads random short decimals exactly as the engine does', () => {
    let seed = 17;
    const random = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    const digits = (n: number): string => Array.from({ length: n }, () => String(random(10))).join('');
    const texts = Array.from({ length: 5000 }, () => `${['', '-', '+'][random(3)]}${digits(random(10))}${random(2) ? `.${digits(random(10))}` : ''}`).filter((text) => /\d/.test(text));

    const mismatches = texts.filter((text) => {
      const { status, value } = read(readNumber, text);
      const expected = Number(text) === 0 ? 0 : Number(text);
      return status !== 'ok' || !Object.is(value.number, expected);
    });

    expect(texts.length).toBeGreaterThan(4000);
    expect(mismatches).toEqual([]);
  });

  it('reads -0 as 0, so keys and the profile see one zero', () => {
    const { value } = read(readNumber, '-0.0');

    expect(Object.is(value.number, 0)).toBe(true);
  });

  it('refuses NaN, Infinity and values beyond a double as not finite', () => {
    const statuses = ['NaN', 'nan', 'Infinity', '-inf', '+INF', '1e400'].map((text) => read(readNumber, text).status);

    expect(new Set(statuses)).toEqual(new Set(['not-finite']));
  });

  it('refuses text, a decimal comma and hexadecimal', () => {
    const statuses = ['abc', '21,5', '0x1A', '1e', '.', '--1', '1 '].map((text) => read(readNumber, text).status);

    expect(new Set(statuses)).toEqual(new Set(['malformed']));
  });
});

describe('boolean values', () => {
  it('accepts true and false in any letter case', () => {
    const values = ['true', 'FALSE', 'True'].map((text) => read(readBoolean, text));

    expect(values.map((v) => [v.status, v.value.number])).toEqual([['ok', 1], ['ok', 0], ['ok', 1]]);
  });

  it('refuses 1, 0, yes and no', () => {
    const statuses = ['1', '0', 'yes', 'no'].map((text) => read(readBoolean, text).status);

    expect(new Set(statuses)).toEqual(new Set(['malformed']));
  });
});

describe('date values', () => {
  it('accepts 29 February in leap years only (2000 and 2024, not 1900 or 2023)', () => {
    const statuses = ['2000-02-29', '2024-02-29', '1900-02-29', '2023-02-29'].map((text) => read(readDate, text).status);

    expect(statuses).toEqual(['ok', 'ok', 'calendar', 'calendar']);
  });

  it('refuses days and months the calendar does not have', () => {
    const statuses = ['2024-02-30', '2024-04-31', '2024-13-01', '2024-00-10', '2024-01-00', '0000-01-01'].map((text) => read(readDate, text).status);

    expect(new Set(statuses)).toEqual(new Set(['calendar']));
  });

  it('refuses other date layouts', () => {
    const statuses = ['31/01/2024', '2024-1-31', '2024-01-31T00:00:00Z', '20240131'].map((text) => read(readDate, text).status);

    expect(new Set(statuses)).toEqual(new Set(['malformed']));
  });

  it('numbers days from 1970-01-01', () => {
    const { value } = read(readDate, '2024-01-31');

    expect(value.number).toBe(Date.UTC(2024, 0, 31) / 86_400_000);
  });
});

describe('timestamp values', () => {
  it('reads Z and offsets as the same instant', () => {
    const instants = ['2024-01-31T12:00:00Z', '2024-01-31T13:00:00+01:00', '2024-01-31T06:30:00-05:30'].map((text) => read(readTimestamp, text).value.seconds);

    expect(instants).toEqual([Date.UTC(2024, 0, 31, 12) / 1000, Date.UTC(2024, 0, 31, 12) / 1000, Date.UTC(2024, 0, 31, 12) / 1000]);
  });

  it('keeps fractional seconds to the nanosecond', () => {
    const { status, value } = read(readTimestamp, '2024-01-31T12:00:00.123456789Z');

    expect(status).toBe('ok');
    expect(value.nanos).toBe(123_456_789);
  });

  it('refuses hour 24, minute 60 and second 60', () => {
    const statuses = ['2024-01-31T24:00:00Z', '2024-01-31T12:60:00Z', '2024-01-31T12:00:60Z'].map((text) => read(readTimestamp, text).status);

    expect(statuses).toEqual(['calendar', 'calendar', 'calendar']);
  });

  it('refuses a calendar-invalid day even with a valid time', () => {
    const { status } = read(readTimestamp, '2023-02-29T12:00:00Z');

    expect(status).toBe('calendar');
  });

  it('says what is missing: the zone, the time, or the T', () => {
    const statuses = ['2024-01-31T12:00:00', '2024-01-31', '2024-01-31 12:00:00Z'].map((text) => read(readTimestamp, text).status);

    expect(statuses).toEqual(['no-zone', 'date-only', 'space-separator']);
  });

  it('refuses a timestamp without seconds or with more than nine fractional digits', () => {
    const statuses = ['2024-01-31T12:00Z', '2024-01-31T12:00:00.1234567891Z'].map((text) => read(readTimestamp, text).status);

    expect(statuses).toEqual(['malformed', 'too-precise']);
  });

  it('reads the common YYYY-MM-DDTHH:MM:SSZ shape exactly as the same moment written with +00:00', () => {
    let seed = 11;
    const random = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    const pad = (value: number, width: number): string => String(value).padStart(width, '0');
    const texts = Array.from({ length: 5000 }, () => {
      const text = `${pad(random(2) ? 2024 : random(10_000), 4)}-${pad(random(14), 2)}-${pad(random(33), 2)}T${pad(random(26), 2)}:${pad(random(62), 2)}:${pad(random(62), 2)}`;
      // Now and then a byte that is not a digit or not the separator.
      if (random(10) > 0) return text;
      const at = random(text.length);
      return `${text.slice(0, at)}${'x:-T/ '[random(6)]}${text.slice(at + 1)}`;
    });

    const mismatches = texts.filter((text) => {
      const utc = read(readTimestamp, `${text}Z`);
      const offset = read(readTimestamp, `${text}+00:00`);
      return utc.status !== offset.status || (utc.status === 'ok' && (utc.value.seconds !== offset.value.seconds || utc.value.nanos !== 0));
    });

    expect(texts.filter((text) => read(readTimestamp, `${text}Z`).status === 'ok').length).toBeGreaterThan(500);
    expect(mismatches).toEqual([]);
  });
});

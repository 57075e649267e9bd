import type { ColumnSpec } from '#config/schema';
import type { ValueStatus } from './values.ts';

/**
 * The sentences of the report. Each says what is wrong, where, and what to do, in the words of
 * the person who made the file (rows, columns, cells, a spreadsheet), not the validator's.
 */
export class Phrasing {
  constructor(
    readonly format: 'csv' | 'jsonl',
    /** The dataset's name, when the caller knows it. */
    readonly dataset?: string,
  ) {}

  /** "the dataset "readings"" or "this dataset". */
  get datasetName(): string {
    return this.dataset ? `the dataset "${this.dataset}"` : 'this dataset';
  }

  /** "Row 17, column "x": " — CSV rows carry their line when the two differ. */
  where(row: number, line: number | undefined, column?: string): string {
    let at: string;
    if (this.format === 'jsonl') at = `Line ${row}`;
    else if (row === 0) at = 'Header row';
    else at = line !== undefined && line !== row + 1 ? `Row ${row} (line ${line})` : `Row ${row}`;
    if (column === undefined) return `${at}: `;
    return `${at}, ${this.format === 'jsonl' ? 'field' : 'column'} "${column}": `;
  }

  /** What to write instead of an unknown value, when the column allows one. */
  emptyAdvice(column: ColumnSpec): string {
    if (!column.nullable) return '';
    return this.format === 'jsonl' ? ', or write null if the value is unknown' : ', or leave the cell empty if the value is unknown';
  }

  typeMessage(column: ColumnSpec, status: ValueStatus, value: string, jsonType?: string): string {
    const empty = this.emptyAdvice(column);
    const shown = `"${value}"`;
    if (jsonType !== undefined && jsonType !== 'string' && column.type !== 'integer' && column.type !== 'number' && column.type !== 'boolean') {
      return `${shown} is a JSON ${jsonType}, not text. Write the value as a JSON string in quotes${empty}.`;
    }
    if (jsonType === 'string' && (column.type === 'integer' || column.type === 'number' || column.type === 'boolean')) {
      return `${shown} is written as text in quotes. Write it as a JSON ${column.type === 'boolean' ? 'true or false' : 'number'} without quotes${empty}.`;
    }
    switch (column.type) {
      case 'integer':
        if (status === 'unsafe-integer') {
          return `${shown} is too large to be stored exactly (whole numbers must lie between -9007199254740991 and 9007199254740991). Check the value; if it is an identifier, the column should be declared as text.`;
        }
        return `${shown} is not a whole number. Write a whole number such as 42, without a decimal point or exponent${empty}.`;
      case 'number':
        if (status === 'not-finite') {
          return `${shown} is not a finite number. Write the measured value as a decimal number such as 21.5${empty}.`;
        }
        if (/^[+-]?\d+,\d+$/.test(value)) return `${shown} is not a number: use a dot as the decimal separator, as in ${value.replace(',', '.')}${empty}.`;
        return `${shown} is not a number. Write a decimal number such as 21.5${empty}.${spaceHint(value)}`;
      case 'boolean':
        if (/^(1|0|yes|no|y|n)$/i.test(value)) return `${shown} is not true or false. Write true or false (not 1/0 or yes/no)${empty}.`;
        return `${shown} is not true or false. Write true or false${empty}.`;
      case 'date':
        if (status === 'calendar') return `${shown} is not a day of the calendar${calendarReason(value)}. Correct the date${empty}.`;
        return `${shown} is not a date in the form YYYY-MM-DD. Write it like 2024-01-31${empty}.${spaceHint(value)}`;
      case 'timestamp':
        switch (status) {
          case 'calendar':
            return `${shown} is not a moment of the calendar${calendarReason(value)}. Correct the date and time${empty}.`;
          case 'date-only':
            return `${shown} has a date but no time of day. Write a full timestamp such as ${value}T00:00:00Z${empty}.`;
          case 'no-zone':
            return `${shown} has no time zone. Add Z for UTC (${value}Z) or the offset from UTC, such as +01:00${empty}.`;
          case 'space-separator':
            return `${shown} has a space between date and time. Write a T instead, as in ${value.replace(' ', 'T')}${empty}.`;
          case 'too-precise':
            return `${shown} has more than nine digits after the seconds. Round it to at most nanoseconds${empty}.`;
          default:
            return `${shown} is not an ISO 8601 timestamp. Write it like 2024-01-31T12:00:00Z (a T between date and time, and Z or an offset such as +01:00 at the end)${empty}.`;
        }
      default:
        return `${shown} is not text. Write the value as text${empty}.`;
    }
  }

  rangeMessage(column: ColumnSpec, side: 'min' | 'max', value: string): string {
    const bound = side === 'min' ? column.min : column.max;
    const words = side === 'min' ? 'below the smallest allowed value' : 'above the largest allowed value';
    return `${value} is ${words}, ${bound}. Check the value and its unit${this.emptyAdvice(column)}.`;
  }

  enumMessage(column: ColumnSpec, value: string): string {
    const allowed = column.enum ?? [];
    const caseMatch = allowed.find((a) => a.toLowerCase() === value.trim().toLowerCase());
    const hint = caseMatch !== undefined ? ` Did you mean "${caseMatch}"?` : '';
    return `"${value}" is not one of the allowed values (${allowed.join(', ')}). Use one of them exactly as written${this.emptyAdvice(column)}.${hint}`;
  }

  patternMessage(column: ColumnSpec, value: string): string {
    return `"${value}" does not have the form this column requires (the pattern ${column.pattern}). Correct the value so that it has that form${this.emptyAdvice(column)}.${spaceHint(value)}`;
  }

  maxLengthMessage(column: ColumnSpec, length: number): string {
    return `the text is ${length} characters long; at most ${column.maxLength} are allowed. Shorten it.`;
  }

  requiredMessage(column: ColumnSpec): string {
    return this.format === 'jsonl'
      ? `"${column.name}" is missing or null, but it must have a value. Fill it in.`
      : `the cell is empty, but "${column.name}" must have a value. Fill it in.`;
  }
}

/** A hint when surrounding spaces are what makes a value wrong. */
function spaceHint(value: string): string {
  return value !== value.trim() ? ' The value has spaces around it: remove them.' : '';
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** Why a well-formed date or time is not in the calendar, as a parenthesis. */
function calendarReason(value: string): string {
  const match = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?/.exec(value);
  if (!match) return '';
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (year === 0) return ' (there is no year 0000)';
  if (month < 1 || month > 12) return ` (there is no month ${match[2]})`;
  const days = month === 2 ? ((year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;
  if (day < 1 || day > days) return ` (${MONTHS[month - 1]} ${year} has ${days} days)`;
  if (match[4] !== undefined && Number(match[4]) > 23) return ' (hours run from 00 to 23; midnight at the end of a day is 00:00 of the next)';
  if (match[5] !== undefined && Number(match[5]) > 59) return ' (minutes run from 00 to 59)';
  if (match[6] !== undefined && Number(match[6]) > 59) return ' (seconds run from 00 to 59)';
  return ' (the offset from UTC is out of range)';
}

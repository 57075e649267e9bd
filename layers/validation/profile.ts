import { latin1 } from './values.ts';

/**
 * The per-column profile gathered in the same pass as validation: nulls, valid values, the
 * smallest and largest value, and an estimate of distinct values. Memory is fixed per column
 * (a 4 KiB sketch), whatever the file size.
 */

/** What the report says about one column. */
export interface ColumnProfile {
  /** Empty cells (CSV) or null/missing values (JSONL). */
  readonly nulls: number;
  /** Non-null values that passed the type check. */
  readonly values: number;
  /** Smallest valid value: a number for integer/number columns, the text for date and timestamp columns. */
  readonly min?: number | string;
  readonly max?: number | string;
  /** Distinct valid values, estimated (HyperLogLog, ~1.6 % standard error). */
  readonly distinctEstimate: number;
}

const PRECISION = 12;
const REGISTERS = 1 << PRECISION;

/** HyperLogLog with 2^12 one-byte registers over 32-bit hashes. */
export class DistinctSketch {
  private readonly registers = new Uint8Array(REGISTERS);

  add(hash: number): void {
    const index = hash >>> (32 - PRECISION);
    // Rank of the first set bit in the remaining bits; capped so an all-zero remainder counts too.
    const rest = (hash << PRECISION) | (1 << (PRECISION - 1));
    const rank = Math.clz32(rest) + 1;
    if (rank > this.registers[index]!) this.registers[index] = rank;
  }

  estimate(): number {
    let sum = 0;
    let zeros = 0;
    for (let i = 0; i < REGISTERS; i++) {
      const r = this.registers[i]!;
      sum += 2 ** -r;
      if (r === 0) zeros++;
    }
    const alpha = 0.7213 / (1 + 1.079 / REGISTERS);
    const raw = (alpha * REGISTERS * REGISTERS) / sum;
    // Linear counting is the better estimate while many registers are still empty.
    if (raw <= 2.5 * REGISTERS && zeros > 0) return Math.round(REGISTERS * Math.log(REGISTERS / zeros));
    return Math.round(raw);
  }
}

/** Collects the profile of one column; the validator feeds it each cell it has checked. */
export class ColumnProfiler {
  nulls = 0;
  values = 0;
  private minNumber = Infinity;
  private maxNumber = -Infinity;
  /** For date and timestamp columns: the ordering key and bytes of the extremes (text only at the end). */
  private minKey = Infinity;
  private maxKey = -Infinity;
  private minBytes = new Uint8Array(32);
  private minLength = -1;
  private maxBytes = new Uint8Array(32);
  private maxLength = -1;
  private readonly sketch = new DistinctSketch();

  addNull(): void {
    this.nulls++;
  }

  /** A valid value, by the hash of its canonical form. */
  addValue(hash: number): void {
    this.values++;
    this.sketch.add(hash);
  }

  /** A valid integer or number. */
  addNumber(value: number, hash: number): void {
    this.addValue(hash);
    if (value < this.minNumber) this.minNumber = value;
    if (value > this.maxNumber) this.maxNumber = value;
  }

  /**
   * A valid date or timestamp, ordered by `key` (days, or seconds with their fraction), written
   * as `buf[start, end)`. A new extreme copies its bytes (a sorted file has one on every row); the
   * text is made once, for the result.
   */
  addOrdered(key: number, hash: number, buf: Uint8Array, start: number, end: number): void {
    this.addValue(hash);
    if (key < this.minKey) {
      this.minKey = key;
      if (this.minBytes.length < end - start) this.minBytes = new Uint8Array(end - start);
      this.minLength = copyBytes(buf, start, end, this.minBytes);
    }
    if (key > this.maxKey) {
      this.maxKey = key;
      if (this.maxBytes.length < end - start) this.maxBytes = new Uint8Array(end - start);
      this.maxLength = copyBytes(buf, start, end, this.maxBytes);
    }
  }

  result(): ColumnProfile {
    const numeric = this.minNumber <= this.maxNumber;
    return {
      nulls: this.nulls,
      values: this.values,
      ...(numeric ? { min: this.minNumber, max: this.maxNumber } : {}),
      ...(this.minLength >= 0 ? { min: latin1(this.minBytes, 0, this.minLength), max: latin1(this.maxBytes, 0, this.maxLength) } : {}),
      distinctEstimate: this.values === 0 ? 0 : this.sketch.estimate(),
    };
  }
}

/** Copies `buf[start, end)` to the start of `to`; returns the length. */
function copyBytes(buf: Uint8Array, start: number, end: number, to: Uint8Array): number {
  for (let i = start; i < end; i++) to[i - start] = buf[i]!;
  return end - start;
}

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
  /** For date and timestamp columns: the ordering key and text of the extremes. */
  private minKey = Infinity;
  private maxKey = -Infinity;
  private minText: string | undefined;
  private maxText: string | undefined;
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
   * as `buf[start, end)`. The text is decoded only when the value is a new extreme, so the common
   * case allocates nothing.
   */
  addOrdered(key: number, hash: number, buf: Uint8Array, start: number, end: number): void {
    this.addValue(hash);
    if (key < this.minKey) {
      this.minKey = key;
      this.minText = latin1(buf, start, end);
    }
    if (key > this.maxKey) {
      this.maxKey = key;
      this.maxText = latin1(buf, start, end);
    }
  }

  result(): ColumnProfile {
    const numeric = this.minNumber <= this.maxNumber;
    return {
      nulls: this.nulls,
      values: this.values,
      ...(numeric ? { min: this.minNumber, max: this.maxNumber } : {}),
      ...(this.minText !== undefined ? { min: this.minText, max: this.maxText } : {}),
      distinctEstimate: this.values === 0 ? 0 : this.sketch.estimate(),
    };
  }
}

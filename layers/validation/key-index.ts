import { KeyIndexCapacityError } from './errors.ts';
import { murmur3 } from './hash.ts';

/** Key bytes live in segments of this size; an entry never spans two. */
const SEGMENT_BITS = 24;
const SEGMENT_SIZE = 1 << SEGMENT_BITS;
/** References are 32-bit offsets + 1 into the arena (0 marks an empty slot). */
const MAX_ARENA_BYTES = 2 ** 32 - 2;
const MAX_LOAD = 0.7;
/** {@link KeyIndex.reserve} never asks for more slots than this at once. */
const RESERVE_MAX_BITS = 24;

/**
 * Exact set of unique-key values, in compact memory: an open-addressing table of 32-bit hashes and
 * 32-bit references (8 bytes a slot) into an arena that holds each distinct key once, beside the
 * row that first had it. A hash match is confirmed by comparing the key bytes, so a collision is
 * never reported as a duplicate and a duplicate is never missed.
 *
 * Memory is about 12 bytes of table per key (at the load it runs at) plus the key bytes and 5–7
 * bytes of bookkeeping: ~35 bytes a key for the `readings` key. A JS `Set` of strings needs several
 * times that and stops at ~16.7 M entries; this index is bounded only by its 4 GiB arena.
 */
export class KeyIndex {
  /**
   * @param hashOverride Hash of a key's bytes, instead of MurmurHash3. Only tests pass one (a constant one forces every key to
   * collide, to show that collisions are confirmed by the bytes and never reported).
   */
  constructor(private readonly hashOverride?: (key: Uint8Array, length: number) => number) {}

  /** Slot i is `slots[2i]` (the key's hash) and `slots[2i + 1]` (its arena offset + 1, 0 when empty): one cache line per probe. */
  private slots = new Uint32Array(2 << 16);
  private bits = 16;
  private count = 0;
  private readonly segments: Uint8Array[] = [];
  /** Bytes used in each full segment (the last one's is `used`). */
  private readonly segmentUsed: number[] = [];
  /** Bytes used in the last segment. */
  private used = SEGMENT_SIZE;

  /** How many distinct keys the index holds. */
  get size(): number {
    return this.count;
  }

  /** Bytes the index has allocated (table and arena). */
  get allocatedBytes(): number {
    return this.slots.byteLength + this.segments.length * SEGMENT_SIZE;
  }

  /**
   * Makes room for about `keys` keys at once, so that a large file does not pay for the table
   * doubling again and again. Capped (2^24 slots, 128 MiB): past that the table grows as it fills.
   */
  reserve(keys: number): void {
    let bits = this.bits;
    while (bits < RESERVE_MAX_BITS && keys > MAX_LOAD * 2 ** bits) bits++;
    while (this.bits < bits) this.grow();
  }

  /**
   * Adds the key `key[0, length)` first seen in `row`. Returns 0 when the key is new, or the row
   * (≥ 1) where it was first seen.
   */
  add(key: Uint8Array, length: number, row: number): number {
    const hash = this.hashOverride ? this.hashOverride(key, length) >>> 0 : murmur3(key, 0, length, 0x5eed);
    const shift = 32 - this.bits;
    const mask = (1 << this.bits) - 1;
    const slots = this.slots;
    let slot = Math.imul(hash, 0x9e3779b1) >>> shift;
    for (;;) {
      const ref = slots[2 * slot + 1]!;
      if (ref === 0) break;
      if (slots[2 * slot] === hash) {
        const firstRow = this.rowIfEqual(ref - 1, key, length);
        if (firstRow >= 0) return firstRow;
      }
      slot = (slot + 1) & mask;
    }
    slots[2 * slot] = hash;
    slots[2 * slot + 1] = this.store(key, length, row) + 1;
    this.count++;
    if (this.count > MAX_LOAD * 2 ** this.bits) this.grow();
    return 0;
  }

  /**
   * Calls `fn` with each distinct key (`key[start, end)`) and the row that first had it, in the
   * order they were added, which is row order.
   */
  forEachEntry(fn: (key: Uint8Array, start: number, end: number, row: number) => void): void {
    this.segments.forEach((segment, s) => {
      const used = s < this.segmentUsed.length ? this.segmentUsed[s]! : this.used;
      let pos = 0;
      while (pos < used) {
        const row = segment[pos]! | (segment[pos + 1]! << 8) | (segment[pos + 2]! << 16) | (segment[pos + 3]! * 0x1000000);
        pos += 4;
        let length = 0;
        for (let scale = 1; ; scale *= 0x80) {
          const byte = segment[pos++]!;
          length += (byte & 0x7f) * scale;
          if (byte < 0x80) break;
        }
        fn(segment, pos, pos + length, row);
        pos += length;
      }
    });
  }

  /** The first row of the entry at `offset` when its key equals `key[0, length)`, else -1. */
  private rowIfEqual(offset: number, key: Uint8Array, length: number): number {
    const segment = this.segments[offset >>> SEGMENT_BITS]!;
    let pos = offset & (SEGMENT_SIZE - 1);
    const row = segment[pos]! | (segment[pos + 1]! << 8) | (segment[pos + 2]! << 16) | (segment[pos + 3]! * 0x1000000);
    pos += 4;
    let storedLength = 0;
    for (let scale = 1; ; scale *= 0x80) {
      const byte = segment[pos++]!;
      storedLength += (byte & 0x7f) * scale;
      if (byte < 0x80) break;
    }
    if (storedLength !== length) return -1;
    for (let i = 0; i < length; i++) if (segment[pos + i] !== key[i]) return -1;
    return row;
  }

  /** Appends an entry (row, varint length, bytes) to the arena; returns its offset. */
  private store(key: Uint8Array, length: number, row: number): number {
    const need = 4 + 5 + length;
    if (this.used + need > SEGMENT_SIZE) {
      if (need > SEGMENT_SIZE) throw new KeyIndexCapacityError(`a unique key of ${length} bytes is larger than the key index holds`);
      if ((this.segments.length + 1) * SEGMENT_SIZE > MAX_ARENA_BYTES + 1) {
        throw new KeyIndexCapacityError('the unique-key index is full (4 GiB of key bytes)');
      }
      if (this.segments.length > 0) this.segmentUsed.push(this.used);
      this.segments.push(new Uint8Array(SEGMENT_SIZE));
      this.used = 0;
    }
    const segment = this.segments[this.segments.length - 1]!;
    const offset = (this.segments.length - 1) * SEGMENT_SIZE + this.used;
    let pos = this.used;
    const storedRow = Math.min(row, 0xffffffff);
    segment[pos++] = storedRow & 0xff;
    segment[pos++] = (storedRow >>> 8) & 0xff;
    segment[pos++] = (storedRow >>> 16) & 0xff;
    segment[pos++] = (storedRow >>> 24) & 0xff;
    let rest = length;
    while (rest >= 0x80) {
      segment[pos++] = (rest & 0x7f) | 0x80;
      rest >>>= 7;
    }
    segment[pos++] = rest;
    for (let i = 0; i < length; i++) segment[pos + i] = key[i]!;
    this.used = pos + length;
    return offset;
  }

  /** Doubles the table; the hashes are kept, so no key is hashed again. */
  private grow(): void {
    const old = this.slots;
    this.bits++;
    const slots = new Uint32Array(2 << this.bits);
    const shift = 32 - this.bits;
    const mask = (1 << this.bits) - 1;
    for (let i = 0; i < old.length; i += 2) {
      const ref = old[i + 1]!;
      if (ref === 0) continue;
      const hash = old[i]!;
      let slot = Math.imul(hash, 0x9e3779b1) >>> shift;
      while (slots[2 * slot + 1] !== 0) slot = (slot + 1) & mask;
      slots[2 * slot] = hash;
      slots[2 * slot + 1] = ref;
    }
    this.slots = slots;
  }
}

const floatScratch = new Float64Array(1);
const floatBytes = new Uint8Array(floatScratch.buffer);

// Part tags: each says how the bytes after it are laid out, so every part is self-delimiting and a
// value has exactly one form.
const TAG_NULL = 0;
const TAG_BYTES = 1;
const TAG_INTEGER = 2;
const TAG_NEGATIVE_INTEGER = 3;
const TAG_FLOAT = 4;
const TAG_INSTANT = 5;
const TAG_NEGATIVE_INSTANT = 6;

/**
 * Builds the bytes of one key from its column parts. Each part is written with a type tag and is
 * self-delimiting (text carries its length), so ("a,b", "c") and ("a", "b,c") can never produce
 * the same bytes, and equal values always do.
 */
export class KeyBuilder {
  bytes = new Uint8Array(256);
  length = 0;

  reset(): void {
    this.length = 0;
  }

  /** A null part (an empty cell or missing value of a nullable key column). */
  addNull(): void {
    this.ensure(1);
    this.bytes[this.length++] = TAG_NULL;
  }

  /** Raw bytes (strings, dates, booleans written canonically by the caller). */
  addBytes(buf: Uint8Array, start: number, end: number): void {
    const length = end - start;
    this.ensure(length + 9);
    this.bytes[this.length++] = TAG_BYTES;
    this.addVarint(length);
    const bytes = this.bytes;
    const at = this.length;
    for (let i = 0; i < length; i++) bytes[at + i] = buf[start + i]!;
    this.length += length;
  }

  /**
   * A number by value, so 7, 07 and 7.0 are one key. A safe integer is written as sign and
   * varint (short, and the form every integer value takes), anything else by its double bits.
   */
  addNumber(value: number): void {
    this.ensure(10);
    if (Number.isSafeInteger(value)) {
      this.bytes[this.length++] = value < 0 ? TAG_NEGATIVE_INTEGER : TAG_INTEGER;
      this.addVarint(Math.abs(value));
      return;
    }
    this.bytes[this.length++] = TAG_FLOAT;
    floatScratch[0] = value;
    const bytes = this.bytes;
    for (let i = 0; i < 8; i++) bytes[this.length++] = floatBytes[i]!;
  }

  /** An instant, so 12:00:00Z and 13:00:00+01:00 are one key: sign, varint seconds, varint nanoseconds. */
  addInstant(seconds: number, nanos: number): void {
    this.ensure(20);
    this.bytes[this.length++] = seconds < 0 ? TAG_NEGATIVE_INSTANT : TAG_INSTANT;
    this.addVarint(Math.abs(seconds));
    this.addVarint(nanos);
  }

  /** A non-negative safe integer, 7 bits a byte (exact up to 2^53: division above 2^31, bit operations below). */
  private addVarint(value: number): void {
    const bytes = this.bytes;
    let length = this.length;
    let rest = value;
    while (rest > 0x7fffffff) {
      bytes[length++] = (rest % 0x80) | 0x80;
      rest = Math.floor(rest / 0x80);
    }
    while (rest >= 0x80) {
      bytes[length++] = (rest & 0x7f) | 0x80;
      rest >>>= 7;
    }
    bytes[length++] = rest;
    this.length = length;
  }

  private ensure(extra: number): void {
    if (this.length + extra <= this.bytes.length) return;
    const next = new Uint8Array(Math.max(this.bytes.length * 2, this.length + extra));
    next.set(this.bytes.subarray(0, this.length));
    this.bytes = next;
  }
}

/** One part of a key read back from its bytes: what {@link KeyBuilder} wrote, by value. */
export type KeyPart =
  | { readonly kind: 'null' }
  | { readonly kind: 'bytes'; readonly bytes: Uint8Array }
  | { readonly kind: 'number'; readonly value: number }
  | { readonly kind: 'instant'; readonly seconds: number; readonly nanos: number };

/**
 * Reads the parts of a key written by {@link KeyBuilder}, to show a key found repeated after its
 * rows were read (the file's own spelling of it is gone by then; its value is not).
 */
export function readKeyParts(key: Uint8Array): KeyPart[] {
  const parts: KeyPart[] = [];
  let pos = 0;
  const varint = (): number => {
    let value = 0;
    for (let scale = 1; ; scale *= 0x80) {
      const byte = key[pos++]!;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
    }
  };
  while (pos < key.length) {
    const tag = key[pos++];
    switch (tag) {
      case TAG_NULL:
        parts.push({ kind: 'null' });
        break;
      case TAG_BYTES: {
        const length = varint();
        parts.push({ kind: 'bytes', bytes: key.subarray(pos, pos + length) });
        pos += length;
        break;
      }
      case TAG_INTEGER:
      case TAG_NEGATIVE_INTEGER: {
        const value = varint();
        parts.push({ kind: 'number', value: tag === TAG_NEGATIVE_INTEGER ? -value : value });
        break;
      }
      case TAG_FLOAT:
        for (let i = 0; i < 8; i++) floatBytes[i] = key[pos++]!;
        parts.push({ kind: 'number', value: floatScratch[0]! });
        break;
      default: {
        const seconds = varint();
        parts.push({ kind: 'instant', seconds: tag === TAG_NEGATIVE_INSTANT ? -seconds : seconds, nanos: varint() });
      }
    }
  }
  return parts;
}

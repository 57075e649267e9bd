import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeyIndexCapacityError } from './errors.ts';
import { murmur3 } from './hash.ts';
import { KeyIndex } from './key-index.ts';

/** A repeated key found once the whole file was read. */
export interface Duplicate {
  /** The row that repeats the key. */
  readonly row: number;
  /** The physical line where that row starts. */
  readonly line: number;
  /** The first row that had the key. */
  readonly firstRow: number;
  /** The key's canonical bytes ({@link KeyBuilder}), to show it. */
  readonly key: Uint8Array;
}

/** What the check at the end found: every duplicate counted, the first ones (by row) in full. */
export interface DeferredDuplicates {
  readonly count: number;
  /** At most `keepFirst` duplicates, by increasing row. */
  readonly first: readonly Duplicate[];
}

export interface UniqueKeysOptions {
  /**
   * Distinct keys held in memory (exact index, each duplicate reported at once); past this many,
   * keys go to partition files on disk and are checked at the end. @default 500,000 (~20 MB)
   */
  readonly memoryKeys?: number;
  /** Where the partition files go (a fresh folder inside it, removed by {@link UniqueKeys.close}). @default os.tmpdir() */
  readonly spillDirectory?: string;
  /** How many deferred duplicates are kept in full. @default 100 */
  readonly keepFirst?: number;
  /** Partition files of more entries than this are split again before they are checked. @default 2^20 */
  readonly partitionEntries?: number;
  /** Replaces the key hash: tests force collisions with it. */
  readonly hashOverride?: (key: Uint8Array, start: number, end: number) => number;
}

const SEED = 0x5eed;
/** Files the keys are first spread over; each level of splitting spreads a partition over as many again. */
const FAN_OUT_BITS = 6;
const FAN_OUT = 1 << FAN_OUT_BITS;
/** Each level uses other bits of the hash, so a split never puts every key back in one file. */
const MAX_LEVEL = Math.floor(32 / FAN_OUT_BITS) - 1;
/** Bytes a partition buffers before one write. */
const BUFFER_BYTES = 32 * 1024;
/** A partition file also splits past this size, whatever its count of entries. */
const PARTITION_MAX_BYTES = 48 << 20;
/** Room for the fixed part of an entry: hash (4), row (4), line delta (varint ≤ 5), key length (varint ≤ 5). */
const ENTRY_OVERHEAD = 18;
const MAX_LOAD = 0.7;
/** Entries a bucket of the partition check holds about at most: its table (~64 KB) stays in the CPU cache. */
const BUCKET_ENTRIES = 4096;

/**
 * The unique-key check in bounded memory. Up to `memoryKeys` distinct keys it is the exact in-memory
 * {@link KeyIndex}, and a duplicate is known as soon as its row is read. Past that, every key (those
 * already held first, in row order) is appended with its row to one of 64 partition files chosen by
 * its hash, and the check runs at the end, one partition at a time: equal keys always land in the
 * same partition, in row order, so each partition alone says which rows repeat a key and where it
 * first appeared. A partition is checked with a table of 32-bit hashes pointing at the entries
 * themselves, and every hash match is confirmed by comparing the key bytes, so the check is exact.
 * Memory is the in-memory index, 64 write buffers (2 MB) and one partition at a time; a partition
 * too large (a skewed or a very large file) is split again with other bits of the hash.
 */
export class UniqueKeys {
  private index: KeyIndex | undefined;
  private spill: KeySpill | undefined;
  private readonly memoryKeys: number;

  constructor(private readonly options: UniqueKeysOptions = {}) {
    this.memoryKeys = options.memoryKeys ?? 500_000;
    const hash = options.hashOverride;
    this.index = new KeyIndex(hash ? (key, length) => hash(key, 0, length) : undefined);
  }

  /** Whether keys went to disk (their duplicates are reported by {@link finish}). */
  get spilled(): boolean {
    return this.spill !== undefined;
  }

  /** Sizes the in-memory index for about `keys` keys, within its limit; more go to disk from the start. */
  expect(keys: number): void {
    if (this.index === undefined) return;
    if (keys > this.memoryKeys) this.startSpill();
    else this.index.reserve(keys);
  }

  /**
   * Adds the key `key[0, length)` of `row` (starting at physical `line`). Returns the first row
   * that had the key when that is known now, else 0 (a new key, or one checked at the end).
   */
  add(key: Uint8Array, length: number, row: number, line: number): number {
    const index = this.index;
    if (index !== undefined) {
      const first = index.add(key, length, row);
      if (first !== 0 || index.size <= this.memoryKeys) return first;
      // The key just added is in the index, so it goes to disk with the others.
      this.startSpill();
      return 0;
    }
    this.spill!.add(key, 0, length, row, line);
    return 0;
  }

  /** Checks the keys that went to disk; empty when none did. Call once, after the last row. */
  finish(): DeferredDuplicates {
    if (this.spill === undefined) return { count: 0, first: [] };
    return this.spill.check();
  }

  /** Removes the partition files. Safe to call more than once, and after a failure. */
  close(): void {
    this.spill?.close();
    this.index = undefined;
  }

  private startSpill(): void {
    const spill = new KeySpill(this.options);
    this.spill = spill;
    // Lines of first occurrences are never shown: the row stands in for them.
    this.index?.forEachEntry((key, start, end, row) => spill.add(key, start, end, row, row));
    this.index = undefined;
  }
}

/** The partition files of one level, written through one buffer cut in equal parts. */
class PartitionWriter {
  readonly paths: string[] = [];
  readonly entries = new Float64Array(FAN_OUT);
  readonly bytes = new Float64Array(FAN_OUT);
  private readonly fds: number[] = [];
  private buffer = new Uint8Array(FAN_OUT * BUFFER_BYTES);
  /** Where partition p writes next in `buffer`; its part starts at p × BUFFER_BYTES. */
  private readonly positions = new Int32Array(FAN_OUT);

  constructor(dir: string, name: string) {
    for (let p = 0; p < FAN_OUT; p++) {
      const path = join(dir, `${name}-${p}`);
      this.paths.push(path);
      this.fds.push(openSync(path, 'w'));
      this.positions[p] = p * BUFFER_BYTES;
    }
  }

  /** Appends an entry (hash, row, line − row, key length, key bytes) to partition `p`. */
  write(p: number, hash: number, key: Uint8Array, start: number, end: number, row: number, lineDelta: number): void {
    const length = end - start;
    if (ENTRY_OVERHEAD + length > BUFFER_BYTES) {
      this.writeLarge(p, hash, key, start, end, row, lineDelta);
      return;
    }
    let pos = this.positions[p]!;
    if (pos + ENTRY_OVERHEAD + length > (p + 1) * BUFFER_BYTES) {
      this.flush(p);
      pos = p * BUFFER_BYTES;
    }
    const buffer = this.buffer;
    writeU32(buffer, pos, hash);
    writeU32(buffer, pos + 4, row);
    pos += 8;
    if (lineDelta < 0x80) buffer[pos++] = lineDelta;
    else pos = writeVarint(buffer, pos, lineDelta);
    if (length < 0x80) buffer[pos++] = length;
    else pos = writeVarint(buffer, pos, length);
    for (let i = 0; i < length; i++) buffer[pos + i] = key[start + i]!;
    this.positions[p] = pos + length;
    this.entries[p]!++;
  }

  /** Writes what is buffered and closes the files. */
  end(): void {
    for (let p = 0; p < FAN_OUT; p++) {
      this.flush(p);
      closeSync(this.fds[p]!);
    }
    this.fds.length = 0;
    this.buffer = new Uint8Array(0);
  }

  /** Closes the files without writing (after a failure). */
  abandon(): void {
    for (const fd of this.fds) closeSync(fd);
    this.fds.length = 0;
  }

  /** A key longer than a buffer part goes straight to its file, after what is buffered. */
  private writeLarge(p: number, hash: number, key: Uint8Array, start: number, end: number, row: number, lineDelta: number): void {
    this.flush(p);
    const entry = new Uint8Array(ENTRY_OVERHEAD + end - start);
    writeU32(entry, 0, hash);
    writeU32(entry, 4, row);
    let pos = writeVarint(entry, writeVarint(entry, 8, lineDelta), end - start);
    entry.set(key.subarray(start, end), pos);
    pos += end - start;
    writeAll(this.fds[p]!, entry, 0, pos);
    this.bytes[p]! += pos;
    this.entries[p]!++;
  }

  private flush(p: number): void {
    const from = p * BUFFER_BYTES;
    const length = this.positions[p]! - from;
    if (length === 0) return;
    writeAll(this.fds[p]!, this.buffer, from, length);
    this.bytes[p]! += length;
    this.positions[p] = from;
  }
}

function writeAll(fd: number, buf: Uint8Array, from: number, length: number): void {
  let written = 0;
  while (written < length) written += writeSync(fd, buf, from + written, length - written);
}

class KeySpill {
  private readonly dir: string;
  private readonly writer: PartitionWriter;
  private readonly hashOverride: ((key: Uint8Array, start: number, end: number) => number) | undefined;
  private readonly keepFirst: number;
  private readonly partitionEntries: number;
  private count = 0;
  private first: Duplicate[] = [];
  private open: PartitionWriter[] = [];
  // Scratch of the partition check, reused from one partition to the next.
  private readBuffer = new Uint8Array(0);
  private offsets = new Int32Array(0);
  private hashes = new Uint32Array(0);
  private slots = new Uint32Array(0);

  constructor(options: UniqueKeysOptions) {
    this.dir = mkdtempSync(join(options.spillDirectory ?? tmpdir(), 'symbiont-keys-'));
    this.hashOverride = options.hashOverride;
    this.keepFirst = options.keepFirst ?? 100;
    this.partitionEntries = options.partitionEntries ?? 1 << 20;
    this.writer = this.partitions('p');
  }

  add(key: Uint8Array, start: number, end: number, row: number, line: number): void {
    if (row > 0xffffffff) throw new KeyIndexCapacityError('the unique-key check counts rows up to 2^32');
    // The one hash of the key: its bits choose the partition at every level, and the table slot.
    const hash = this.hashOverride === undefined ? murmur3(key, start, end, SEED) : this.hashOverride(key, start, end) >>> 0;
    this.writer.write(hash >>> (32 - FAN_OUT_BITS), hash, key, start, end, row, line - row);
  }

  check(): DeferredDuplicates {
    this.writer.end();
    this.checkLevel(this.writer, 0);
    return { count: this.count, first: this.first };
  }

  close(): void {
    for (const writer of this.open) writer.abandon();
    this.open = [];
    rmSync(this.dir, { recursive: true, force: true });
  }

  private partitions(name: string): PartitionWriter {
    const writer = new PartitionWriter(this.dir, name);
    this.open.push(writer);
    return writer;
  }

  private checkLevel(writer: PartitionWriter, level: number): void {
    for (let p = 0; p < FAN_OUT; p++) {
      const path = writer.paths[p]!;
      const entries = writer.entries[p]!;
      const bytes = writer.bytes[p]!;
      if (entries > 1 && (entries > this.partitionEntries || bytes > PARTITION_MAX_BYTES) && level < MAX_LEVEL) {
        const split = this.partitions(`${path.slice(this.dir.length + 1)}.`);
        this.split(path, bytes, split, level + 1);
        split.end();
        rmSync(path);
        this.checkLevel(split, level + 1);
      } else if (entries > 1) {
        this.checkPartition(this.readWhole(path, bytes), bytes, entries);
      }
      rmSync(path, { force: true });
    }
  }

  /** Spreads the entries of one file over the next level's files, by the next bits of their hash. */
  private split(path: string, bytes: number, into: PartitionWriter, level: number): void {
    const fd = openSync(path, 'r');
    try {
      let buf = new Uint8Array(1 << 20);
      let have = 0;
      let read = 0;
      for (;;) {
        if (read < bytes) {
          const n = readSync(fd, buf, have, Math.min(buf.length - have, bytes - read), null);
          if (n === 0) break;
          read += n;
          have += n;
        }
        let pos = 0;
        for (let entry = decodeEntry(buf, pos, have); entry !== undefined; entry = decodeEntry(buf, pos, have)) {
          const p = (entry.hash >>> (32 - FAN_OUT_BITS * (level + 1))) & (FAN_OUT - 1);
          into.write(p, entry.hash, buf, entry.keyStart, entry.keyEnd, entry.row, entry.lineDelta);
          pos = entry.keyEnd;
        }
        buf.copyWithin(0, pos, have);
        have -= pos;
        if (read >= bytes) break;
        if (have === buf.length) {
          // One entry larger than the buffer (a very long key): make room for all of it.
          const bigger = new Uint8Array(buf.length * 2);
          bigger.set(buf);
          buf = bigger;
        }
      }
    } finally {
      closeSync(fd);
    }
  }

  /**
   * Finds the rows of one partition that repeat a key of an earlier row. The partition's entries
   * are first spread, in order, over buckets by the low bits of their hash (two sequential passes),
   * then each bucket is checked with a table small enough to stay in the CPU cache: one table for
   * the whole partition would cost a cache miss per key.
   */
  private checkPartition(buf: Uint8Array, end: number, entries: number): void {
    let bucketBits = 0;
    while (entries > BUCKET_ENTRIES << bucketBits) bucketBits++;
    const buckets = 1 << bucketBits;
    const starts = new Int32Array(buckets + 1);
    for (let pos = 0; pos < end; pos = entryEnd(buf, pos)) starts[(readU32(buf, pos) & (buckets - 1)) + 1]!++;
    for (let b = 0; b < buckets; b++) starts[b + 1]! += starts[b]!;
    if (this.offsets.length < entries) {
      this.offsets = new Int32Array(entries);
      this.hashes = new Uint32Array(entries);
    }
    const { offsets, hashes } = this;
    const fill = starts.slice(0, buckets);
    for (let pos = 0; pos < end; pos = entryEnd(buf, pos)) {
      const hash = readU32(buf, pos);
      const at = fill[hash & (buckets - 1)]!++;
      offsets[at] = pos;
      hashes[at] = hash;
    }
    let largest = 0;
    for (let b = 0; b < buckets; b++) largest = Math.max(largest, starts[b + 1]! - starts[b]!);
    let bits = 4;
    while (largest > MAX_LOAD * 2 ** bits) bits++;
    if (this.slots.length < 2 << bits) this.slots = new Uint32Array(2 << bits);
    const slots = this.slots;
    const mask = (1 << bits) - 1;
    const shift = 32 - bits;
    for (let b = 0; b < buckets; b++) {
      slots.fill(0, 0, 2 << bits);
      for (let i = starts[b]!; i < starts[b + 1]!; i++) {
        const hash = hashes[i]!;
        // The bucket fixed the low bits of the hash and the partition the high ones; multiplying spreads the rest.
        let slot = Math.imul(hash, 0x9e3779b1) >>> shift;
        let first = -1;
        for (;;) {
          const ref = slots[2 * slot + 1]!;
          if (ref === 0) break;
          if (slots[2 * slot] === hash && sameKey(buf, ref - 1, offsets[i]!)) {
            first = ref - 1;
            break;
          }
          slot = (slot + 1) & mask;
        }
        if (first < 0) {
          slots[2 * slot] = hash;
          slots[2 * slot + 1] = offsets[i]! + 1;
        } else {
          const entry = decodeEntry(buf, offsets[i]!, end)!;
          this.duplicate(entry.row, entry.row + entry.lineDelta, readU32(buf, first + 4), buf, entry.keyStart, entry.keyEnd);
        }
      }
    }
  }

  /** Reads a partition file into a buffer reused from one partition to the next (no fresh memory to fault in each time). */
  private readWhole(path: string, bytes: number): Uint8Array {
    if (this.readBuffer.length < bytes) this.readBuffer = new Uint8Array(Math.max(bytes, this.readBuffer.length * 1.5));
    const buf = this.readBuffer;
    const fd = openSync(path, 'r');
    try {
      let read = 0;
      while (read < bytes) {
        const n = readSync(fd, buf, read, bytes - read, null);
        if (n === 0) break;
        read += n;
      }
    } finally {
      closeSync(fd);
    }
    return buf;
  }

  private duplicate(row: number, line: number, firstRow: number, buf: Uint8Array, start: number, end: number): void {
    this.count++;
    const first = this.first;
    if (first.length >= this.keepFirst && row > first[first.length - 1]!.row) return;
    let at = first.length;
    while (at > 0 && first[at - 1]!.row > row) at--;
    first.splice(at, 0, { row, line, firstRow, key: buf.slice(start, end) });
    if (first.length > this.keepFirst) first.pop();
  }
}

interface Entry {
  hash: number;
  row: number;
  lineDelta: number;
  keyStart: number;
  keyEnd: number;
}

const scratchEntry: Entry = { hash: 0, row: 0, lineDelta: 0, keyStart: 0, keyEnd: 0 };

/** The entry at `pos`, or undefined when `buf[pos, end)` does not hold all of it. Reuses one object. */
function decodeEntry(buf: Uint8Array, pos: number, end: number): Entry | undefined {
  if (pos + 10 > end) return undefined;
  let at = pos + 8;
  let lineDelta = 0;
  for (let scale = 1; ; scale *= 0x80) {
    if (at >= end) return undefined;
    const byte = buf[at++]!;
    lineDelta += (byte & 0x7f) * scale;
    if (byte < 0x80) break;
  }
  let length = 0;
  for (let scale = 1; ; scale *= 0x80) {
    if (at >= end) return undefined;
    const byte = buf[at++]!;
    length += (byte & 0x7f) * scale;
    if (byte < 0x80) break;
  }
  if (at + length > end) return undefined;
  scratchEntry.hash = readU32(buf, pos);
  scratchEntry.row = readU32(buf, pos + 4);
  scratchEntry.lineDelta = lineDelta;
  scratchEntry.keyStart = at;
  scratchEntry.keyEnd = at + length;
  return scratchEntry;
}

function readU32(buf: Uint8Array, pos: number): number {
  return (buf[pos]! | (buf[pos + 1]! << 8) | (buf[pos + 2]! << 16)) + buf[pos + 3]! * 0x1000000;
}

function writeU32(buf: Uint8Array, pos: number, value: number): void {
  buf[pos] = value & 0xff;
  buf[pos + 1] = (value >>> 8) & 0xff;
  buf[pos + 2] = (value >>> 16) & 0xff;
  buf[pos + 3] = (value >>> 24) & 0xff;
}

/** The offset just past the entry at `pos`. */
function entryEnd(buf: Uint8Array, pos: number): number {
  let at = pos + 8;
  while (buf[at++]! >= 0x80);
  let length = 0;
  for (let scale = 1; ; scale *= 0x80) {
    const byte = buf[at++]!;
    length += (byte & 0x7f) * scale;
    if (byte < 0x80) break;
  }
  return at + length;
}

/** Whether the entries at `a` and `b` hold the same key. */
function sameKey(buf: Uint8Array, a: number, b: number): boolean {
  const endA = entryEnd(buf, a);
  const endB = entryEnd(buf, b);
  const length = endA - keyStart(buf, a);
  if (length !== endB - keyStart(buf, b)) return false;
  for (let i = 1; i <= length; i++) if (buf[endA - i] !== buf[endB - i]) return false;
  return true;
}

/** The offset of the key bytes of the entry at `pos`. */
function keyStart(buf: Uint8Array, pos: number): number {
  let at = pos + 8;
  while (buf[at++]! >= 0x80);
  while (buf[at++]! >= 0x80);
  return at;
}

function writeVarint(buf: Uint8Array, at: number, value: number): number {
  let pos = at;
  let rest = value;
  while (rest > 0x7fffffff) {
    buf[pos++] = (rest % 0x80) | 0x80;
    rest = Math.floor(rest / 0x80);
  }
  while (rest >= 0x80) {
    buf[pos++] = (rest & 0x7f) | 0x80;
    rest >>>= 7;
  }
  buf[pos++] = rest;
  return pos;
}

/**
 * Small non-cryptographic hashes over byte ranges, for the unique-key index and the distinct-count
 * sketch. Neither relies on them for correctness: the key index confirms every match by comparing
 * bytes, and the sketch is an estimate by design.
 */

/** MurmurHash3 (x86, 32-bit) of `buf[start, end)`. */
export function murmur3(buf: Uint8Array, start: number, end: number, seed = 0): number {
  let h = seed | 0;
  let pos = start;
  const blocksEnd = start + ((end - start) & ~3);
  for (; pos < blocksEnd; pos += 4) {
    let k = buf[pos]! | (buf[pos + 1]! << 8) | (buf[pos + 2]! << 16) | (buf[pos + 3]! << 24);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const rest = end - pos;
  if (rest > 0) {
    let k = 0;
    if (rest === 3) k ^= buf[pos + 2]! << 16;
    if (rest >= 2) k ^= buf[pos + 1]! << 8;
    k ^= buf[pos]!;
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
  }
  h ^= end - start;
  return fmix32(h);
}

/** The MurmurHash3 finaliser: spreads every input bit over the whole word. */
export function fmix32(value: number): number {
  let h = value;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const scratch = new Float64Array(1);
const scratchWords = new Uint32Array(scratch.buffer);

/** Hash of a double by its bits, so that `1`, `1.0` and `1e0` count as one value. */
export function hashNumber(value: number): number {
  scratch[0] = value;
  return fmix32(scratchWords[0]! ^ fmix32(scratchWords[1]! ^ 0x9e3779b9));
}

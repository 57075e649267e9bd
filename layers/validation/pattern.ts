import { latin1, utf8 } from './values.ts';

/** Tests a cell's bytes against a column's pattern. */
export type PatternTest = (buf: Uint8Array, start: number, end: number, nonAscii: boolean) => boolean;

/** One step of a simple pattern: a set of ASCII bytes repeated between `min` and `max` times. */
interface Atom {
  readonly set: Uint8Array;
  readonly min: number;
  readonly max: number;
}

/**
 * Compiles a column pattern. Patterns of the common shape — anchored at both ends, a sequence of
 * ASCII literals, classes and `\d`/`\w` with counts, such as `^S[0-9]{4}$` — are matched on the
 * bytes directly, without decoding the cell to a string (most cells of an identifier column repeat
 * that test). Every other pattern runs as the JavaScript RegExp (`u` flag) on the decoded text;
 * both give the same answer, which the tests check on many inputs.
 */
export function compilePattern(source: string): PatternTest {
  const regexp = new RegExp(source, 'u');
  const atoms = parseSimple(source);
  if (atoms === undefined || !greedyIsExact(atoms)) {
    return (buf, start, end, nonAscii) => regexp.test(nonAscii ? utf8(buf, start, end) : latin1(buf, start, end));
  }
  return compileAtoms(atoms);
}

/**
 * The atoms as flat typed arrays (set a is `sets[256a, 256a + 256)`), walked by index: the test
 * runs on most cells of an identifier column, so it allocates nothing and follows no object.
 */
function compileAtoms(atoms: readonly Atom[]): PatternTest {
  const count = atoms.length;
  const sets = new Uint8Array(256 * count);
  const mins = new Int32Array(count);
  const maxs = new Float64Array(count);
  atoms.forEach((atom, a) => {
    sets.set(atom.set, 256 * a);
    mins[a] = atom.min;
    maxs[a] = atom.max;
  });
  const shortest = atoms.reduce((sum, atom) => sum + atom.min, 0);
  const longest = atoms.reduce((sum, atom) => sum + atom.max, 0);
  return (buf, start, end, nonAscii) => {
    if (nonAscii || end - start < shortest || end - start > longest) return false;
    let pos = start;
    for (let a = 0; a < count; a++) {
      const base = a << 8;
      const limit = Math.min(end, pos + maxs[a]!);
      const from = pos;
      while (pos < limit && sets[base + buf[pos]!] === 1) pos++;
      if (pos - from < mins[a]!) return false;
    }
    return pos === end;
  };
}

/**
 * Greedy matching gives the RegExp's answer when no variable-length atom can take a byte the atoms
 * after it would need: its set is disjoint from every set up to the next atom that must match.
 */
function greedyIsExact(atoms: readonly Atom[]): boolean {
  for (let i = 0; i < atoms.length; i++) {
    const atom = atoms[i]!;
    if (atom.min === atom.max) continue;
    for (let j = i + 1; j < atoms.length; j++) {
      const next = atoms[j]!;
      for (let c = 0; c < 128; c++) if (atom.set[c] === 1 && next.set[c] === 1) return false;
      if (next.min > 0) break;
    }
  }
  return true;
}

/** Parses `^…$` made of simple atoms; undefined for anything else. */
function parseSimple(source: string): Atom[] | undefined {
  if (!source.startsWith('^') || !source.endsWith('$') || source.endsWith('\\$')) return undefined;
  const body = source.slice(1, -1);
  const atoms: Atom[] = [];
  let i = 0;
  while (i < body.length) {
    const parsed = parseAtom(body, i);
    if (parsed === undefined) return undefined;
    i = parsed.next;
    const quantified = parseQuantifier(body, i);
    if (quantified === undefined) return undefined;
    i = quantified.next;
    atoms.push({ set: parsed.set, min: quantified.min, max: quantified.max });
  }
  return atoms;
}

const SPECIAL = new Set([...'^$.|?*+()[]{}\\/']);

function setOf(...ranges: [number, number][]): Uint8Array {
  const set = new Uint8Array(256);
  for (const [from, to] of ranges) for (let c = from; c <= to; c++) set[c] = 1;
  return set;
}

const DIGITS: [number, number] = [0x30, 0x39];
const WORD: [number, number][] = [DIGITS, [0x41, 0x5a], [0x61, 0x7a], [0x5f, 0x5f]];

/** Escapes that stand for one printable ASCII character. */
function escapedLiteral(char: string | undefined): number | undefined {
  if (char === undefined) return undefined;
  const code = char.charCodeAt(0);
  return SPECIAL.has(char) || char === '-' ? code : undefined;
}

function parseAtom(body: string, at: number): { set: Uint8Array; next: number } | undefined {
  const char = body[at]!;
  if (char === '\\') {
    const escaped = body[at + 1];
    if (escaped === 'd') return { set: setOf(DIGITS), next: at + 2 };
    if (escaped === 'w') return { set: setOf(...WORD), next: at + 2 };
    const literal = escapedLiteral(escaped);
    return literal === undefined ? undefined : { set: setOf([literal, literal]), next: at + 2 };
  }
  if (char === '[') return parseClass(body, at + 1);
  if (SPECIAL.has(char)) return undefined;
  const code = char.charCodeAt(0);
  if (code < 0x20 || code > 0x7e) return undefined;
  return { set: setOf([code, code]), next: at + 1 };
}

function parseClass(body: string, at: number): { set: Uint8Array; next: number } | undefined {
  if (body[at] === '^' || body[at] === ']') return undefined;
  const ranges: [number, number][] = [];
  let i = at;
  while (i < body.length && body[i] !== ']') {
    let from: number | undefined;
    if (body[i] === '\\') {
      if (body[i + 1] === 'd') {
        ranges.push(DIGITS);
        i += 2;
        continue;
      }
      if (body[i + 1] === 'w') {
        ranges.push(...WORD);
        i += 2;
        continue;
      }
      from = escapedLiteral(body[i + 1]);
      i += 2;
    } else if (body[i] === '[') {
      return undefined;
    } else {
      from = body.charCodeAt(i);
      i++;
    }
    if (from === undefined || from < 0x20 || from > 0x7e) return undefined;
    if (body[i] === '-' && body[i + 1] !== ']' && i + 1 < body.length) {
      const to = body[i + 1] === '\\' ? escapedLiteral(body[i + 2]) : body.charCodeAt(i + 1);
      if (to === undefined || to < from || to > 0x7e) return undefined;
      i += body[i + 1] === '\\' ? 3 : 2;
      ranges.push([from, to]);
    } else {
      ranges.push([from, from]);
    }
  }
  if (body[i] !== ']') return undefined;
  return { set: setOf(...ranges), next: i + 1 };
}

function parseQuantifier(body: string, at: number): { min: number; max: number; next: number } | undefined {
  const char = body[at];
  if (char === '?') return lazyGuard(body, at + 1, { min: 0, max: 1 });
  if (char === '*') return lazyGuard(body, at + 1, { min: 0, max: Infinity });
  if (char === '+') return lazyGuard(body, at + 1, { min: 1, max: Infinity });
  if (char !== '{') return { min: 1, max: 1, next: at };
  const match = /^\{(\d+)(,(\d*))?\}/.exec(body.slice(at));
  if (!match) return undefined;
  const min = Number(match[1]);
  const max = match[2] === undefined ? min : match[3] === '' ? Infinity : Number(match[3]);
  if (max < min) return undefined;
  return lazyGuard(body, at + match[0].length, { min, max });
}

/** A lazy (`*?`) or possessive-looking suffix is left to the RegExp. */
function lazyGuard(body: string, next: number, counts: { min: number; max: number }): { min: number; max: number; next: number } | undefined {
  const after = body[next];
  if (after === '?' || after === '+' || after === '*' || after === '{') return undefined;
  return { ...counts, next };
}

import { isUtf8Range } from './content.ts';
import { FIELD_ESCAPED, FIELD_NON_ASCII, FIELD_NUL, FIELD_STRAY_QUOTE, FIELD_TOO_LARGE } from './csv-tokenizer.ts';
import { hashNumber, murmur3 } from './hash.ts';
import type { PatternTest } from './pattern.ts';
import type { KeyBuilder } from './key-index.ts';
import type { ColumnProfiler } from './profile.ts';
import { codePointLength, readBoolean, readDate, readInteger, readNumber, readTimestamp, type ParsedValue } from './values.ts';

/**
 * A CSV row check written for one spec and one file's header: straight-line code with one block
 * per field, each knowing its column's type and checks, instead of a loop that looks the column up
 * and switches on its type for every cell. It is the fast path of valid rows and nothing else:
 * it reads and checks every cell first and records nothing; only when all of them pass does it
 * record the profile and the key parts, exactly as {@link RowChecker} would. Any cell that needs a
 * word said about it (an error, a quote to undo, bytes to look at) makes it return false having
 * recorded nothing, and the row goes through the general path, which reports it. So the issues,
 * the verdict and the profile are those of the general path by construction.
 */

/** Returns true when the row was valid and has been recorded; false when nothing was recorded. */
export type CompiledRowCheck = (buf: Uint8Array, starts: Int32Array, ends: Int32Array, flags: Uint8Array) => boolean;

export interface CompiledRow {
  readonly check: CompiledRowCheck;
  /**
   * The check writes the row's canonical key into {@link KeyParts.key} itself (every key column
   * is in the file); otherwise it sets the key parts, as the general path does.
   */
  readonly buildsKey: boolean;
}

/** Field flags that always need the general path (reported, or the bytes are not the value). */
const GENERAL_ONLY = FIELD_ESCAPED | FIELD_NUL | FIELD_STRAY_QUOTE | FIELD_TOO_LARGE;

/** What the generated code needs of a column; {@link RowChecker} prepares it. */
export interface CompilableColumn {
  /** `KIND_*` of the row checker: 0 string, 1 integer, 2 number, 3 boolean, 4 date, 5 timestamp. */
  readonly kind: number;
  readonly min: number;
  readonly max: number;
  readonly maxLength: number;
  readonly nullable: boolean;
  readonly keyPosition: number;
  readonly enumBytes: readonly Uint8Array[] | undefined;
  readonly enumHashes: Uint32Array | undefined;
  readonly pattern: PatternTest | undefined;
  readonly profiler: ColumnProfiler;
}

/** Where the generated code records key parts: the row checker's own methods, and its key builder. */
export interface KeyParts {
  /** The canonical key of the row, written straight from the cells when every key column is in the file. */
  readonly key: KeyBuilder;
  /** Spec column of each key part, in key order. */
  readonly keyColumns: readonly number[];
  setNullPart(position: number): void;
  setBytesPart(position: number, buf: Uint8Array, start: number, end: number): void;
  setNumberPart(position: number, value: number): void;
  setInstantPart(position: number, seconds: number, nanos: number): void;
}

/**
 * Writes the row check for a header whose field i holds column `fieldColumns[i]` (-1: a column
 * the spec does not know, not checked).
 */
export function compileRow(columns: readonly CompilableColumn[], fieldColumns: Int32Array, parts: KeyParts, parsed: ParsedValue): CompiledRow {
  const check: string[] = [];
  const record: string[] = [];
  const ignored: string[] = [];
  const fieldOf = (column: number): number => fieldColumns.indexOf(column);
  const buildsKey = parts.keyColumns.length > 0 && parts.keyColumns.every((column) => fieldOf(column) >= 0);
  /** Per key position: what adds the part to the key builder (when it builds the key). */
  const keyAdds: string[] = [];
  for (let f = 0; f < fieldColumns.length; f++) {
    const c = fieldColumns[f]!;
    if (c < 0) {
      // An unknown column is not checked, but bytes that would be reported still are.
      ignored.push(`if ((flags[${f}] & ${GENERAL_ONLY | FIELD_NON_ASCII}) !== 0) return false;`);
      continue;
    }
    const column = columns[c]!;
    const s = `s${f}`;
    const e = `e${f}`;
    const keyPosition = column.keyPosition;
    // With the key built here, the parts are not set (key < 0 below); the adds are written in key order at the end.
    const key = buildsKey ? -1 : keyPosition;
    check.push(`const ${s} = starts[${f}], ${e} = ends[${f}], f${f} = flags[${f}];`);
    check.push(`if ((f${f} & ${GENERAL_ONLY}) !== 0) return false;`);
    // A null cell: recorded as null when the column takes nulls, else the general path reports it.
    check.push(`const n${f} = ${s} === ${e};`);
    if (!column.nullable) check.push(`if (n${f}) return false;`);
    const nullRecord = [`P[${c}].addNull();`, ...(key >= 0 ? [`K.setNullPart(${key});`] : [])].join(' ');
    /** Variables the checks assign and the recording reads. */
    const vars: string[] = [];
    const valueCheck: string[] = [];
    const valueRecord: string[] = [];
    switch (column.kind) {
      case 0: {
        // Non-ASCII bytes must be UTF-8 (the general path's test); the checks then count code points.
        vars.push(`a${f}`);
        valueCheck.push(`a${f} = (f${f} & ${FIELD_NON_ASCII}) !== 0;`);
        valueCheck.push(`if (a${f} && !isUtf8Range(buf, ${s}, ${e})) return false;`);
        if (column.enumBytes) {
          vars.push(`x${f}`);
          valueCheck.push(`x${f} = matchIndex(E[${c}], buf, ${s}, ${e});`, `if (x${f} < 0) return false;`);
        }
        if (column.pattern) valueCheck.push(`if (!T[${c}](buf, ${s}, ${e}, a${f})) return false;`);
        if (column.maxLength !== Infinity) {
          valueCheck.push(`if (${e} - ${s} > ${column.maxLength} && (a${f} ? codePointLength(buf, ${s}, ${e}) : ${e} - ${s}) > ${column.maxLength}) return false;`);
        }
        valueRecord.push(column.enumBytes ? `P[${c}].addValue(H[${c}][x${f}]);` : `P[${c}].addValue(murmur3(buf, ${s}, ${e}));`);
        if (key >= 0) valueRecord.push(`K.setBytesPart(${key}, buf, ${s}, ${e});`);
        if (buildsKey && keyPosition >= 0) keyAdds[keyPosition] = `k.addBytes(buf, ${s}, ${e});`;
        break;
      }
      case 1:
      case 2: {
        const read = column.kind === 1 ? 'readInteger' : 'readNumber';
        valueCheck.push(`if ((f${f} & ${FIELD_NON_ASCII}) !== 0 || ${read}(buf, ${s}, ${e}, V) !== 'ok') return false;`);
        vars.push(`v${f}`);
        valueCheck.push(`v${f} = V.number;`);
        if (column.min !== -Infinity || column.max !== Infinity) valueCheck.push(`if (v${f} < ${column.min} || v${f} > ${column.max}) return false;`);
        valueRecord.push(`P[${c}].addNumber(v${f}, hashNumber(v${f}));`);
        if (key >= 0) valueRecord.push(`K.setNumberPart(${key}, v${f});`);
        if (buildsKey && keyPosition >= 0) keyAdds[keyPosition] = `k.addNumber(v${f});`;
        break;
      }
      case 3:
        valueCheck.push(`if ((f${f} & ${FIELD_NON_ASCII}) !== 0 || readBoolean(buf, ${s}, ${e}, V) !== 'ok') return false;`, `v${f} = V.number;`);
        vars.push(`v${f}`);
        valueRecord.push(`P[${c}].addValue(hashNumber(v${f}));`);
        if (key >= 0) valueRecord.push(`K.setNumberPart(${key}, v${f});`);
        if (buildsKey && keyPosition >= 0) keyAdds[keyPosition] = `k.addNumber(v${f});`;
        break;
      case 4:
        valueCheck.push(`if ((f${f} & ${FIELD_NON_ASCII}) !== 0 || readDate(buf, ${s}, ${e}, V) !== 'ok') return false;`, `v${f} = V.number;`);
        vars.push(`v${f}`);
        valueRecord.push(`P[${c}].addOrdered(v${f}, hashNumber(v${f}), buf, ${s}, ${e});`);
        if (key >= 0) valueRecord.push(`K.setNumberPart(${key}, v${f});`);
        if (buildsKey && keyPosition >= 0) keyAdds[keyPosition] = `k.addNumber(v${f});`;
        break;
      default:
        valueCheck.push(
          `if ((f${f} & ${FIELD_NON_ASCII}) !== 0 || readTimestamp(buf, ${s}, ${e}, V) !== 'ok') return false;`,
          `t${f} = V.seconds;`,
          `u${f} = V.nanos;`,
        );
        vars.push(`t${f}`, `u${f}`);
        valueRecord.push(`P[${c}].addOrdered(t${f} + u${f} / 1e9, hashNumber(t${f}) ^ u${f}, buf, ${s}, ${e});`);
        if (key >= 0) valueRecord.push(`K.setInstantPart(${key}, t${f}, u${f});`);
        if (buildsKey && keyPosition >= 0) keyAdds[keyPosition] = `k.addInstant(t${f}, u${f});`;
        break;
    }
    if (vars.length > 0) check.push(`let ${vars.join(', ')};`);
    if (buildsKey && keyPosition >= 0 && column.nullable) keyAdds[keyPosition] = `if (n${f}) k.addNull(); else ${keyAdds[keyPosition]!}`;
    if (column.nullable) {
      check.push(`if (!n${f}) {`, ...valueCheck, '}');
      record.push(`if (n${f}) { ${nullRecord} } else { ${valueRecord.join(' ')} }`);
    } else {
      check.push(...valueCheck);
      record.push(...valueRecord);
    }
  }
  const keyCode = buildsKey ? ['const k = K.key;', 'k.reset();', ...keyAdds] : [];
  const body = ['"use strict";', 'return function compiledRow(buf, starts, ends, flags) {', ...ignored, ...check, ...record, ...keyCode, 'return true;', '};'].join('\n');
  const make = new Function(
    'P', 'E', 'H', 'T', 'K', 'V',
    'isUtf8Range', 'matchIndex', 'codePointLength', 'murmur3', 'hashNumber',
    'readInteger', 'readNumber', 'readBoolean', 'readDate', 'readTimestamp',
    body,
  ) as (...args: unknown[]) => CompiledRowCheck;
  const rowCheck = make(
    columns.map((column) => column.profiler),
    columns.map((column) => column.enumBytes),
    columns.map((column) => column.enumHashes),
    columns.map((column) => column.pattern),
    parts,
    parsed,
    isUtf8Range, matchIndex, codePointLength, murmur3, hashNumber,
    readInteger, readNumber, readBoolean, readDate, readTimestamp,
  );
  return { check: rowCheck, buildsKey };
}

/** The index of the candidate equal to `buf[start, end)`, or -1. */
export function matchIndex(candidates: readonly Uint8Array[], buf: Uint8Array, start: number, end: number): number {
  const length = end - start;
  outer: for (let c = 0; c < candidates.length; c++) {
    const candidate = candidates[c]!;
    if (candidate.length !== length) continue;
    for (let i = 0; i < length; i++) if (candidate[i] !== buf[start + i]) continue outer;
    return c;
  }
  return -1;
}

/**
 * What makes a file name unsafe wherever a sender names a file (an SFTP path, an upload slot, a
 * landing key): characters that break logs, headers and keys, or that make a name look like
 * another one. One rule, so that every way in refuses the same names.
 */

/** The longest file name, in UTF-8 bytes, as on common file systems. */
export const MAX_NAME_BYTES = 255;

/**
 * Characters that are legal in a name but make it look like another name: bidirectional
 * controls, zero-width characters, the byte-order mark, and U+FFFD (what invalid UTF-8 decodes to).
 */
const deceptive = /[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\ufffd]/u;
/** C0 and C1 controls (NUL included) and DEL. */
// eslint-disable-next-line no-control-regex
const control = /[\u0000-\u001f\u007f-\u009f]/u;

/** Why a single file or folder name is refused, or `undefined` when it is fine. */
export function unsafeName(name: string): string | undefined {
  if (control.test(name)) return 'a control character (NUL, newline, …)';
  if (name.includes('\\')) return 'a backslash';
  if (deceptive.test(name)) return 'an invisible or direction-changing character';
  if (name.normalize('NFC') !== name) return 'characters not in Unicode normal form C';
  if (Buffer.byteLength(name) > MAX_NAME_BYTES) return `a name longer than ${MAX_NAME_BYTES} bytes`;
  return undefined;
}

/** A name with control and invisible characters written as `\u{…}`, safe to put in a log line. */
export function printable(name: string): string {
  const hidden = new RegExp(`${control.source}|${deceptive.source}|\\\\`, 'gu');
  return name.replace(hidden, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`);
}

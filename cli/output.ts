/** How the CLI prints: aligned tables and key/value blocks for people, JSON for scripts. */

/** A table column: its header and how a row shows in it. */
export interface Column<T> {
  readonly header: string;
  readonly value: (row: T) => string;
}

/** Rows as a table: a header line, then one line per row, columns padded to their widest cell. */
export function formatTable<T>(columns: readonly Column<T>[], rows: readonly T[]): string {
  const cells = rows.map((row) => columns.map((column) => column.value(row)));
  const widths = columns.map((column, i) => Math.max(column.header.length, ...cells.map((line) => line[i]?.length ?? 0)));
  const line = (values: readonly string[]) =>
    values
      .map((value, i) => (i === values.length - 1 ? value : value.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...cells.map(line)].join('\n') + '\n';
}

/** `[['status', 'published'], …]` as aligned `key  value` lines; absent values are left out. */
export function formatFields(fields: readonly (readonly [string, string | undefined])[]): string {
  const present = fields.filter((f): f is readonly [string, string] => f[1] !== undefined && f[1] !== '');
  const width = Math.max(...present.map(([key]) => key.length));
  return present.map(([key, value]) => `${key.padEnd(width)}  ${value}`).join('\n') + '\n';
}

/** JSON for scripts: indented, one trailing newline. */
export function formatJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** `1536` → `1.5 KiB`. */
export function formatBytes(bytes: number | undefined): string {
  if (bytes === undefined) return '';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** `2025-01-07T09:12:44.118Z` → `2025-01-07 09:12:44Z`: to the second, still UTC, still sortable. */
export function formatTime(iso: string | undefined): string {
  if (!iso) return '';
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.\d+)?(Z|[+-]\d{2}:\d{2})$/.exec(iso);
  return match ? `${match[1]} ${match[2]}${match[3]}` : iso;
}

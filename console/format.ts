/** How the console writes numbers, sizes and instants. */

const integer = new Intl.NumberFormat('en', { maximumFractionDigits: 0 });

export function count(n: number): string {
  return integer.format(n);
}

/** 1.2 MB: decimal units, as file managers show them. */
export function bytes(n: number | undefined): string {
  if (n === undefined) return '—';
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = n;
  let unit = -1;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** `2025-01-07 09:12 UTC`: unambiguous wherever the reader is. */
export function instant(iso: string | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

export function shortHash(hash: string | undefined, length = 12): string {
  return hash ? hash.slice(0, length) : '—';
}

/** A profile value: numbers in full, text (dates, timestamps) as is. */
export function value(v: number | string | undefined): string {
  if (v === undefined) return '—';
  return typeof v === 'number' ? String(v) : v;
}

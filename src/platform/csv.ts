/** CSV text for COPY … WITH (FORMAT csv): NULL is an empty unquoted field, '' a quoted one. */

export type CsvValue = string | number | bigint | boolean | Date | null | undefined;

let lastDate: Date | undefined;
let lastIso = '';

function field(v: CsvValue): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  if (v instanceof Date) {
    // Bulk rows often share one timestamp.
    if (v !== lastDate) {
      lastDate = v;
      lastIso = v.toISOString();
    }
    return lastIso;
  }
  const s = String(v);
  if (s === '' || /[",\n\r]/.test(s) || s.startsWith(' ') || s.endsWith(' ')) return `"${s.replaceAll('"', '""')}"`;
  return s;
}

export function csvLine(values: readonly CsvValue[]): string {
  let out = '';
  for (let i = 0; i < values.length; i++) {
    if (i) out += ',';
    out += field(values[i]);
  }
  return `${out}\n`;
}

/** What commands print: tables for people, JSON for scripts (--json). */
export interface Output {
  json: boolean;
  line(text: string): void;
  /** Rows as aligned columns, or the raw values as JSON. */
  table<T>(rows: T[], columns: Column<T>[]): void;
  /** One object: `key  value` lines, or JSON. */
  record(value: unknown, fields?: [label: string, value: unknown][]): void;
}

export interface Column<T> {
  header: string;
  value: (row: T) => unknown;
}

export function makeOutput(
  json: boolean,
  write: (text: string) => void = (t) => process.stdout.write(t),
): Output {
  return {
    json,
    line: (text) => write(`${text}\n`),
    table(rows, columns) {
      if (json) return write(`${JSON.stringify(rows, null, 2)}\n`);
      if (rows.length === 0) return write('(none)\n');
      const cells = rows.map((row) => columns.map((c) => cell(c.value(row))));
      const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((r) => r[i]!.length)));
      const format = (values: string[]) =>
        values
          .map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i]!)))
          .join('  ')
          .trimEnd();
      write(`${format(columns.map((c) => c.header.toUpperCase()))}\n`);
      for (const row of cells) write(`${format(row)}\n`);
    },
    record(value, fields) {
      if (json || !fields) return write(`${JSON.stringify(value, null, 2)}\n`);
      const width = Math.max(...fields.map(([label]) => label.length));
      for (const [label, v] of fields) write(`${label.padEnd(width)}  ${cell(v)}\n`);
    },
  };
}

function cell(value: unknown): string {
  if (value === null || value === undefined || value === '') return '-';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value).replace(/\s+/g, ' ');
}

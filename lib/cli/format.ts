/**
 * Human-readable output: aligned tables and key/value blocks. Colour is decoration only, so every
 * table reads the same without it; it is used only on a terminal and never when `NO_COLOR` is set.
 */

/** A stream the CLI writes to; `isTTY` decides colour and progress lines. */
export interface OutputStream {
  write(text: string): unknown;
  isTTY?: boolean | undefined;
}

export type Tone = 'good' | 'warn' | 'bad' | 'muted' | 'strong';

/** Applies a tone to text, or leaves it as it is when colour is off. */
export interface Style {
  readonly color: boolean;
  paint(text: string, tone: Tone | undefined): string;
}

const CODES: Record<Tone, [number, number]> = {
  good: [32, 39],
  warn: [33, 39],
  bad: [31, 39],
  muted: [2, 22],
  strong: [1, 22],
};

/**
 * Colour only on a terminal, and never when `NO_COLOR` is set to anything non-empty
 * (https://no-color.org) or the terminal says it cannot (`TERM=dumb`).
 */
export function colorEnabled(stream: OutputStream, env: Record<string, string | undefined>): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.TERM === 'dumb') return false;
  return stream.isTTY === true;
}

export function createStyle(color: boolean): Style {
  return {
    color,
    paint(text, tone) {
      if (!color || tone === undefined || text === '') return text;
      const [open, close] = CODES[tone];
      return `\u001b[${open}m${text}\u001b[${close}m`;
    },
  };
}

/** One column of a table: how to read the cell from a row, and how to show it. */
export interface Column<T> {
  header: string;
  value(row: T): string | number | boolean | undefined | null;
  /** Numbers read best right-aligned; everything else is left-aligned. */
  align?: 'left' | 'right';
  tone?(row: T): Tone | undefined;
}

/** Text of a cell as shown: booleans as yes/no, missing values as a dash. */
export function cellText(value: string | number | boolean | undefined | null): string {
  if (value === undefined || value === null || value === '') return '-';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  return String(value);
}

/**
 * Renders rows as a table with a header line and columns aligned on their widest cell, two
 * spaces apart. Widths are measured before colour is applied so escape codes never skew them,
 * and the last column is not padded, so no line ends in spaces.
 */
export function formatTable<T>(rows: readonly T[], columns: readonly Column<T>[], style: Style): string {
  const cells = rows.map((row) => columns.map((column) => cellText(column.value(row))));
  const widths = columns.map((column, i) =>
    Math.max(column.header.length, ...cells.map((line) => (line[i] ?? '').length)),
  );
  const pad = (text: string, i: number, last: boolean) => {
    const width = widths[i] ?? 0;
    if (columns[i]?.align === 'right') return text.padStart(width);
    return last ? text : text.padEnd(width);
  };
  const header = columns
    .map((column, i) => style.paint(pad(column.header, i, i === columns.length - 1), 'strong'))
    .join('  ');
  const body = cells.map((line, r) =>
    line
      .map((text, i) => {
        const row = rows[r] as T;
        return style.paint(pad(text, i, i === line.length - 1), columns[i]?.tone?.(row));
      })
      .join('  '),
  );
  return [header, ...body].join('\n');
}

/** One label/value line: the label, the value, and optionally the tone of the value. */
export type Field = readonly [string, string | number | boolean | undefined | null, Tone?];

/** Label/value lines with the values aligned, for one record or a summary. */
export function formatFields(fields: readonly Field[], style: Style): string {
  const width = Math.max(0, ...fields.map(([label]) => label.length));
  return fields
    .map(
      ([label, value, tone]) =>
        `${style.paint(label.padEnd(width), 'muted')}  ${style.paint(cellText(value), tone)}`,
    )
    .join('\n');
}

/** The tone of a health state: the reader should see trouble before reading the word. */
export function healthTone(health: string | undefined): Tone | undefined {
  if (health === 'healthy') return 'good';
  if (health === 'degraded') return 'warn';
  if (health === 'unhealthy') return 'bad';
  return undefined;
}

/** A share as a whole percentage ("42%"), or a dash when there is nothing to divide. */
export function percent(part: number, whole: number): string {
  return whole === 0 ? '-' : `${Math.round((part / whole) * 100)}%`;
}

import { describe, expect, it } from 'vitest';
import {
  type Column,
  cellText,
  colorEnabled,
  createStyle,
  formatFields,
  formatTable,
  healthTone,
  percent,
} from '../../../lib/cli/format.ts';

const plain = createStyle(false);
interface Row {
  name: string;
  load: number;
  enabled: boolean;
  note?: string;
}
const rows: Row[] = [
  { name: 'email-ai', load: 12, enabled: true },
  { name: 'b', load: 3, enabled: false, note: 'x' },
];
const name: Column<Row> = { header: 'NAME', value: (r) => r.name };
const load: Column<Row> = { header: 'LOAD', value: (r) => r.load, align: 'right' };
const columns: Column<Row>[] = [
  name,
  load,
  { header: 'ENABLED', value: (r) => r.enabled },
  { header: 'NOTE', value: (r) => r.note },
];

describe('formatTable', () => {
  it('aligns columns on the widest cell, numbers to the right, two spaces apart', () => {
    expect(formatTable(rows, columns, plain)).toBe(
      ['NAME      LOAD  ENABLED  NOTE', 'email-ai    12  yes      -', 'b            3  no       x'].join(
        '\n',
      ),
    );
  });

  it('never ends a line in spaces', () => {
    const lines = formatTable(rows, columns.slice(0, 3), plain).split('\n');
    for (const line of lines) expect(line).toBe(line.trimEnd());
  });

  it('prints only the header for no rows', () => {
    expect(formatTable([], columns, plain)).toBe('NAME  LOAD  ENABLED  NOTE');
  });

  it('measures widths before colouring, so coloured tables align like plain ones', () => {
    const coloured = formatTable(rows, [{ ...name, tone: () => 'good' }, load], createStyle(true));
    // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping ANSI escapes is the point
    const stripped = coloured.replace(/\u001b\[\d+m/g, '');
    expect(stripped).toBe(formatTable(rows, [name, load], plain));
    expect(coloured).toContain('\u001b[32memail-ai\u001b[39m');
  });
});

describe('colour', () => {
  const tty = { write: () => true, isTTY: true };
  const pipe = { write: () => true, isTTY: false };

  it('is on for a terminal only', () => {
    expect(colorEnabled(tty, {})).toBe(true);
    expect(colorEnabled(pipe, {})).toBe(false);
    expect(colorEnabled({ write: () => true }, {})).toBe(false);
  });

  it('is off whenever NO_COLOR is set to something, and for TERM=dumb', () => {
    expect(colorEnabled(tty, { NO_COLOR: '1' })).toBe(false);
    expect(colorEnabled(tty, { NO_COLOR: '' })).toBe(true);
    expect(colorEnabled(tty, { TERM: 'dumb' })).toBe(false);
  });

  it('leaves text untouched when off', () => {
    expect(plain.paint('healthy', 'good')).toBe('healthy');
    expect(createStyle(true).paint('unhealthy', 'bad')).toBe('\u001b[31munhealthy\u001b[39m');
  });
});

describe('helpers', () => {
  it('formats fields with aligned values', () => {
    expect(
      formatFields(
        [
          ['Task', 't_1'],
          ['Priority', 'high'],
          ['Error', undefined],
        ],
        plain,
      ),
    ).toBe('Task      t_1\nPriority  high\nError     -');
  });

  it('shows booleans as yes/no and missing values as a dash', () => {
    expect([true, false, undefined, null, '', 0].map(cellText)).toEqual(['yes', 'no', '-', '-', '-', '0']);
  });

  it('tones health and rounds shares', () => {
    expect(['healthy', 'degraded', 'unhealthy', 'other'].map(healthTone)).toEqual([
      'good',
      'warn',
      'bad',
      undefined,
    ]);
    expect(percent(1, 3)).toBe('33%');
    expect(percent(0, 0)).toBe('-');
  });
});

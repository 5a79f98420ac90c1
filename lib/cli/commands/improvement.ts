import type { Command } from 'commander';
import type { ImprovementReport } from '../../core/self-improvement.ts';
import { formatFields, formatTable, percent, type Style } from '../format.ts';
import { addReadCommand, type CliState } from './common.ts';

const signedPercent = (x: number) => `${x > 0 ? '+' : ''}${Math.round(x * 1000) / 10}%`;

/** The report: totals, counts by status and area, then what implemented suggestions changed. */
export function formatImprovementReport(report: ImprovementReport, style: Style): string {
  const counts = (header: string, byKey: Record<string, number>) =>
    formatTable(
      Object.entries(byKey).sort(([a, x], [b, y]) => y - x || a.localeCompare(b)),
      [
        { header, value: ([key]) => key },
        { header: 'COUNT', value: ([, n]) => n, align: 'right' },
        { header: 'SHARE', value: ([, n]) => percent(n, report.total), align: 'right' },
      ],
      style,
    );
  const sections = [
    formatFields(
      [
        ['Suggestions', report.total],
        [
          'Acceptance rate',
          report.acceptanceRate === undefined
            ? 'none decided yet'
            : `${Math.round(report.acceptanceRate * 100)}%`,
        ],
        ['Implemented', report.implemented.length],
      ],
      style,
    ),
  ];
  if (report.total > 0) sections.push(counts('STATUS', report.byStatus), counts('AREA', report.byArea));
  const means = Object.entries(report.meanImprovementByMetric);
  if (means.length > 0) {
    sections.push(
      formatTable(
        means,
        [
          { header: 'METRIC', value: ([name]) => name },
          {
            header: 'MEAN CHANGE',
            value: ([, x]) => signedPercent(x),
            align: 'right',
            tone: ([, x]) => (x > 0 ? 'good' : x < 0 ? 'bad' : undefined),
          },
        ],
        style,
      ),
    );
  }
  if (report.implemented.length > 0) {
    sections.push(
      formatTable(
        report.implemented,
        [
          { header: 'ID', value: (s) => s.id },
          {
            header: 'IMPACT',
            value: (s) =>
              Object.entries(s.impact ?? {})
                .map(([name, m]) => `${name} ${signedPercent(m.improvement)}`)
                .join(', '),
          },
          { header: 'TITLE', value: (s) => s.title },
        ],
        style,
      ),
    );
  }
  return sections.join('\n\n');
}

/** Registers `improvement report`. */
export function registerImprovementCommands(program: Command, state: CliState): void {
  const improvement = program.command('improvement').description('what the suggestions have achieved');
  addReadCommand<ImprovementReport>(improvement, state, {
    name: 'report',
    description: 'suggestions by status and area, acceptance rate, measured impact',
    path: '/improvement/report',
    show: formatImprovementReport,
  });
}

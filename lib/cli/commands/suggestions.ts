import type { Command } from 'commander';
import type { MetricImpact, Suggestion } from '../../core/self-improvement.ts';
import { paths, queries, schemas } from '../../handler/api-schemas.ts';
import { apiPath } from '../client.ts';
import { type Column, formatTable, type Style, type Tone } from '../format.ts';
import {
  addCommand,
  type CliState,
  flagLabel,
  list,
  parseNumberPairs,
  subject,
  UsageError,
  validate,
} from './common.ts';

const SUGGESTION = subject(
  '<id>',
  'suggestion id',
  paths.suggestionId,
  'id',
  'See the suggestions with: vobee suggestions list --status STATUS',
);
const PRIORITY_TONE: Record<string, Tone> = { critical: 'bad', high: 'warn' };
const DECISION_FLAGS: Record<string, string> = { decidedBy: '--by', note: '--note' };
const IMPACT_FLAGS: Record<string, string> = {
  before: '--before',
  after: '--after',
  higherIsBetter: '--higher-is-better',
  notes: '--note',
};

const SUGGESTION_COLUMNS: Column<Suggestion>[] = [
  { header: 'ID', value: (s) => s.id },
  { header: 'PRIORITY', value: (s) => s.priority, tone: (s) => PRIORITY_TONE[s.priority] },
  { header: 'AREA', value: (s) => s.area },
  { header: 'STATUS', value: (s) => s.status },
  { header: 'TITLE', value: (s) => s.title },
];

/** Suggestions as a table: ID, PRIORITY, AREA, STATUS, TITLE. */
export function formatSuggestions(suggestions: readonly Suggestion[], style: Style): string {
  return formatTable(suggestions, SUGGESTION_COLUMNS, style);
}

/** Measured impact per metric: before, after, the change in the good direction, and whether it improved. */
export function formatImpact(metrics: Record<string, MetricImpact>, style: Style): string {
  return formatTable(
    Object.entries(metrics),
    [
      { header: 'METRIC', value: ([name]) => name },
      { header: 'BEFORE', value: ([, m]) => m.before, align: 'right' },
      { header: 'AFTER', value: ([, m]) => m.after, align: 'right' },
      {
        header: 'CHANGE',
        value: ([, m]) => `${m.improvement > 0 ? '+' : ''}${Math.round(m.improvement * 1000) / 10}%`,
        align: 'right',
      },
      { header: 'IMPROVED', value: ([, m]) => m.improved, tone: ([, m]) => (m.improved ? 'good' : 'bad') },
    ],
    style,
  );
}

/** Registers the `suggestions` commands. */
export function registerSuggestionCommands(program: Command, state: CliState): void {
  const suggestions = program
    .command('suggestions')
    .description('review improvement suggestions (nothing is ever applied automatically)');

  addCommand(suggestions, state, {
    name: 'list',
    description: 'suggestions, most urgent first (pending ones unless --status says otherwise)',
    setup: (c) =>
      c
        .option('--priority <priority>', 'critical, high, medium or low')
        .option('--status <status>', 'pending, accepted, rejected or implemented'),
    run: async (ctx, flags: { priority?: string; status?: string }) => {
      const query = { priority: flags.priority, status: flags.status };
      validate(queries.listSuggestions, query, (field) => `--${field}`, ctx.hint);
      await ctx.show<{ suggestions: Suggestion[] }>(
        'GET',
        '/suggestions',
        (body) =>
          body.suggestions.length === 0
            ? `No ${flags.status ?? 'pending'} suggestions.`
            : formatSuggestions(body.suggestions, ctx.style),
        { query },
      );
    },
  });

  for (const verb of ['accept', 'reject'] as const) {
    addCommand(suggestions, state, {
      name: verb,
      description: `${verb} a pending suggestion`,
      subject: SUGGESTION,
      setup: (c) => c.requiredOption('--by <name>', 'who decides').option('--note <text>', 'why'),
      run: async (ctx, id: string, flags: { by: string; note?: string }) => {
        const input = { decidedBy: flags.by, note: flags.note };
        validate(schemas.decideSuggestion, input, flagLabel(DECISION_FLAGS), ctx.hint);
        await ctx.show<Suggestion>(
          'POST',
          apiPath('suggestions', id, verb),
          (body) =>
            `Suggestion ${body.id} ${body.status} by ${body.decidedBy ?? flags.by}: ${body.title}${
              body.policyVersion === undefined
                ? ''
                : `\nIt is draft routing policy version ${body.policyVersion}: replay it (vobee routing replay --version ${body.policyVersion}), then activate it (vobee routing policy activate ${body.policyVersion}).`
            }`,
          { body: input },
        );
      },
      errors: {
        flags: DECISION_FLAGS,
        conflictHint: 'Only a pending suggestion can be accepted or rejected.',
      },
    });
  }

  addCommand(suggestions, state, {
    name: 'impact',
    description: 'record metrics before and after an accepted suggestion was carried out',
    subject: SUGGESTION,
    setup: (c) =>
      c
        .requiredOption('--before <metric=number...>', 'a metric before the change (repeatable)')
        .requiredOption('--after <metric=number...>', 'the same metric after the change (repeatable)')
        .option(
          '--higher-is-better <metric...>',
          'metrics where higher is better; by default names with ms, time, latency, error, failure, cost are lower-is-better',
        )
        .option('--note <text>', 'notes on what was done'),
    run: async (
      ctx,
      id: string,
      flags: { before: string[]; after: string[]; higherIsBetter?: string[]; note?: string },
    ) => {
      const input = {
        before: parseNumberPairs('--before', flags.before),
        after: parseNumberPairs('--after', flags.after),
        higherIsBetter: list(flags.higherIsBetter, { commas: true }),
        notes: flags.note,
      };
      validate(schemas.recordImpact, input, flagLabel(IMPACT_FLAGS), ctx.hint);
      // The API refuses this too (422), but only after the request; say it before.
      if (!Object.keys(input.before).some((metric) => metric in input.after)) {
        throw new UsageError('--after: must measure at least one metric named in --before', ctx.hint);
      }
      await ctx.show<Suggestion>(
        'POST',
        apiPath('suggestions', id, 'impact'),
        (body) =>
          [
            `Suggestion ${body.id} is ${body.status}.`,
            formatImpact(body.impact?.metrics ?? {}, ctx.style),
          ].join('\n\n'),
        { body: input },
      );
    },
    errors: {
      flags: IMPACT_FLAGS,
      conflictHint: 'Accept the suggestion first: vobee suggestions accept ID --by NAME',
    },
  });
}

import type { Command } from 'commander';
import type { MetricImpact, Suggestion } from '../../core/self-improvement.ts';
import { paths, queries, schemas } from '../../handler/api-schemas.ts';
import { apiPath } from '../client.ts';
import { type Column, formatTable, type Style, type Tone } from '../format.ts';
import {
  type ActionContext,
  action,
  addGlobalOptions,
  type CliState,
  list,
  parseNumberPairs,
  UsageError,
  usageHint,
  validate,
} from './common.ts';

const NOT_FOUND = 'See the suggestions with: vobee suggestions list --status STATUS';
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

  addGlobalOptions(
    suggestions
      .command('list')
      .description('suggestions, most urgent first (pending ones unless --status says otherwise)')
      .option('--priority <priority>', 'critical, high, medium or low')
      .option('--status <status>', 'pending, accepted, rejected or implemented'),
  ).action(
    action(state, async (ctx: ActionContext, flags: { priority?: string; status?: string }) => {
      const query = { priority: flags.priority, status: flags.status };
      validate(queries.listSuggestions, query, (field) => `--${field}`, usageHint('suggestions list'));
      const { body } = await ctx.client.request<{ suggestions: Suggestion[] }>('GET', '/suggestions', {
        query,
      });
      ctx.result(body, () =>
        body.suggestions.length === 0
          ? `No ${flags.status ?? 'pending'} suggestions.`
          : formatSuggestions(body.suggestions, ctx.style),
      );
    }),
  );

  for (const verb of ['accept', 'reject'] as const) {
    addGlobalOptions(
      suggestions
        .command(verb)
        .description(`${verb} a pending suggestion`)
        .argument('<id>', 'suggestion id')
        .requiredOption('--by <name>', 'who decides')
        .option('--note <text>', 'why'),
    ).action(
      action(
        state,
        async (ctx: ActionContext, id: string, flags: { by: string; note?: string }) => {
          const hint = usageHint(`suggestions ${verb}`);
          validate(paths.suggestionId, { id }, () => 'ID', hint);
          const input = { decidedBy: flags.by, note: flags.note };
          validate(schemas.decideSuggestion, input, (field) => DECISION_FLAGS[field] ?? field, hint);
          const { body } = await ctx.client.request<Suggestion>('POST', apiPath('suggestions', id, verb), {
            body: input,
          });
          ctx.result(
            body,
            () => `Suggestion ${body.id} ${body.status} by ${body.decidedBy ?? flags.by}: ${body.title}`,
          );
        },
        {
          flags: DECISION_FLAGS,
          notFoundHint: NOT_FOUND,
          conflictHint: 'Only a pending suggestion can be accepted or rejected.',
        },
      ),
    );
  }

  addGlobalOptions(
    suggestions
      .command('impact')
      .description('record metrics before and after an accepted suggestion was carried out')
      .argument('<id>', 'suggestion id')
      .requiredOption('--before <metric=number...>', 'a metric before the change (repeatable)')
      .requiredOption('--after <metric=number...>', 'the same metric after the change (repeatable)')
      .option(
        '--higher-is-better <metric...>',
        'metrics where higher is better; by default names with ms, time, latency, error, failure, cost are lower-is-better',
      )
      .option('--note <text>', 'notes on what was done'),
  ).action(
    action(
      state,
      async (
        ctx: ActionContext,
        id: string,
        flags: { before: string[]; after: string[]; higherIsBetter?: string[]; note?: string },
      ) => {
        const hint = usageHint('suggestions impact');
        validate(paths.suggestionId, { id }, () => 'ID', hint);
        const input = {
          before: parseNumberPairs('--before', flags.before),
          after: parseNumberPairs('--after', flags.after),
          higherIsBetter: list(flags.higherIsBetter, { commas: true }),
          notes: flags.note,
        };
        validate(schemas.recordImpact, input, (field) => IMPACT_FLAGS[field] ?? field, hint);
        // The API refuses this too (422), but only after the request; say it before.
        if (!Object.keys(input.before).some((metric) => metric in input.after)) {
          throw new UsageError('--after: must measure at least one metric named in --before', hint);
        }
        const { body } = await ctx.client.request<Suggestion>('POST', apiPath('suggestions', id, 'impact'), {
          body: input,
        });
        ctx.result(body, () =>
          [
            `Suggestion ${body.id} is ${body.status}.`,
            formatImpact(body.impact?.metrics ?? {}, ctx.style),
          ].join('\n\n'),
        );
      },
      {
        flags: IMPACT_FLAGS,
        notFoundHint: NOT_FOUND,
        conflictHint: 'Accept the suggestion first: vobee suggestions accept ID --by NAME',
      },
    ),
  );
}

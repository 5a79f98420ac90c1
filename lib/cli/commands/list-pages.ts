import type { Command } from 'commander';
import type * as z from 'zod';
import { type Column, formatTable } from '../format.ts';
import { type ActionContext, validate } from './common.ts';

/** The flags every list takes besides its own filters: the window and the page. */
export interface ListWindowFlags {
  since?: string;
  until?: string;
  limit?: string;
  nextToken?: string;
}

/** Adds `--since`, `--until`, `--limit` and `--next-token` to a list command. */
export function withListWindow(command: Command): Command {
  return command
    .option('--since <time>', 'oldest creation time, ISO-8601 (default: 30 days before --until)')
    .option('--until <time>', 'newest creation time, excluded, ISO-8601 (default: now)')
    .option('--limit <n>', 'at most this many (1-100, default 25)')
    .option('--next-token <token>', 'the next page, as printed under the previous one');
}

/** The query of a list: its filters and window, without the flags that were not given. */
export function listQuery(filters: Record<string, string | undefined>, flags: ListWindowFlags) {
  return Object.fromEntries(
    Object.entries({
      ...filters,
      since: flags.since,
      until: flags.until,
      limit: flags.limit,
      nextToken: flags.nextToken,
    }).filter(([, value]) => value !== undefined),
  ) as Record<string, string>;
}

/** What follows a page: the command that reads the next one, when there is one. */
export function nextPageHint(
  command: string,
  query: Record<string, string>,
  nextToken: string | undefined,
): string {
  if (nextToken === undefined) return '';
  const flags = Object.entries(query)
    .filter(([name]) => name !== 'nextToken')
    .map(([name, value]) => `--${kebab(name)} ${value}`);
  return `\nMore: ${[command, ...flags, '--next-token', nextToken].join(' ')}`;
}

/** A query field as its flag names it: `workflowId` is `workflow-id`. */
export function kebab(field: string): string {
  return field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** A list command's page: where it is read, what its rows are under, how they are shown. */
export interface PageSpec<K extends string, T> {
  path: string;
  key: K;
  /** The query's schema, checked before sending so flags are named in the error. */
  schema: z.ZodType;
  columns: readonly Column<T>[];
  /** The command, as the hint for the next page writes it. */
  command: string;
  empty: string;
}

/** Checks a list's query, reads one page and prints it as a table, with the command for the next page. */
export async function showPage<K extends string, T>(
  ctx: ActionContext,
  spec: PageSpec<K, T>,
  query: Record<string, string>,
): Promise<void> {
  validate(spec.schema, query, (field) => `--${kebab(field)}`, ctx.hint);
  await ctx.show<Record<K, T[]> & { nextToken?: string }>(
    'GET',
    spec.path,
    (body) =>
      (body[spec.key].length === 0 ? spec.empty : formatTable(body[spec.key], spec.columns, ctx.style)) +
      nextPageHint(spec.command, query, body.nextToken),
    { query },
  );
}

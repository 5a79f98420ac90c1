import type { Command } from 'commander';

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

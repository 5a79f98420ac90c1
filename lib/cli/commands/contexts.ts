import { type Command, Option } from 'commander';
import type { Context } from '../../core/memory.ts';
import { paths, schemas } from '../../handler/api-schemas.ts';
import { apiPath } from '../client.ts';
import { formatFields, type Style } from '../format.ts';
import {
  type ActionContext,
  action,
  addGlobalOptions,
  type CliState,
  parseNumber,
  parsePairs,
  readJsonObject,
  usageHint,
  validate,
} from './common.ts';

/** A context: its fields, then its data as JSON. */
export function formatContext(context: Context, style: Style): string {
  return [
    formatFields(
      [
        ['Context', context.id],
        ['Version', context.version],
        ['Created', context.createdAt],
        ['Updated', context.updatedAt],
        ['Expires', context.expiresAt ?? 'never'],
      ],
      style,
    ),
    `${style.paint('Data', 'muted')}\n${JSON.stringify(context.data, null, 2)}`,
  ].join('\n\n');
}

/** Registers `contexts create` and `contexts get`. */
export function registerContextCommands(program: Command, state: CliState): void {
  const contexts = program.command('contexts').description('named contexts shared by related tasks');

  addGlobalOptions(
    contexts
      .command('create')
      .description('create a context (refused if the id exists)')
      .argument('<id>', 'context id, used with `task submit --context`')
      .addOption(new Option('--data <file.json>', 'the data, a JSON object').conflicts('set'))
      .addOption(
        new Option(
          '--set <key=value...>',
          'one data field; key:=json for a JSON value (repeatable)',
        ).conflicts('data'),
      )
      .option('--ttl <seconds>', 'expire after this many seconds (at most 366 days)'),
  ).action(
    action(
      state,
      async (ctx: ActionContext, id: string, flags: { data?: string; set?: string[]; ttl?: string }) => {
        const hint = usageHint('contexts create');
        const input = {
          id,
          data:
            flags.data !== undefined
              ? readJsonObject(ctx.io, '--data', flags.data)
              : parsePairs('--set', flags.set ?? [], { json: true }),
          ttlSeconds: parseNumber('--ttl', flags.ttl, { integer: true }),
        };
        const labels: Record<string, string> = {
          id: 'ID',
          data: flags.data === undefined ? '--set' : '--data',
          ttlSeconds: '--ttl',
        };
        validate(schemas.createContext, input, (field) => labels[field] ?? field, hint);
        const { body } = await ctx.client.request<Context>('POST', '/contexts', { body: input });
        ctx.result(body, () => formatContext(body, ctx.style));
      },
      {
        flags: { id: 'ID', ttlSeconds: '--ttl', data: '--data' },
        conflictHint:
          'A context with this id exists: choose another id, or read it with `vobee contexts get`.',
      },
    ),
  );

  addGlobalOptions(
    contexts.command('get').description('show a context').argument('<id>', 'context id'),
  ).action(
    action(
      state,
      async (ctx: ActionContext, id: string) => {
        validate(paths.contextId, { contextId: id }, () => 'ID', usageHint('contexts get'));
        const { body } = await ctx.client.request<Context>('GET', apiPath('contexts', id));
        ctx.result(body, () => formatContext(body, ctx.style));
      },
      { notFoundHint: 'Check the id; a context created with --ttl is gone once it expires.' },
    ),
  );
}

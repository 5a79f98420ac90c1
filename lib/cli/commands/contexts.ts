import { type Command, Option } from 'commander';
import type { Context } from '../../core/memory.ts';
import { paths, schemas } from '../../handler/api-schemas.ts';
import { apiPath } from '../client.ts';
import { formatFields, type Style } from '../format.ts';
import {
  addCommand,
  type CliState,
  flagLabel,
  parseNumber,
  parsePairs,
  readJsonObject,
  subject,
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

  addCommand(contexts, state, {
    name: 'create',
    description: 'create a context (refused if the id exists)',
    setup: (c) =>
      c
        .argument('<id>', 'context id, used with `task submit --context`')
        .addOption(new Option('--data <file.json>', 'the data, a JSON object').conflicts('set'))
        .addOption(
          new Option(
            '--set <key=value...>',
            'one data field; key:=json for a JSON value (repeatable)',
          ).conflicts('data'),
        )
        .option('--ttl <seconds>', 'expire after this many seconds (at most 366 days)'),
    run: async (ctx, id: string, flags: { data?: string; set?: string[]; ttl?: string }) => {
      const input = {
        id,
        data:
          flags.data !== undefined
            ? readJsonObject(ctx.io, '--data', flags.data)
            : parsePairs('--set', flags.set ?? [], { json: true }),
        ttlSeconds: parseNumber('--ttl', flags.ttl, { integer: true }),
      };
      const labels = { id: 'ID', data: flags.data === undefined ? '--set' : '--data', ttlSeconds: '--ttl' };
      validate(schemas.createContext, input, flagLabel(labels), ctx.hint);
      await ctx.show<Context>('POST', '/contexts', (body) => formatContext(body, ctx.style), { body: input });
    },
    errors: {
      flags: { id: 'ID', ttlSeconds: '--ttl', data: '--data' },
      conflictHint: 'A context with this id exists: choose another id, or read it with `vobee contexts get`.',
    },
  });

  addCommand(contexts, state, {
    name: 'get',
    description: 'show a context',
    subject: subject(
      '<id>',
      'context id',
      paths.contextId,
      'contextId',
      'Check the id; a context created with --ttl is gone once it expires.',
    ),
    run: async (ctx, id: string) => {
      await ctx.show<Context>('GET', apiPath('contexts', id), (body) => formatContext(body, ctx.style));
    },
  });
}

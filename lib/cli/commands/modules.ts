import { type Command, Option } from 'commander';
import type { Module } from '../../core/modules.ts';
import { paths, queries } from '../../handler/api-schemas.ts';
import { apiPath } from '../client.ts';
import { type Column, formatFields, formatTable, healthTone, type Style } from '../format.ts';
import {
  type ActionContext,
  action,
  addGlobalOptions,
  type CliState,
  usageHint,
  validate,
} from './common.ts';

const NOT_FOUND = 'See the registered modules with: vobee modules list';

const MODULE_COLUMNS: Column<Module>[] = [
  { header: 'NAME', value: (m) => m.name },
  { header: 'CATEGORY', value: (m) => m.category },
  { header: 'ENABLED', value: (m) => m.enabled, tone: (m) => (m.enabled ? undefined : 'muted') },
  { header: 'HEALTH', value: (m) => m.health, tone: (m) => healthTone(m.health) },
  { header: 'DEPENDENCIES', value: (m) => m.dependencies.join(', ') },
];

/** Modules as a table: NAME, CATEGORY, ENABLED, HEALTH, DEPENDENCIES. */
export function formatModules(modules: readonly Module[], style: Style): string {
  return formatTable(modules, MODULE_COLUMNS, style);
}

/** Registers the `modules` commands. */
export function registerModuleCommands(program: Command, state: CliState): void {
  const modules = program
    .command('modules')
    .description('enable and disable modules, respecting dependencies');

  addGlobalOptions(
    modules
      .command('list')
      .description('list modules, by name')
      .option('--category <category>', 'only modules of this category')
      .addOption(new Option('--enabled', 'only enabled modules').conflicts('disabled'))
      .addOption(new Option('--disabled', 'only disabled modules').conflicts('enabled')),
  ).action(
    action(
      state,
      async (ctx: ActionContext, flags: { category?: string; enabled?: boolean; disabled?: boolean }) => {
        const query = {
          category: flags.category,
          enabled: flags.enabled ? 'true' : flags.disabled ? 'false' : undefined,
        };
        validate(queries.listModules, query, (field) => `--${field}`, usageHint('modules list'));
        const { body } = await ctx.client.request<{ modules: Module[] }>('GET', '/modules', { query });
        ctx.result(body, () =>
          body.modules.length === 0 ? 'No modules match.' : formatModules(body.modules, ctx.style),
        );
      },
    ),
  );

  for (const enable of [true, false]) {
    const verb = enable ? 'enable' : 'disable';
    addGlobalOptions(
      modules
        .command(verb)
        .description(
          enable
            ? 'enable a module (its dependencies must be enabled)'
            : 'disable a module (no enabled module may need it)',
        )
        .argument('<name>', 'module name'),
    ).action(
      action(
        state,
        async (ctx: ActionContext, name: string) => {
          validate(paths.name, { name }, () => 'NAME', usageHint(`modules ${verb}`));
          const { body } = await ctx.client.request<Module>('POST', apiPath('modules', name, verb));
          ctx.result(body, () => `Module ${body.name} is ${body.enabled ? 'enabled' : 'disabled'}.`);
        },
        {
          notFoundHint: NOT_FOUND,
          conflictHint: enable
            ? 'Enable its dependencies first (vobee modules enable NAME).'
            : 'Disable the modules that require it first, then retry.',
        },
      ),
    );
  }

  addGlobalOptions(
    modules.command('health').description('totals of modules, enabled, and health of the enabled ones'),
  ).action(
    action(state, async (ctx: ActionContext) => {
      const { body } = await ctx.client.request<{
        totalModules: number;
        enabled: number;
        disabled: number;
        healthy: number;
        degraded: number;
        unhealthy: number;
      }>('GET', '/modules/health');
      ctx.result(body, () =>
        formatFields(
          [
            ['Modules', body.totalModules],
            ['Enabled', body.enabled],
            ['Disabled', body.disabled],
            ['Healthy', body.healthy, body.healthy > 0 ? 'good' : undefined],
            ['Degraded', body.degraded, body.degraded > 0 ? 'warn' : undefined],
            ['Unhealthy', body.unhealthy, body.unhealthy > 0 ? 'bad' : undefined],
          ],
          ctx.style,
        ),
      );
    }),
  );
}

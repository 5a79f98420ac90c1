import { type Command, Option } from 'commander';
import type { Module, ModuleHealthSummary } from '../../core/modules.ts';
import { paths, queries } from '../../handler/api-schemas.ts';
import { apiPath } from '../client.ts';
import { type Column, formatFields, formatTable, healthTone, type Style } from '../format.ts';
import { addCommand, addReadCommand, type CliState, subject, validate } from './common.ts';

const MODULE = subject(
  '<name>',
  'module name',
  paths.name,
  'name',
  'See the registered modules with: vobee modules list',
);

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

  addCommand(modules, state, {
    name: 'list',
    description: 'list modules, by name',
    setup: (c) =>
      c
        .option('--category <category>', 'only modules of this category')
        .addOption(new Option('--enabled', 'only enabled modules').conflicts('disabled'))
        .addOption(new Option('--disabled', 'only disabled modules').conflicts('enabled')),
    run: async (ctx, flags: { category?: string; enabled?: boolean; disabled?: boolean }) => {
      const query = {
        category: flags.category,
        enabled: flags.enabled ? 'true' : flags.disabled ? 'false' : undefined,
      };
      validate(queries.listModules, query, (field) => `--${field}`, ctx.hint);
      await ctx.show<{ modules: Module[] }>(
        'GET',
        '/modules',
        (body) => (body.modules.length === 0 ? 'No modules match.' : formatModules(body.modules, ctx.style)),
        { query },
      );
    },
  });

  for (const enable of [true, false]) {
    const verb = enable ? 'enable' : 'disable';
    addCommand(modules, state, {
      name: verb,
      description: enable
        ? 'enable a module (its dependencies must be enabled)'
        : 'disable a module (no enabled module may need it)',
      subject: MODULE,
      run: async (ctx, name: string) => {
        await ctx.show<Module>(
          'POST',
          apiPath('modules', name, verb),
          (body) => `Module ${body.name} is ${body.enabled ? 'enabled' : 'disabled'}.`,
        );
      },
      errors: {
        conflictHint: enable
          ? 'Enable its dependencies first (vobee modules enable NAME).'
          : 'Disable the modules that require it first, then retry.',
      },
    });
  }

  addReadCommand<ModuleHealthSummary>(modules, state, {
    name: 'health',
    description: 'totals of modules, enabled, and health of the enabled ones',
    path: '/modules/health',
    show: (body, style) =>
      formatFields(
        [
          ['Modules', body.totalModules],
          ['Enabled', body.enabled],
          ['Disabled', body.disabled],
          ['Healthy', body.healthy, body.healthy > 0 ? 'good' : undefined],
          ['Degraded', body.degraded, body.degraded > 0 ? 'warn' : undefined],
          ['Unhealthy', body.unhealthy, body.unhealthy > 0 ? 'bad' : undefined],
        ],
        style,
      ),
  });
}

import type { Command } from 'commander';
import type { Service } from '../../core/service.ts';
import { paths, schemas } from '../../handler/api-schemas.ts';
import { apiPath } from '../client.ts';
import { type Column, type Field, formatFields, formatTable, healthTone, type Style } from '../format.ts';
import {
  type ActionContext,
  action,
  addGlobalOptions,
  type CliState,
  flagLabel,
  list,
  parseNumber,
  usageHint,
  validate,
} from './common.ts';

const REGISTER_FLAGS: Record<string, string> = {
  name: '--name',
  endpoint: '--endpoint',
  capabilities: '--capability',
  factoryType: '--factory-type',
  weight: '--weight',
};
const NOT_FOUND = 'See the registered services with: vobee services list';

const SERVICE_COLUMNS: Column<Service>[] = [
  { header: 'NAME', value: (s) => s.name },
  { header: 'HEALTH', value: (s) => s.health, tone: (s) => healthTone(s.health) },
  { header: 'ENABLED', value: (s) => s.enabled, tone: (s) => (s.enabled ? undefined : 'muted') },
  { header: 'LOAD', value: (s) => s.load, align: 'right' },
  { header: 'WEIGHT', value: (s) => s.weight, align: 'right' },
  { header: 'CAPABILITIES', value: (s) => s.capabilities.join(', ') },
];

/** Services as a table: NAME, HEALTH, ENABLED, LOAD, WEIGHT, CAPABILITIES. */
export function formatServices(services: readonly Service[], style: Style): string {
  return formatTable(services, SERVICE_COLUMNS, style);
}

/** Registers the `services` commands. */
export function registerServiceCommands(program: Command, state: CliState): void {
  const services = program.command('services').description('register factory services and manage them');

  addGlobalOptions(
    services.command('list').description('list registered services with health and load'),
  ).action(
    action(state, async (ctx: ActionContext) => {
      const { body } = await ctx.client.request<{ services: Service[] }>('GET', '/services');
      ctx.result(body, () =>
        body.services.length === 0
          ? 'No services registered. Add one with: vobee services register --name N --endpoint URL --capability C'
          : formatServices(body.services, ctx.style),
      );
    }),
  );

  // `--endpoint` here is the service's own URL; the API endpoint goes before the command.
  addGlobalOptions(
    services
      .command('register')
      .description('register a factory service (POST /services)')
      .requiredOption('--name <name>', 'service name')
      .requiredOption('--endpoint <url>', "the service's base URL (it answers POST /execute)")
      .requiredOption(
        '--capability <capability...>',
        'task type or action it handles (repeatable, or comma-separated)',
      )
      .option('--factory-type <type>', 'factory family, e.g. media')
      .option('--weight <weight>', 'share for weighted routing, 0 to 1000 (default 1)')
      .addHelpText(
        'after',
        '\nThe API endpoint goes before the command here: vobee --endpoint URL services register ..., or VOBEE_ENDPOINT.',
      ),
    { endpoint: false },
  ).action(
    action(
      state,
      async (
        ctx: ActionContext,
        flags: {
          name: string;
          endpoint: string;
          capability: string[];
          factoryType?: string;
          weight?: string;
        },
      ) => {
        const input = {
          name: flags.name,
          endpoint: flags.endpoint,
          capabilities: list(flags.capability, { commas: true }),
          factoryType: flags.factoryType,
          weight: parseNumber('--weight', flags.weight),
        };
        validate(schemas.registerService, input, flagLabel(REGISTER_FLAGS), usageHint('services register'));
        const { body } = await ctx.client.request<Service>('POST', '/services', { body: input });
        ctx.result(body, () => `Registered service ${body.name}\n\n${formatServices([body], ctx.style)}`);
      },
      {
        flags: REGISTER_FLAGS,
        conflictHint: 'That name is taken: choose another --name, or see it with `vobee services list`.',
      },
    ),
  );

  addGlobalOptions(
    services
      .command('health')
      .description('set the health of a service')
      .argument('<name>', 'service name')
      .argument('<state>', 'healthy, degraded or unhealthy')
      .option('--reason <text>', 'why, kept with the service'),
  ).action(
    action(
      state,
      async (ctx: ActionContext, name: string, health: string, flags: { reason?: string }) => {
        const hint = usageHint('services health');
        validate(paths.name, { name }, () => 'NAME', hint);
        const input = { health, reason: flags.reason };
        validate(schemas.setHealth, input, flagLabel({ health: 'STATE', reason: '--reason' }), hint);
        const { body } = await ctx.client.request<Service>('PUT', apiPath('services', name, 'health'), {
          body: input,
        });
        ctx.result(body, () => formatServices([body], ctx.style));
      },
      { flags: { health: 'STATE', reason: '--reason' }, notFoundHint: NOT_FOUND },
    ),
  );

  for (const enabled of [true, false]) {
    const verb = enabled ? 'enable' : 'disable';
    addGlobalOptions(
      services
        .command(verb)
        .description(enabled ? 'let the router send work to a service' : 'stop routing work to a service')
        .argument('<name>', 'service name'),
    ).action(
      action(
        state,
        async (ctx: ActionContext, name: string) => {
          validate(paths.name, { name }, () => 'NAME', usageHint(`services ${verb}`));
          const { body } = await ctx.client.request<Service>('PATCH', apiPath('services', name), {
            body: { enabled },
          });
          ctx.result(body, () => formatServices([body], ctx.style));
        },
        { notFoundHint: NOT_FOUND },
      ),
    );
  }

  addGlobalOptions(
    services
      .command('status')
      .description('ask a service for its own status (GET {endpoint}/status)')
      .argument('<name>', 'service name'),
  ).action(
    action(
      state,
      async (ctx: ActionContext, name: string) => {
        validate(paths.name, { name }, () => 'NAME', usageHint('services status'));
        const { body } = await ctx.client.request<{ service: string; status: unknown }>(
          'GET',
          apiPath('services', name, 'status'),
        );
        ctx.result(body, () =>
          formatFields([['Service', body.service], ...reportedFields(body.status)], ctx.style),
        );
      },
      { notFoundHint: NOT_FOUND },
    ),
  );

  addGlobalOptions(
    services
      .command('capabilities')
      .description('registered capabilities, and what the service itself reports')
      .argument('<name>', 'service name'),
  ).action(
    action(
      state,
      async (ctx: ActionContext, name: string) => {
        validate(paths.name, { name }, () => 'NAME', usageHint('services capabilities'));
        const { body } = await ctx.client.request<{
          service: string;
          registered: string[];
          reported: unknown;
        }>('GET', apiPath('services', name, 'capabilities'));
        ctx.result(body, () =>
          formatFields(
            [
              ['Service', body.service],
              ['Registered', body.registered.join(', ')],
              ...reportedFields(body.reported).map(
                ([label, value, tone]): Field => [`Reported ${label}`, value, tone],
              ),
            ],
            ctx.style,
          ),
        );
      },
      { notFoundHint: NOT_FOUND },
    ),
  );
}

/**
 * What a factory says about itself is the factory's own shape: shown field by field, lists
 * joined, nested values as JSON. A factory that did not answer is said so plainly.
 */
export function reportedFields(reported: unknown): Field[] {
  if (typeof reported !== 'object' || reported === null || Array.isArray(reported)) {
    return [['answer', JSON.stringify(reported)]];
  }
  const r = reported as Record<string, unknown>;
  if (r.reachable === false) {
    return [['reachable', `no${typeof r.error === 'string' ? ` (${r.error})` : ''}`, 'bad']];
  }
  return Object.entries(r).map(([key, value]): Field => {
    if (Array.isArray(value) && value.every((v) => typeof v !== 'object')) return [key, value.join(', ')];
    if (typeof value === 'object' && value !== null) return [key, JSON.stringify(value)];
    if (key === 'status' && typeof value === 'string') return [key, value, healthTone(value)];
    return [key, value as string | number | boolean | undefined];
  });
}

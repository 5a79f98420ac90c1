import type { Command } from 'commander';
import type { Service } from '../../core/service.ts';
import { paths, schemas } from '../../handler/api-schemas.ts';
import type { Answer } from '../api-calls.ts';
import { apiPath } from '../client.ts';
import { type Column, type Field, formatFields, formatTable, healthTone, type Style } from '../format.ts';
import {
  type ActionContext,
  addCommand,
  addReadCommand,
  type CliState,
  flagLabel,
  list,
  parseNumber,
  subject,
  validate,
} from './common.ts';

const NOT_FOUND = 'See the registered services with: vobee services list';
const REGISTER_FLAGS: Record<string, string> = {
  name: '--name',
  endpoint: '--endpoint',
  capabilities: '--capability',
  factoryType: '--factory-type',
  weight: '--weight',
};
const SERVICE = subject('<name>', 'service name', paths.name, 'name', NOT_FOUND);

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

/** `GET /services/{name}/status`: the service, and what its factory says of its own status. */
export interface ServiceStatus {
  service: string;
  status: unknown;
}

/** `GET /services/{name}/capabilities`: what is registered, and what the factory itself reports. */
export interface ServiceCapabilities {
  service: string;
  registered: Service['capabilities'];
  reported: unknown;
}

/** Registers the `services` commands. */
export function registerServiceCommands(program: Command, state: CliState): void {
  const services = program.command('services').description('register factory services and manage them');
  addReadCommand<Answer<'listServices'>>(services, state, {
    name: 'list',
    description: 'list registered services with health and load',
    path: '/services',
    show: (body, style) =>
      body.services.length === 0
        ? 'No services registered. Add one with: vobee services register --name N --endpoint URL --capability C'
        : formatServices(body.services, style),
  });

  // `--endpoint` here is the service's own URL; the API endpoint goes before the command.
  addCommand(services, state, {
    name: 'register',
    description: 'register a factory service (POST /services)',
    endpoint: false,
    setup: (c) =>
      c
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
    run: async (
      ctx,
      flags: { name: string; endpoint: string; capability: string[]; factoryType?: string; weight?: string },
    ) => {
      const input = {
        name: flags.name,
        endpoint: flags.endpoint,
        capabilities: list(flags.capability, { commas: true }),
        factoryType: flags.factoryType,
        weight: parseNumber('--weight', flags.weight),
      };
      validate(schemas.registerService, input, flagLabel(REGISTER_FLAGS), ctx.hint);
      await ctx.show<Service>(
        'POST',
        '/services',
        (body) => `Registered service ${body.name}\n\n${showService(ctx)(body)}`,
        { body: input },
      );
    },
    errors: {
      flags: REGISTER_FLAGS,
      conflictHint: 'That name is taken: choose another --name, or see it with `vobee services list`.',
    },
  });

  const healthFlags = { health: 'STATE', reason: '--reason' };
  addCommand(services, state, {
    name: 'health',
    description: 'set the health of a service',
    subject: SERVICE,
    setup: (c) =>
      c
        .argument('<state>', 'healthy, degraded or unhealthy')
        .option('--reason <text>', 'why, kept with the service'),
    run: async (ctx, name: string, health: string, flags: { reason?: string }) => {
      const input = { health, reason: flags.reason };
      validate(schemas.setHealth, input, flagLabel(healthFlags), ctx.hint);
      await ctx.show<Service>('PUT', apiPath('services', name, 'health'), showService(ctx), { body: input });
    },
    errors: { flags: healthFlags },
  });

  for (const enabled of [true, false]) {
    addCommand(services, state, {
      name: enabled ? 'enable' : 'disable',
      description: enabled ? 'let the router send work to a service' : 'stop routing work to a service',
      subject: SERVICE,
      run: async (ctx, name: string) => {
        await ctx.show<Service>('PATCH', apiPath('services', name), showService(ctx), { body: { enabled } });
      },
    });
  }

  addCommand(services, state, {
    name: 'status',
    description: 'ask a service for its own status (GET {endpoint}/status)',
    subject: SERVICE,
    run: async (ctx, name: string) => {
      await ctx.show<ServiceStatus>('GET', apiPath('services', name, 'status'), (body) =>
        formatFields([['Service', body.service], ...reportedFields(body.status)], ctx.style),
      );
    },
  });

  addCommand(services, state, {
    name: 'capabilities',
    description: 'registered capabilities, and what the service itself reports',
    subject: SERVICE,
    run: async (ctx, name: string) => {
      await ctx.show<ServiceCapabilities>('GET', apiPath('services', name, 'capabilities'), (body) =>
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
  });
}

/** A service answer shown as a one-row table. */
const showService = (ctx: ActionContext) => (service: Service) => formatServices([service], ctx.style);

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

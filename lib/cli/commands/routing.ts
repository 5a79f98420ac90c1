import type { Command } from 'commander';
import type { RoutingPolicy } from '../../core/routing/policy.ts';
import type { RoutingStats } from '../../core/routing/router.ts';
import { paths, schemas } from '../../handler/api-schemas.ts';
import { type Answer, api } from '../api-calls.ts';
import { formatTable, percent, type Style } from '../format.ts';
import {
  type ActionContext,
  addCommand,
  addReadCommand,
  type CliState,
  flagLabel,
  readJsonObject,
  subject,
  UsageError,
  validate,
} from './common.ts';

/** Total routes, then the share of each service and of each strategy, largest first. */
export function formatRoutingStats(stats: RoutingStats, style: Style): string {
  const distribution = (header: string, counts: Record<string, number>) => {
    const rows = Object.entries(counts).sort(([a, x], [b, y]) => y - x || a.localeCompare(b));
    if (rows.length === 0) return `No routes by ${header.toLowerCase()} yet.`;
    return formatTable(
      rows,
      [
        { header, value: ([name]) => name },
        { header: 'ROUTES', value: ([, n]) => n, align: 'right' },
        { header: 'SHARE', value: ([, n]) => percent(n, stats.totalRoutes), align: 'right' },
      ],
      style,
    );
  };
  return [
    `Total routes: ${stats.totalRoutes}`,
    distribution('SERVICE', stats.serviceDistribution),
    distribution('STRATEGY', stats.strategyDistribution),
  ].join('\n\n');
}

/** A policy in a few lines: strategy, rules, retries, exploration, cost and limits. */
export function formatPolicy(policy: RoutingPolicy): string {
  const retry = (p: RoutingPolicy['retry']['default']) =>
    `${p.backoff}, ${p.maxRetries} retries, ${p.timeoutSeconds} s per attempt`;
  const lines = [
    `Default strategy: ${policy.defaultStrategy}`,
    `Default target: ${policy.defaultTarget ?? '(none)'}`,
    `Rules: ${policy.rules.length === 0 ? '(none)' : ''}`,
    ...[...policy.rules]
      .sort((a, b) => b.priority - a.priority)
      .map((r) => `  [${r.priority}] ${r.id}: ${r.name} -> ${r.target}`),
    `Retry: ${retry(policy.retry.default)}`,
    ...Object.entries(policy.retry.byTaskType).map(([type, p]) => `  type ${type}: ${retry(p)}`),
    ...Object.entries(policy.retry.byService).map(([service, p]) => `  service ${service}: ${retry(p)}`),
    `Exploration: ${policy.exploration.enabled ? 'on' : 'off'}, contextual ${policy.exploration.contextual ? 'on' : 'off'}`,
    `Cost: weight ${policy.costWeight} per USD, cost strategy asks success >= ${policy.costMinSuccess}`,
    `Limits: ${Object.keys(policy.limits).length === 0 ? '(none)' : ''}`,
    ...Object.entries(policy.limits).map(
      ([service, l]) =>
        `  ${service}: ${[l.maxInFlight && `${l.maxInFlight} in flight`, l.callsPerMinute && `${l.callsPerMinute}/min`].filter(Boolean).join(', ')}`,
    ),
  ];
  return lines.join('\n');
}

function formatActive(active: Answer<'activePolicy'>): string {
  const since = active.activatedAt ? ` since ${active.activatedAt} (by ${active.activatedBy})` : '';
  return `Active policy: version ${active.version} (${active.source})${since}\n${formatPolicy(active.policy)}`;
}

function formatHistory(list: Answer<'listPolicies'>, style: Style): string {
  if (list.versions.length === 0)
    return `No stored policy versions: the built-in policy (version 0) is in force.`;
  return formatTable(
    list.versions,
    [
      { header: 'VERSION', value: (v) => `${v.version}${v.active ? ' *' : ''}`, align: 'right' },
      { header: 'CREATED', value: (v) => v.createdAt },
      { header: 'BY', value: (v) => v.createdBy },
      { header: 'STRATEGY', value: (v) => v.policy.defaultStrategy },
      { header: 'LAST ACTIVE', value: (v) => v.activations.at(-1)?.at ?? 'never' },
      { header: 'REASON', value: (v) => v.reason ?? (v.suggestionId ? `suggestion ${v.suggestionId}` : '') },
    ],
    style,
  );
}

const VERSION = subject(
  '<version>',
  'policy version number (0: the built-in policy)',
  paths.policyVersion,
  'version',
  'list them with: vobee routing policy history',
);

/** Who makes a change: `--by`, else the user running the command. */
function author(ctx: ActionContext, flags: { by?: string; reason?: string }) {
  const changedBy = flags.by ?? ctx.io.env.USER ?? ctx.io.env.USERNAME;
  if (!changedBy) throw new UsageError('say who makes the change with --by NAME', ctx.hint);
  return { changedBy, ...(flags.reason === undefined ? {} : { reason: flags.reason }) };
}

const pct = (x: number | null | undefined) =>
  x === null || x === undefined ? 'n/a' : `${(x * 100).toFixed(1)}%`;
const usd = (x: number | null | undefined) => (x === null || x === undefined ? 'n/a' : `$${x.toFixed(4)}`);

/** A replay next to what the recorded decisions achieved under the policies in force. */
export function formatReplay(report: Answer<'replay'>, active: Answer<'activePolicy'>): string {
  const e = report.estimate;
  const target = report.target.inline ? 'the given policy' : `version ${report.target.version}`;
  const lines = [
    `Replay of ${target} on ${e.decisions} recorded decisions (${report.window.since} to ${report.window.until}${report.truncated ? ', newest only' : ''}), ${report.estimator.toUpperCase()}:`,
    `  success   ${pct(e.successRate?.estimate)} (95% CI ${pct(e.successRate?.low)} to ${pct(e.successRate?.high)})   recorded ${pct(e.logged.successRate)}`,
    `  cost      ${usd(e.meanCostUsd?.estimate)} per call   recorded ${usd(e.logged.meanCostUsd)}`,
    `  p95       ${e.p95LatencyMs === null ? 'n/a' : `${Math.round(e.p95LatencyMs)} ms`}   recorded ${e.logged.p95LatencyMs === null ? 'n/a' : `${Math.round(e.logged.p95LatencyMs)} ms`}`,
    `  evidence  ${e.overlapping} decisions agree with it, effective sample size ${e.effectiveSampleSize.toFixed(1)}`,
    `  by estimator: ${Object.entries(report.byEstimator)
      .map(([k, v]) => `${k} ${pct(v)}`)
      .join(', ')}`,
    `Active policy: version ${active.version} (${active.source}).`,
  ];
  if (!e.supported) lines.push(`Not enough evidence: ${e.reason ?? 'the data cannot support an estimate'}.`);
  return lines.join('\n');
}

/** Registers `routing stats`, `routing replay` and `routing policy show|set|activate|history`. */
export function registerRoutingCommands(program: Command, state: CliState): void {
  const routing = program
    .command('routing')
    .description('how tasks are routed, and the policy that routes them');
  addReadCommand<RoutingStats>(routing, state, {
    name: 'stats',
    description: 'routes in total, per service and per strategy',
    path: '/routing/stats',
    show: formatRoutingStats,
  });
  addCommand<[{ version?: string; file?: string; since?: string; until?: string; estimator?: string }]>(
    routing,
    state,
    {
      name: 'replay',
      description: 'estimate what a policy would have achieved on recorded decisions, next to the active one',
      setup: (c) =>
        c
          .option('--version <n>', 'a stored policy version')
          .option('--file <file>', 'a policy as JSON')
          .option('--since <time>', 'oldest decision (ISO 8601; default: 7 days before --until)')
          .option('--until <time>', 'newest decision (ISO 8601; default: now)')
          .option('--estimator <name>', 'dr (default), snips or ips'),
      run: async (ctx, flags) => {
        if ((flags.version === undefined) === (flags.file === undefined))
          throw new UsageError('give either --version N or --file POLICY.json', ctx.hint);
        if (flags.version !== undefined) VERSION.check(flags.version, ctx.hint);
        const body = {
          ...(flags.version === undefined ? {} : { version: Number(flags.version) }),
          ...(flags.file === undefined ? {} : { policy: readJsonObject(ctx.io, '--file', flags.file) }),
          ...(flags.since === undefined ? {} : { since: flags.since }),
          ...(flags.until === undefined ? {} : { until: flags.until }),
          ...(flags.estimator === undefined ? {} : { estimator: flags.estimator }),
        };
        validate(
          schemas.replay,
          body,
          flagLabel(
            { version: '--version', since: '--since', until: '--until', estimator: '--estimator' },
            (f) => (f === 'policy' ? `${flags.file}:` : f),
          ),
          ctx.hint,
        );
        const [report, active] = await Promise.all([
          ctx.client.call(api.replay(body)),
          ctx.client.call(api.activePolicy()),
        ]);
        ctx.result(report.body, () => formatReplay(report.body, active.body));
      },
    },
  );
  const policy = routing.command('policy').description('the versioned routing policy');
  addCommand<[{ version?: string }]>(policy, state, {
    name: 'show',
    description: 'the policy in force, or one version with --version',
    setup: (c) => c.option('--version <n>', 'show this version instead of the active one'),
    run: async (ctx, flags) => {
      if (flags.version === undefined) {
        const active = (await ctx.client.call(api.activePolicy())).body;
        ctx.result(active, () => formatActive(active));
        return;
      }
      VERSION.check(flags.version, ctx.hint);
      const version = (await ctx.client.call(api.policyVersion(Number(flags.version)))).body;
      ctx.result(
        version,
        () =>
          `Version ${version.version}${version.active ? ' (active)' : ''}, by ${version.createdBy} at ${version.createdAt}${version.reason ? `: ${version.reason}` : ''}\n${formatPolicy(version.policy)}`,
      );
    },
  });
  addCommand<[string, { by?: string; reason?: string; activate?: boolean }]>(policy, state, {
    name: 'set',
    description: 'store a policy (a JSON file) as a new version; a draft unless --activate',
    setup: (c) =>
      c
        .argument('<file>', 'the policy as JSON (the whole policy: omitted fields take their defaults)')
        .option('--by <name>', 'who makes the change (default: $USER)')
        .option('--reason <text>', 'why')
        .option('--activate', 'make it the active version at once'),
    run: async (ctx, file, flags) => {
      const policyBody = readJsonObject(ctx.io, 'policy', file);
      const body = { policy: policyBody, ...author(ctx, flags), activate: flags.activate === true };
      validate(
        schemas.changePolicy,
        body,
        flagLabel({ changedBy: '--by', reason: '--reason' }, (field) =>
          field === 'policy' ? `${file}:` : field,
        ),
        ctx.hint,
      );
      const stored = (await ctx.client.call(api.setPolicy(body))).body;
      ctx.result(stored, () =>
        stored.active
          ? `Stored and activated routing policy version ${stored.version}.`
          : `Stored routing policy version ${stored.version} as a draft. Activate it with: vobee routing policy activate ${stored.version}`,
      );
    },
  });
  addCommand<[string, { by?: string; reason?: string }]>(policy, state, {
    name: 'activate',
    description: 'switch routing to a version (an older one rolls back)',
    subject: VERSION,
    setup: (c) =>
      c.option('--by <name>', 'who makes the change (default: $USER)').option('--reason <text>', 'why'),
    run: async (ctx, version, flags) => {
      const active = (await ctx.client.call(api.activatePolicy(Number(version), author(ctx, flags)))).body;
      ctx.result(
        active,
        () => `Routing policy version ${active.version} is active; workers switch within seconds.`,
      );
    },
  });
  addCommand<[]>(policy, state, {
    name: 'history',
    description: 'every stored version, newest first (* marks the active one)',
    run: async (ctx) => {
      const list = (await ctx.client.call(api.listPolicies())).body;
      ctx.result(list, () => formatHistory(list, ctx.style));
    },
  });
}

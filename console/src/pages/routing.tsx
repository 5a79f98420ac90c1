import { useState } from 'preact/hooks';
import { api } from '../api.ts';
import type { ActivePolicy, PolicyVersion, ReplayReport, RoutingPolicy } from '../api-types.ts';
import { ActionButton, Empty, ErrorNote, Fact, Loading, PageTitle, StatusBadge } from '../components.tsx';
import { formatDuration, formatPercent, formatTime } from '../format.ts';
import { usePoll } from '../poll.ts';

const REFRESH_MS = 10_000;

interface Policies {
  active: ActivePolicy;
  versions: PolicyVersion[];
}

/**
 * The routing policy in force, its versions (who made each and why), and a replay of any version
 * on the recorded decisions, shown next to the active one: what a person looks at before
 * activating a draft (`vobee routing policy activate`).
 */
export function RoutingPage() {
  const policies = usePoll<Policies>(
    'routing',
    async () => {
      const [active, list] = await Promise.all([
        api<ActivePolicy>('GET', '/routing/policy'),
        api<{ versions: PolicyVersion[] }>('GET', '/routing/policies'),
      ]);
      return { active, versions: list.versions };
    },
    { intervalMs: REFRESH_MS },
  );
  const [replays, setReplays] = useState<Record<number, ReplayReport | { error: unknown }>>({});
  const replay = async (version: number) => {
    try {
      const report = await api<ReplayReport>('POST', '/routing/replay', { body: { version } });
      setReplays((r) => ({ ...r, [version]: report }));
    } catch (error) {
      setReplays((r) => ({ ...r, [version]: { error } }));
    }
  };
  const active = policies.data?.active;
  const candidates = Object.keys(replays)
    .map(Number)
    .filter((v) => v !== active?.version);
  return (
    <section>
      <PageTitle title="Routing">Routing</PageTitle>
      <ErrorNote error={policies.error} prefix="Could not read the routing policy" />
      {policies.loading && !policies.data ? <Loading what="the routing policy" /> : null}
      {active ? (
        <article class="card" aria-labelledby="active-policy">
          <h2 id="active-policy">
            Active: version {active.version} <StatusBadge status="healthy" label={active.source} />
          </h2>
          <PolicyFacts policy={active.policy} />
          {active.activatedAt ? (
            <p>
              Active since {formatTime(active.activatedAt)}, by {active.activatedBy}.
            </p>
          ) : null}
        </article>
      ) : null}
      {policies.data ? (
        <>
          <h2>Versions</h2>
          {policies.data.versions.length === 0 ? (
            <Empty>
              No stored version: the built-in policy is in force. Store one with PUT /routing/policy or `npx
              vobee routing policy set`.
            </Empty>
          ) : (
            <table class="list">
              <caption class="visually-hidden">Routing policy versions, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">Version</th>
                  <th scope="col">Made</th>
                  <th scope="col">By</th>
                  <th scope="col">Why</th>
                  <th scope="col">Strategy</th>
                  <th scope="col">Replay</th>
                </tr>
              </thead>
              <tbody>
                {policies.data.versions.map((v) => (
                  <tr key={v.version} data-version={v.version}>
                    <td>
                      {v.version} {v.active ? <StatusBadge status="healthy" label="active" /> : null}
                    </td>
                    <td>{formatTime(v.createdAt)}</td>
                    <td>{v.createdBy}</td>
                    <td>{v.reason ?? (v.suggestionId ? `suggestion ${v.suggestionId}` : '—')}</td>
                    <td>{v.policy.defaultStrategy}</td>
                    <td>
                      <ActionButton
                        label="Replay"
                        hiddenContext={`version ${v.version}`}
                        busyLabel="Replaying…"
                        run={async () => {
                          await Promise.all([replay(v.version), active ? replay(active.version) : undefined]);
                        }}
                      />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      ) : null}
      {active && candidates.length > 0 ? (
        <ReplayComparison active={active.version} replays={replays} candidates={candidates} />
      ) : null}
    </section>
  );
}

function PolicyFacts({ policy }: { policy: RoutingPolicy }) {
  const limits = Object.entries(policy.limits);
  const ejected = Object.keys(policy.ejected);
  return (
    <dl class="facts">
      <Fact term="Default strategy">{policy.defaultStrategy}</Fact>
      <Fact term="Content rules">{policy.rules.length}</Fact>
      <Fact term="Default target">{policy.defaultTarget ?? '—'}</Fact>
      <Fact term="Cost weight">{policy.costWeight} per USD</Fact>
      <Fact term="Ejected">{ejected.length > 0 ? ejected.join(', ') : '—'}</Fact>
      <Fact term="Limits">
        {limits.length > 0
          ? limits
              .map(
                ([s, l]) =>
                  `${s}: ${[l.maxInFlight && `${l.maxInFlight} in flight`, l.callsPerMinute && `${l.callsPerMinute}/min`].filter(Boolean).join(', ')}`,
              )
              .join('; ')
          : '—'}
      </Fact>
    </dl>
  );
}

const pct = (x: number | null | undefined) => (x === null || x === undefined ? '—' : formatPercent(x));
const usd = (x: number | null | undefined) => (x === null || x === undefined ? '—' : `$${x.toFixed(4)}`);

/** Each replayed version beside the active one, and what the recorded decisions achieved. */
function ReplayComparison({
  active,
  replays,
  candidates,
}: {
  active: number;
  replays: Record<number, ReplayReport | { error: unknown }>;
  candidates: number[];
}) {
  const columns = [active, ...candidates];
  const first = columns
    .map((v) => replays[v])
    .find((r): r is ReplayReport => r !== undefined && !('error' in r));
  const cell = (version: number, read: (r: ReplayReport) => string) => {
    const r = replays[version];
    if (!r) return '…';
    if ('error' in r) return 'failed';
    return read(r);
  };
  return (
    <article class="card" aria-labelledby="replay-heading">
      <h2 id="replay-heading">Replay on recorded decisions</h2>
      {first ? (
        <p>
          {first.estimate.decisions} decisions from {formatTime(first.window.since)} to{' '}
          {formatTime(first.window.until)}, {first.estimator.toUpperCase()} with 95% intervals.
        </p>
      ) : null}
      <table class="list">
        <thead>
          <tr>
            <th scope="col">Figure</th>
            <th scope="col">Recorded</th>
            {columns.map((v) => (
              <th scope="col" key={v}>
                Version {v}
                {v === active ? ' (active)' : ''}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          <tr>
            <th scope="row">Success</th>
            <td>{pct(first?.estimate.logged.successRate)}</td>
            {columns.map((v) => (
              <td key={v} data-replay={v}>
                {cell(v, (r) =>
                  r.estimate.successRate
                    ? `${pct(r.estimate.successRate.estimate)} (${pct(r.estimate.successRate.low)}–${pct(r.estimate.successRate.high)})`
                    : '—',
                )}
              </td>
            ))}
          </tr>
          <tr>
            <th scope="row">Cost per call</th>
            <td>{usd(first?.estimate.logged.meanCostUsd)}</td>
            {columns.map((v) => (
              <td key={v}>{cell(v, (r) => usd(r.estimate.meanCostUsd?.estimate))}</td>
            ))}
          </tr>
          <tr>
            <th scope="row">p95 latency</th>
            <td>
              {first?.estimate.logged.p95LatencyMs == null
                ? '—'
                : formatDuration(first.estimate.logged.p95LatencyMs)}
            </td>
            {columns.map((v) => (
              <td key={v}>
                {cell(v, (r) =>
                  r.estimate.p95LatencyMs === null ? '—' : formatDuration(r.estimate.p95LatencyMs),
                )}
              </td>
            ))}
          </tr>
          <tr>
            <th scope="row">Evidence</th>
            <td>—</td>
            {columns.map((v) => (
              <td key={v}>
                {cell(
                  v,
                  (r) =>
                    `${r.estimate.overlapping} agreeing, effective sample size ${r.estimate.effectiveSampleSize.toFixed(1)}${r.estimate.supported ? '' : `: not enough (${r.estimate.reason ?? 'no support'})`}`,
                )}
              </td>
            ))}
          </tr>
        </tbody>
      </table>
      {columns.map((v) => {
        const r = replays[v];
        return r && 'error' in r ? (
          <ErrorNote key={v} error={r.error} prefix={`Replay of version ${v}`} />
        ) : null;
      })}
    </article>
  );
}

import { api, apiPath } from '../api.ts';
import type { CallAttempt, TaskRecord } from '../api-types.ts';
import { AttemptsTable } from '../attempts.tsx';
import {
  Empty,
  ErrorNote,
  Fact,
  JsonView,
  Loading,
  OutputView,
  PageTitle,
  StatusBadge,
} from '../components.tsx';
import { formatDuration, formatPercent, formatTime, timeOf } from '../format.ts';
import { usePoll } from '../poll.ts';

const FINAL = new Set(['SUCCEEDED', 'FAILED']);

/**
 * One task and its decision explained: which service was first choice and why (the brain's
 * reason, the router's strategy, rule and whether it explored), the candidates with their scores
 * and record, how sure the brain was, and the failover chain, call by call.
 */
export function TaskDetailPage({ taskId }: { taskId: string }) {
  const task = usePoll<TaskRecord>(`task:${taskId}`, () => api('GET', apiPath('tasks', taskId)), {
    live: (record) => !FINAL.has(record.status),
  });
  const record = task.data;
  if (!record) {
    return (
      <section>
        <PageTitle title={`Task ${taskId}`}>Task {taskId}</PageTitle>
        {task.error ? (
          <ErrorNote error={task.error} prefix="Could not read the task" />
        ) : (
          <Loading what="the task" />
        )}
      </section>
    );
  }
  const created = timeOf(record.createdAt);
  const ended = timeOf(record.completedAt);
  return (
    <section>
      <PageTitle title={`Task ${taskId}`}>
        Task <code>{taskId}</code>
      </PageTitle>
      <dl class="facts">
        <Fact term="Status">
          <span aria-live="polite">
            <StatusBadge status={record.status} />
          </span>
        </Fact>
        <Fact term="Type">
          {record.task.type}
          {record.task.action ? ` / ${record.task.action}` : ''}
        </Fact>
        <Fact term="Priority">
          {record.task.priority}
          {record.decision ? ` (score ${record.decision.priorityScore})` : ''}
        </Fact>
        <Fact term="Created">{formatTime(record.createdAt)}</Fact>
        <Fact term="Took">
          {created === undefined ? '—' : formatDuration((ended ?? Date.now()) - created)}
          {ended === undefined ? ' so far' : ''}
        </Fact>
        {record.waiting ? (
          <Fact term="Waiting">
            for {record.waiting.for}
            {record.waiting.service ? ` from ${record.waiting.service}` : ''} until{' '}
            {formatTime(record.waiting.until)}
          </Fact>
        ) : null}
        {record.error ? (
          <Fact term="Error" wide>
            <span class="error-text">
              {record.error.kind}: {record.error.message}
            </span>
          </Fact>
        ) : null}
      </dl>
      <ErrorNote error={task.error} prefix="Could not refresh the task" />
      <Explanation record={record} />
      <h2>Failover chain</h2>
      <FailoverChain record={record} />
      <h2>Parameters</h2>
      <JsonView value={record.task.parameters ?? {}} label="Parameters" open />
      <h2>Output</h2>
      {record.status === 'SUCCEEDED' ? (
        <OutputView output={record.output} />
      ) : (
        <Empty>No output: the task {record.status === 'FAILED' ? 'failed' : 'has not finished'}.</Empty>
      )}
    </section>
  );
}

/** The first choice: the service tried first, which after a failover is the first of `tried`. */
function firstChoice(record: TaskRecord): string | undefined {
  return record.route?.tried[0] ?? record.route?.primary ?? record.decision?.selectedService;
}

function Explanation({ record }: { record: TaskRecord }) {
  const { decision, route } = record;
  if (!decision && !route) {
    return (
      <>
        <h2>Why this service</h2>
        <Empty>No decision yet: the task is waiting for a worker.</Empty>
      </>
    );
  }
  const primary = firstChoice(record);
  const failedOver = (route?.tried.length ?? 0) > 0;
  const alternatives = new Map((decision?.alternatives ?? []).map((a) => [a.service, a]));
  const candidates = new Map((route?.candidates ?? []).map((c) => [c.name, c]));
  const names = [
    ...new Set([
      ...(route?.tried ?? []),
      ...(route ? [route.primary, ...route.fallbacks] : []),
      ...alternatives.keys(),
      ...candidates.keys(),
    ]),
  ];
  const roleOf = (name: string) => {
    if (name === primary) return 'first choice';
    const triedAt = route?.tried.indexOf(name) ?? -1;
    if (triedAt > 0) return `fallback ${triedAt}`;
    if (route && name === route.primary)
      return failedOver ? `fallback ${route.tried.length}` : 'first choice';
    const fallbackAt = route?.fallbacks.indexOf(name) ?? -1;
    if (fallbackAt >= 0) return `next fallback ${fallbackAt + 1}`;
    return 'not used';
  };
  return (
    <>
      <h2>Why this service</h2>
      <div class="explain">
        <p data-testid="primary-reason">
          First choice: <strong>{primary ?? 'none'}</strong>
          {route ? (
            <>
              , by the <strong>{route.strategy}</strong> routing strategy
              {route.rule ? (
                <>
                  ; the rule <strong>{route.rule.name}</strong> ({route.rule.id}, priority{' '}
                  {route.rule.priority}) fired
                </>
              ) : (
                '; no content rule fired'
              )}
              .
            </>
          ) : (
            '.'
          )}
        </p>
        {decision ? (
          <p>
            <strong>The brain:</strong> {decision.reason}.
          </p>
        ) : null}
        {route ? (
          <p>
            <strong>The router{failedOver ? ', at its last choice' : ''}:</strong> {route.reason}.
            {failedOver
              ? ' The task keeps the router’s latest choice; the first one is the head of the chain below.'
              : ''}
          </p>
        ) : null}
        <dl class="facts">
          {decision ? (
            <Fact term="Confidence">
              <meter min={0} max={1} value={decision.confidence} aria-label="Confidence" />{' '}
              {formatPercent(decision.confidence)}
            </Fact>
          ) : null}
          {route ? (
            <Fact term="Explored">
              {route.explored
                ? 'Yes: this pick was not the current best estimate; it was tried to keep learning about it'
                : 'No: the current best estimate was picked'}
            </Fact>
          ) : null}
          {route && route.retrySchedule.length > 0 ? (
            <Fact term="Retries of one service">
              wait {route.retrySchedule.map((s) => `${s} s`).join(', ')}
            </Fact>
          ) : null}
          {decision ? (
            <Fact term="Resources">
              {decision.resources.cpu} cpu, {decision.resources.memoryMb} MB,{' '}
              {decision.resources.timeoutSeconds} s budget
            </Fact>
          ) : null}
        </dl>
        <table class="list">
          <caption>Candidates and their scores</caption>
          <thead>
            <tr>
              <th scope="col">Service</th>
              <th scope="col">Role</th>
              <th scope="col">Health</th>
              <th scope="col">Load</th>
              <th scope="col">Router score</th>
              <th scope="col">Expected utility</th>
              <th scope="col">Record</th>
            </tr>
          </thead>
          <tbody>
            {names.map((name) => {
              const candidate = candidates.get(name);
              const alternative = alternatives.get(name);
              return (
                <tr key={name}>
                  <th scope="row">{name}</th>
                  <td>{roleOf(name)}</td>
                  <td>{candidate ? <StatusBadge status={candidate.health} /> : '—'}</td>
                  <td>{candidate ? candidate.load : '—'}</td>
                  <td>{candidate?.score === undefined ? '—' : round(candidate.score)}</td>
                  <td>{alternative ? round(alternative.expectedUtility) : '—'}</td>
                  <td>
                    {alternative
                      ? alternative.count === 0
                        ? 'no history'
                        : `${alternative.successes} of ${alternative.count} succeeded`
                      : '—'}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
        {failedOver ? (
          <p class="muted">
            Router scores are those of the last choice, re-scored when the service before it failed.
          </p>
        ) : null}
      </div>
    </>
  );
}

/** One line per service in the order tried: what happened there, and where the task went next. */
function chainWords(attempts: readonly CallAttempt[]): string[] {
  const services: Array<{ service: string; calls: CallAttempt[] }> = [];
  for (const attempt of attempts) {
    const last = services[services.length - 1];
    if (last && last.service === attempt.service) last.calls.push(attempt);
    else services.push({ service: attempt.service, calls: [attempt] });
  }
  return services.map(({ service, calls }, i) => {
    const final = calls[calls.length - 1] as CallAttempt;
    const tries = calls.length > 1 ? ` after ${calls.length} tries` : '';
    const outcome =
      final.outcome === 'succeeded'
        ? `succeeded${tries}`
        : final.outcome === 'waiting'
          ? `took the work and will call back${tries}`
          : `${final.error?.kind === 'rejected' ? 'refused the call' : final.error?.kind === 'timeout' ? 'timed out' : 'failed'}${tries}${final.error ? ` (${final.error.message})` : ''}`;
    const next = services[i + 1];
    return `${service} ${outcome}${next ? `; failed over to ${next.service}` : ''}`;
  });
}

function FailoverChain({ record }: { record: TaskRecord }) {
  if (record.attempts.length === 0) return <Empty>No factory call yet.</Empty>;
  const lines = chainWords(record.attempts);
  return (
    <>
      <ol class="chain" data-testid="failover-chain">
        {lines.map((line) => (
          <li key={line}>{line}</li>
        ))}
        {record.status === 'FAILED' && record.error ? (
          <li class="error-text">
            The task failed: {record.error.kind}: {record.error.message}
          </li>
        ) : null}
      </ol>
      <AttemptsTable attempts={record.attempts} caption="Every factory call, in order" />
    </>
  );
}

function round(value: number): string {
  return String(Math.round(value * 1000) / 1000);
}

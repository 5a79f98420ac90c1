import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.ts';
import {
  RUN_STATUSES,
  type RunSummary,
  TASK_STATUSES,
  type TaskSummary,
  type WorkflowHead,
} from '../api-types.ts';
import { Empty, ErrorNote, Loading, PageTitle, StatusBadge } from '../components.tsx';
import {
  formatAgo,
  formatDuration,
  formatTime,
  fromLocalInput,
  presetWindow,
  statusWords,
  timeOf,
  toLocalInput,
  WINDOW_PRESETS,
} from '../format.ts';
import { LIVE_INTERVAL_MS, usePoll } from '../poll.ts';
import { Link, navigate, type Place } from '../router.tsx';

const PAGE_SIZE = 25;

type View = 'runs' | 'tasks';

interface Filters {
  view: View;
  status: string;
  /** A workflow id (runs) or a task type (tasks). */
  subject: string;
  since: string;
  until: string;
}

function filtersOf(query: URLSearchParams): Filters {
  const view = query.get('view') === 'tasks' ? 'tasks' : 'runs';
  return {
    view,
    status: query.get('status') ?? '',
    subject: query.get(view === 'tasks' ? 'type' : 'workflowId') ?? '',
    since: query.get('since') ?? '',
    until: query.get('until') ?? '',
  };
}

/** The filters in the page's address, so a filtered list can be bookmarked, shared and gone back to. */
function hrefOf(filters: Filters): string {
  const query = new URLSearchParams();
  if (filters.view === 'tasks') query.set('view', 'tasks');
  if (filters.status) query.set('status', filters.status);
  if (filters.subject) query.set(filters.view === 'tasks' ? 'type' : 'workflowId', filters.subject);
  if (filters.since) query.set('since', filters.since);
  if (filters.until) query.set('until', filters.until);
  const text = query.toString();
  return `/runs${text ? `?${text}` : ''}`;
}

interface ListPage<T> {
  items: T[];
  nextToken?: string | undefined;
}

/**
 * Tasks and workflow runs, newest first: filtered by status, workflow or task type and time,
 * refreshed every few seconds while the tab is visible, a page at a time.
 */
export function RunsPage({ place }: { place: Place }) {
  const filters = filtersOf(place.query);
  const key = hrefOf(filters);
  // Tokens of the pages before this one; the first page has none.
  const [pages, setPages] = useState<Array<string | undefined>>([undefined]);
  useEffect(() => setPages([undefined]), [key]);
  const token = pages[pages.length - 1];
  const [workflows, setWorkflows] = useState<WorkflowHead[]>([]);
  useEffect(() => {
    api<{ workflows: WorkflowHead[] }>('GET', '/workflows').then(
      (body) => setWorkflows(body.workflows),
      () => setWorkflows([]),
    );
  }, []);

  const list = usePoll<ListPage<TaskSummary> | ListPage<RunSummary>>(`${key}#${token ?? ''}`, async () => {
    const query = {
      status: filters.status,
      since: filters.since,
      until: filters.until,
      limit: PAGE_SIZE,
      nextToken: token,
    };
    if (filters.view === 'tasks') {
      const body = await api<{ tasks: TaskSummary[]; nextToken?: string }>('GET', '/tasks', {
        query: { ...query, type: filters.subject },
      });
      return { items: body.tasks, nextToken: body.nextToken };
    }
    const body = await api<{ executions: RunSummary[]; nextToken?: string }>('GET', '/executions', {
      query: { ...query, workflowId: filters.subject },
    });
    return { items: body.executions, nextToken: body.nextToken };
  });

  // What is typed but not applied yet: the list refreshes under it without wiping it.
  const [draft, setDraft] = useState(filters);
  useEffect(() => setDraft(filtersOf(place.query)), [key]);
  const apply = (change: Partial<Filters>) => navigate(hrefOf({ ...filters, ...change }), { replace: true });
  const now = Date.now();
  const what = filters.view === 'tasks' ? 'tasks' : 'workflow runs';

  return (
    <section aria-labelledby="page-title">
      <PageTitle title="Runs">Runs</PageTitle>
      <form
        class="filters"
        aria-label={`Filter ${what}`}
        onSubmit={(event) => {
          event.preventDefault();
          apply({ subject: draft.subject.trim(), since: draft.since, until: draft.until });
        }}
      >
        <fieldset class="segmented">
          <legend>Show</legend>
          {(['runs', 'tasks'] as const).map((view) => (
            <label key={view}>
              <input
                type="radio"
                name="view"
                value={view}
                checked={filters.view === view}
                onChange={() => apply({ view, status: '', subject: '' })}
              />
              {view === 'runs' ? 'Workflow runs' : 'Tasks'}
            </label>
          ))}
        </fieldset>
        <label>
          Status
          <select
            name="status"
            value={filters.status}
            onChange={(event) => apply({ status: event.currentTarget.value })}
          >
            <option value="">Any status</option>
            {(filters.view === 'tasks' ? TASK_STATUSES : RUN_STATUSES).map((status) => (
              <option key={status} value={status}>
                {statusWords(status)}
              </option>
            ))}
          </select>
        </label>
        {filters.view === 'runs' ? (
          <label>
            Workflow
            <select
              name="subject"
              value={filters.subject}
              onChange={(event) => apply({ subject: event.currentTarget.value })}
            >
              <option value="">Any workflow</option>
              {workflows.map((w) => (
                <option key={w.workflowId} value={w.workflowId}>
                  {w.name} ({w.workflowId})
                </option>
              ))}
              {filters.subject && !workflows.some((w) => w.workflowId === filters.subject) ? (
                <option value={filters.subject}>{filters.subject}</option>
              ) : null}
            </select>
          </label>
        ) : (
          <label>
            Task type
            <input
              name="subject"
              type="text"
              value={draft.subject}
              placeholder="e.g. market_analysis"
              onInput={(event) => setDraft({ ...draft, subject: event.currentTarget.value })}
            />
          </label>
        )}
        <label>
          Since
          <input
            name="since"
            type="datetime-local"
            value={toLocalInput(draft.since)}
            onInput={(event) =>
              setDraft({ ...draft, since: fromLocalInput(event.currentTarget.value) ?? '' })
            }
          />
        </label>
        <label>
          Until
          <input
            name="until"
            type="datetime-local"
            value={toLocalInput(draft.until)}
            onInput={(event) =>
              setDraft({ ...draft, until: fromLocalInput(event.currentTarget.value) ?? '' })
            }
          />
        </label>
        <button type="submit">Apply</button>
        <fieldset class="presets">
          <legend class="visually-hidden">Time window</legend>
          {WINDOW_PRESETS.map((preset) => (
            <button
              key={preset.id}
              type="button"
              onClick={() => {
                const window = presetWindow(preset.id, Date.now());
                apply({ since: window.since, until: window.until ?? '' });
              }}
            >
              {preset.label}
            </button>
          ))}
          <button type="button" onClick={() => apply({ status: '', subject: '', since: '', until: '' })}>
            Clear filters
          </button>
        </fieldset>
      </form>

      <p class="muted" aria-live="polite">
        {describeFilters(filters)} Refreshed every {LIVE_INTERVAL_MS / 1000} s while this tab is shown.
      </p>
      <ErrorNote error={list.error} prefix={`Could not list ${what}`} />
      {list.loading && !list.data ? <Loading what={what} /> : null}
      {list.data && list.data.items.length === 0 ? (
        <Empty>
          No {what} match{pages.length > 1 ? ' on this page' : ''}.{' '}
          {filters.status || filters.subject || filters.since || filters.until
            ? 'Try a wider time window or clear the filters.'
            : filters.view === 'runs'
              ? 'Start one from the Workflows page.'
              : 'Submit one with POST /tasks or `npx vobee task submit`.'}
        </Empty>
      ) : null}
      {list.data && list.data.items.length > 0 ? (
        filters.view === 'tasks' ? (
          <TaskTable tasks={list.data.items as TaskSummary[]} now={now} />
        ) : (
          <RunTable runs={list.data.items as RunSummary[]} now={now} />
        )
      ) : null}
      <nav class="pager" aria-label="Pages">
        <button type="button" disabled={pages.length <= 1} onClick={() => setPages(pages.slice(0, -1))}>
          ← Newer
        </button>
        <span>Page {pages.length}</span>
        <button
          type="button"
          disabled={!list.data?.nextToken}
          onClick={() => list.data?.nextToken && setPages([...pages, list.data.nextToken])}
        >
          Older →
        </button>
      </nav>
    </section>
  );
}

function describeFilters(filters: Filters): string {
  const parts = [filters.view === 'tasks' ? 'Tasks' : 'Workflow runs'];
  if (filters.status) parts.push(`that are ${statusWords(filters.status)}`);
  if (filters.subject)
    parts.push(filters.view === 'tasks' ? `of type ${filters.subject}` : `of ${filters.subject}`);
  if (filters.since) parts.push(`since ${formatTime(filters.since)}`);
  if (filters.until) parts.push(`until ${formatTime(filters.until)}`);
  return `${parts.join(' ')}, newest first.`;
}

function duration(start: string | undefined, end: string | undefined, now: number): string {
  const from = timeOf(start);
  if (from === undefined) return '—';
  return formatDuration((timeOf(end) ?? now) - from);
}

function RunTable({ runs, now }: { runs: RunSummary[]; now: number }) {
  return (
    <table class="list">
      <caption class="visually-hidden">Workflow runs, newest first</caption>
      <thead>
        <tr>
          <th scope="col">Run</th>
          <th scope="col">Workflow</th>
          <th scope="col">Status</th>
          <th scope="col">Started</th>
          <th scope="col">Took</th>
          <th scope="col">Error</th>
        </tr>
      </thead>
      <tbody>
        {runs.map((run) => (
          <tr key={run.executionId} data-status={run.status}>
            <th scope="row">
              <Link to={`/runs/${encodeURIComponent(run.executionId)}`}>{run.executionId}</Link>
            </th>
            <td>
              {run.workflowId} <span class="muted">v{run.version}</span>
            </td>
            <td>
              <StatusBadge status={run.status} />
            </td>
            <td title={formatTime(run.startedAt)}>{formatAgo(run.startedAt, now)}</td>
            <td>{duration(run.startedAt, run.stoppedAt, now)}</td>
            <td class="error-text">{[run.error?.error, run.error?.cause].filter(Boolean).join(': ')}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function TaskTable({ tasks, now }: { tasks: TaskSummary[]; now: number }) {
  return (
    <table class="list">
      <caption class="visually-hidden">Tasks, newest first</caption>
      <thead>
        <tr>
          <th scope="col">Task</th>
          <th scope="col">Type</th>
          <th scope="col">Status</th>
          <th scope="col">Service</th>
          <th scope="col">Created</th>
          <th scope="col">Took</th>
          <th scope="col">Error</th>
        </tr>
      </thead>
      <tbody>
        {tasks.map((task) => (
          <tr key={task.taskId} data-status={task.status}>
            <th scope="row">
              <Link to={`/tasks/${encodeURIComponent(task.taskId)}`}>{task.taskId}</Link>
            </th>
            <td>
              {task.type}
              {task.priority ? <span class="muted"> · {task.priority}</span> : null}
            </td>
            <td>
              <StatusBadge status={task.status} />
            </td>
            <td>{task.service ?? '—'}</td>
            <td title={formatTime(task.createdAt)}>{formatAgo(task.createdAt, now)}</td>
            <td>{duration(task.createdAt, task.completedAt, now)}</td>
            <td class="error-text">{task.error ? `${task.error.kind}: ${task.error.message}` : ''}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

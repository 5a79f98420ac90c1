import { useRef, useState } from 'preact/hooks';
import { type ApiIssue, api, apiPath, describeError } from '../api.ts';
import type { RunSummary, WorkflowDetail, WorkflowHead } from '../api-types.ts';
import {
  ActionButton,
  Empty,
  ErrorNote,
  Fact,
  JsonView,
  Loading,
  PageTitle,
  StatusBadge,
} from '../components.tsx';
import { DagView } from '../dag-view.tsx';
import { formatAgo, formatTime } from '../format.ts';
import { fieldPath, locateJsonPath } from '../json-locate.ts';
import { usePoll } from '../poll.ts';
import { Link, navigate } from '../router.tsx';

const REFRESH_MS = 10_000;

/** Starts a run and opens it: the run's page shows it live. */
async function startRun(workflowId: string, input: Record<string, unknown> = {}): Promise<void> {
  const run = await api<{ executionId: string }>('POST', apiPath('workflows', workflowId, 'executions'), {
    body: { input },
  });
  navigate(`/runs/${encodeURIComponent(run.executionId)}`);
}

/** Registered workflows, a button to start each, and a form to register a template. */
export function WorkflowsPage() {
  const list = usePoll<WorkflowHead[]>(
    'workflows',
    async () => (await api<{ workflows: WorkflowHead[] }>('GET', '/workflows')).workflows,
    { intervalMs: REFRESH_MS },
  );
  const [startError, setStartError] = useState<{ workflowId: string; text: string } | undefined>();
  return (
    <section>
      <PageTitle title="Workflows">Workflows</PageTitle>
      <ErrorNote error={list.error} prefix="Could not list the workflows" />
      {list.loading && !list.data ? <Loading what="workflows" /> : null}
      {list.data?.length === 0 ? (
        <Empty>No workflow is registered yet: register a template below.</Empty>
      ) : null}
      {list.data && list.data.length > 0 ? (
        <table class="list">
          <caption class="visually-hidden">Registered workflows</caption>
          <thead>
            <tr>
              <th scope="col">Workflow</th>
              <th scope="col">Live version</th>
              <th scope="col">Latest</th>
              <th scope="col">Engine</th>
              <th scope="col">Updated</th>
              <th scope="col">
                <span class="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {list.data.map((w) => (
              <tr key={w.workflowId} data-workflow={w.workflowId}>
                <th scope="row">
                  <Link to={`/workflows/${encodeURIComponent(w.workflowId)}`}>{w.name}</Link>
                  <div class="muted">
                    <code>{w.workflowId}</code> {w.description}
                  </div>
                </th>
                <td>v{w.currentVersion}</td>
                <td>v{w.latestVersion}</td>
                <td>{w.engine ?? 'standard'}</td>
                <td title={formatTime(w.updatedAt)}>{formatAgo(w.updatedAt, Date.now())}</td>
                <td>
                  <ActionButton
                    label="Start"
                    hiddenContext={w.name}
                    busyLabel="Starting…"
                    variant="primary"
                    run={async () => {
                      setStartError(undefined);
                      try {
                        await startRun(w.workflowId);
                      } catch (error) {
                        setStartError({ workflowId: w.workflowId, text: describeError(error) });
                      }
                    }}
                  />
                  {startError?.workflowId === w.workflowId ? (
                    <p class="note note-error" role="alert">
                      Could not start it: {startError.text}. Its page lets you give the run an input.
                    </p>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <RegisterForm onRegistered={list.refresh} />
    </section>
  );
}

/**
 * Pasting a template registers it as the workflow's next version. What the API refuses is listed
 * under the text box, each problem with its field; "Show in the text" selects that field.
 */
function RegisterForm({ onRegistered }: { onRegistered: () => void }) {
  const [text, setText] = useState('');
  const [issues, setIssues] = useState<ApiIssue[]>([]);
  const [said, setSaid] = useState<{ ok: boolean; text: string } | undefined>();
  const area = useRef<HTMLTextAreaElement>(null);
  const show = (field: string) => {
    const range = locateJsonPath(text, fieldPath(field));
    const box = area.current;
    if (!box) return;
    box.focus();
    if (range) box.setSelectionRange(range.start, range.end);
  };
  const submit = async () => {
    setIssues([]);
    setSaid(undefined);
    let template: unknown;
    try {
      template = JSON.parse(text);
    } catch (error) {
      setIssues([{ field: '', message: `not valid JSON: ${(error as Error).message}` }]);
      return;
    }
    try {
      const registered = await api<{ workflowId: string; currentVersion: number }>('POST', '/workflows', {
        body: template,
      });
      setSaid({ ok: true, text: `Registered ${registered.workflowId} v${registered.currentVersion}.` });
      onRegistered();
    } catch (error) {
      const found = (error as { issues?: ApiIssue[] }).issues ?? [];
      if (found.length > 0) setIssues(found);
      else setSaid({ ok: false, text: `Not registered: ${describeError(error)}` });
    }
  };
  return (
    <section aria-labelledby="register-title" class="register">
      <h2 id="register-title">Register a template</h2>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void submit();
        }}
      >
        <label for="template-json">Template JSON (as in cdk/workflows/*.json)</label>
        <textarea
          id="template-json"
          ref={area}
          rows={14}
          spellcheck={false}
          value={text}
          aria-invalid={issues.length > 0}
          aria-describedby={issues.length > 0 ? 'template-issues' : undefined}
          onInput={(event) => setText(event.currentTarget.value)}
        />
        {issues.length > 0 ? (
          <div id="template-issues" class="issues" role="alert">
            <p>
              <strong>
                The template was refused: {issues.length} problem{issues.length === 1 ? '' : 's'}.
              </strong>
            </p>
            <ul>
              {issues.map((issue) => (
                <li key={`${issue.field}:${issue.message}`}>
                  {issue.field ? <code>{fieldPath(issue.field).join('.') || issue.field}</code> : null}
                  {issue.field ? ': ' : ''}
                  {issue.message}{' '}
                  {issue.field ? (
                    <button type="button" class="link" onClick={() => show(issue.field)}>
                      Show in the text
                    </button>
                  ) : null}
                </li>
              ))}
            </ul>
          </div>
        ) : null}
        <button type="submit" class="button-primary">
          Register
        </button>
        <span class={`note ${said?.ok === false ? 'note-error' : ''}`} role="status">
          {said?.text ?? ''}
        </span>
      </form>
    </section>
  );
}

/** One workflow: its steps drawn, its versions with rollback, a run with an input, and its recent runs. */
export function WorkflowDetailPage({ workflowId }: { workflowId: string }) {
  const detail = usePoll<WorkflowDetail>(
    `workflow:${workflowId}`,
    () => api('GET', apiPath('workflows', workflowId)),
    {
      intervalMs: REFRESH_MS,
    },
  );
  const runs = usePoll<RunSummary[]>(
    `workflow-runs:${workflowId}`,
    async () =>
      (
        await api<{ executions: RunSummary[] }>('GET', '/executions', {
          query: { workflowId, limit: 10 },
        })
      ).executions,
    { intervalMs: REFRESH_MS },
  );
  const [input, setInput] = useState('{}');
  const [said, setSaid] = useState<{ ok: boolean; text: string } | undefined>();
  const workflow = detail.data;
  if (!workflow) {
    return (
      <section>
        <PageTitle title={`Workflow ${workflowId}`}>Workflow {workflowId}</PageTitle>
        {detail.error ? (
          <ErrorNote error={detail.error} prefix="Could not read the workflow" />
        ) : (
          <Loading what="the workflow" />
        )}
      </section>
    );
  }
  const declared = workflow.template?.inputs ?? {};
  return (
    <section>
      <PageTitle title={workflow.name}>{workflow.name}</PageTitle>
      <p>{workflow.description}</p>
      <dl class="facts">
        <Fact term="Id">
          <code>{workflow.workflowId}</code>
        </Fact>
        <Fact term="Live version">v{workflow.currentVersion}</Fact>
        <Fact term="Latest version">v{workflow.latestVersion}</Fact>
        <Fact term="Engine">{workflow.engine ?? 'standard'}</Fact>
      </dl>
      <h2>Steps</h2>
      {workflow.template ? (
        <DagView steps={workflow.template.steps} records={[]} />
      ) : (
        <Empty>No template is stored for this workflow.</Empty>
      )}

      <h2>Start a run</h2>
      <form
        class="start"
        onSubmit={async (event) => {
          event.preventDefault();
          setSaid(undefined);
          let parsed: unknown;
          try {
            parsed = JSON.parse(input || '{}');
          } catch (error) {
            setSaid({ ok: false, text: `The input is not valid JSON: ${(error as Error).message}` });
            return;
          }
          try {
            await startRun(workflow.workflowId, parsed as Record<string, unknown>);
          } catch (error) {
            setSaid({ ok: false, text: `Not started: ${describeError(error)}` });
          }
        }}
      >
        <label for="run-input">Run input (JSON)</label>
        <textarea
          id="run-input"
          rows={4}
          spellcheck={false}
          value={input}
          aria-describedby="run-input-help"
          onInput={(event) => setInput(event.currentTarget.value)}
        />
        <p id="run-input-help" class="muted">
          {Object.keys(declared).length === 0
            ? 'This workflow declares no inputs.'
            : `Declared inputs: ${Object.entries(declared)
                .map(
                  ([name, d]) =>
                    `${name} (${d.type}${d.default === undefined ? ', required' : `, default ${JSON.stringify(d.default)}`})`,
                )
                .join('; ')}.`}
        </p>
        <button type="submit" class="button-primary">
          Start a run of v{workflow.currentVersion}
        </button>
        <span class={`note ${said?.ok === false ? 'note-error' : ''}`} role="status">
          {said?.text ?? ''}
        </span>
      </form>

      <h2>Versions</h2>
      <VersionTable workflow={workflow} onChanged={detail.refresh} />

      <h2>Recent runs</h2>
      <ErrorNote error={runs.error} prefix="Could not list its runs" />
      {runs.data?.length === 0 ? <Empty>No run of this workflow yet.</Empty> : null}
      {runs.data && runs.data.length > 0 ? (
        <ul class="plain">
          {runs.data.map((run) => (
            <li key={run.executionId}>
              <Link to={`/runs/${encodeURIComponent(run.executionId)}`}>{run.executionId}</Link>{' '}
              <StatusBadge status={run.status} />{' '}
              <span class="muted">
                v{run.version}, {formatAgo(run.startedAt, Date.now())}
              </span>
            </li>
          ))}
        </ul>
      ) : null}
      {workflow.template ? (
        <JsonView value={workflow.template} label={`Template of v${workflow.currentVersion}`} />
      ) : null}
    </section>
  );
}

function VersionTable({ workflow, onChanged }: { workflow: WorkflowDetail; onChanged: () => void }) {
  const [said, setSaid] = useState<{ ok: boolean; text: string } | undefined>();
  const versions = [...workflow.versions].sort((a, b) => b.version - a.version);
  return (
    <>
      <table class="list">
        <caption class="visually-hidden">Published versions, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Version</th>
            <th scope="col">Published</th>
            <th scope="col">Steps</th>
            <th scope="col">States</th>
            <th scope="col">
              <span class="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {versions.map((v) => (
            <tr key={v.version}>
              <th scope="row">
                v{v.version}{' '}
                {v.version === workflow.currentVersion ? (
                  <StatusBadge status="SUCCEEDED" label="live" />
                ) : null}
              </th>
              <td>{formatTime(v.createdAt)}</td>
              <td>{v.steps ?? '—'}</td>
              <td>{v.states}</td>
              <td>
                {v.version === workflow.currentVersion ? null : (
                  <ActionButton
                    label={`Roll back to v${v.version}`}
                    run={async () => {
                      try {
                        await api('POST', apiPath('workflows', workflow.workflowId, 'rollback'), {
                          body: { version: v.version },
                        });
                        setSaid({ ok: true, text: `New runs now use v${v.version}.` });
                      } catch (error) {
                        setSaid({ ok: false, text: `Could not roll back: ${describeError(error)}` });
                      }
                      onChanged();
                    }}
                  />
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <p class={`note ${said?.ok === false ? 'note-error' : ''}`} role="status">
        {said?.text ?? ''}
      </p>
    </>
  );
}

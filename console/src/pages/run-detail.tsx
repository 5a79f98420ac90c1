import { useEffect, useState } from 'preact/hooks';
import { api, apiPath, describeError } from '../api.ts';
import {
  type ExecutionView,
  RUN_ENDED,
  type StepRecord,
  type TemplateStep,
  type WorkflowDetail,
} from '../api-types.ts';
import { AttemptsTable } from '../attempts.tsx';
import {
  ActionButton,
  Empty,
  ErrorNote,
  Fact,
  Loading,
  OutputView,
  PageTitle,
  StatusBadge,
} from '../components.tsx';
import { DagView, stepDependencies } from '../dag-view.tsx';
import { formatDuration, formatTime, statusWords, timeOf } from '../format.ts';
import { GanttView } from '../gantt.tsx';
import { usePoll } from '../poll.ts';
import { Link } from '../router.tsx';
import { buildTimeline } from '../timeline.ts';

/** Templates by `workflow@version`: a version never changes, so it is read once per page load. */
const templates = new Map<string, Promise<TemplateStep[] | undefined>>();

function templateOf(workflowId: string, version: number): Promise<TemplateStep[] | undefined> {
  const key = `${workflowId}@${version}`;
  let found = templates.get(key);
  if (!found) {
    found = api<WorkflowDetail>('GET', apiPath('workflows', workflowId), { query: { version } }).then(
      (detail) => detail.template?.steps,
      (error) => {
        templates.delete(key);
        throw error;
      },
    );
    templates.set(key, found);
  }
  return found;
}

type Control = 'pause' | 'resume' | 'cancel' | 'redrive';

const CONTROLS: ReadonlyArray<{ id: Control; label: string; when: ReadonlySet<string>; done: string }> = [
  {
    id: 'pause',
    label: 'Pause',
    when: new Set(['RUNNING', 'PENDING']),
    done: 'Paused: running steps finish, no new one starts.',
  },
  { id: 'resume', label: 'Resume', when: new Set(['PAUSED']), done: 'Resumed.' },
  { id: 'cancel', label: 'Cancel run', when: new Set(['RUNNING', 'PENDING', 'PAUSED']), done: 'Cancelled.' },
  {
    id: 'redrive',
    label: 'Redrive',
    when: new Set(['FAILED', 'TIMED_OUT']),
    done: 'Redriven: the steps that did not succeed run again.',
  },
];

/**
 * One workflow run: its DAG coloured by step status, its timeline with the critical path, each
 * step's attempts, service, error and output, and the controls that apply to its status.
 */
export function RunDetailPage({ executionId }: { executionId: string }) {
  const run = usePoll<ExecutionView>(
    `run:${executionId}`,
    () => api('GET', apiPath('executions', executionId)),
    {
      live: (view) => !RUN_ENDED.has(view.status),
    },
  );
  const view = run.data;
  const [steps, setSteps] = useState<TemplateStep[] | undefined>();
  const [templateError, setTemplateError] = useState<unknown>();
  useEffect(() => {
    if (!view) return;
    templateOf(view.workflowId, view.version).then((found) => {
      setSteps(found);
      setTemplateError(undefined);
    }, setTemplateError);
  }, [view?.workflowId, view?.version]);
  const [selected, setSelected] = useState<string | undefined>();
  const [said, setSaid] = useState<{ ok: boolean; text: string } | undefined>();
  const [confirmCancel, setConfirmCancel] = useState(false);

  const drawn: TemplateStep[] = steps ?? view?.steps.map((s) => ({ step_id: s.stepId })) ?? [];
  const now = Date.now();
  const timeline = (() => {
    if (!view) return undefined;
    const records = new Map(view.steps.map((s) => [s.stepId, s]));
    const ordered = [...drawn.map((s) => s.step_id)].filter((id) => records.has(id));
    return buildTimeline(
      ordered.map((id) => {
        const record = records.get(id) as StepRecord;
        const template = drawn.find((s) => s.step_id === id);
        return {
          id,
          dependencies: template ? stepDependencies(template) : [],
          start: timeOf(record.startedAt),
          end:
            record.status === 'RUNNING' || record.status === 'CALLBACK' || record.status === 'WAITING'
              ? undefined
              : (timeOf(record.endedAt) ?? timeOf(record.startedAt)),
        };
      }),
      timeOf(view.startedAt) ?? now,
      RUN_ENDED.has(view.status) ? timeOf(view.stoppedAt) : undefined,
      now,
    );
  })();

  if (!view) {
    return (
      <section>
        <PageTitle title={`Run ${executionId}`}>Run {executionId}</PageTitle>
        {run.error ? (
          <ErrorNote error={run.error} prefix="Could not read the run" />
        ) : (
          <Loading what="the run" />
        )}
      </section>
    );
  }

  const control = async (id: Control) => {
    setSaid(undefined);
    try {
      await api('POST', apiPath('executions', executionId, id));
      setSaid({ ok: true, text: CONTROLS.find((c) => c.id === id)?.done ?? 'Done.' });
    } catch (error) {
      setSaid({ ok: false, text: `Could not ${id} the run: ${describeError(error)}` });
    }
    setConfirmCancel(false);
    run.refresh();
  };
  const shownStep = view.steps.find((s) => s.stepId === selected);
  const started = timeOf(view.startedAt);
  const ended = RUN_ENDED.has(view.status) ? timeOf(view.stoppedAt) : undefined;
  const succeeded = view.steps.filter((s) => s.status === 'SUCCEEDED').length;

  return (
    <section>
      <PageTitle title={`Run ${executionId}`}>
        Run <code>{executionId}</code>
      </PageTitle>
      <dl class="facts">
        <Fact term="Workflow">
          <Link to={`/workflows/${encodeURIComponent(view.workflowId)}`}>{view.workflowId}</Link> v
          {view.version}
        </Fact>
        <Fact term="Status">
          <span aria-live="polite" data-testid="run-status">
            <StatusBadge status={view.status} />
          </span>
        </Fact>
        <Fact term="Started">{formatTime(view.startedAt)}</Fact>
        <Fact term="Took">{started === undefined ? '—' : formatDuration((ended ?? now) - started)}</Fact>
        <Fact term="Steps">
          {succeeded} of {Math.max(drawn.length, view.steps.length)} succeeded
        </Fact>
        {view.error ? (
          <Fact term="Error" wide>
            <span class="error-text">{[view.error.error, view.error.cause].filter(Boolean).join(': ')}</span>
          </Fact>
        ) : null}
      </dl>

      <fieldset class="controls">
        <legend class="visually-hidden">Run controls</legend>
        {CONTROLS.filter((c) => c.when.has(view.status)).map((c) =>
          c.id === 'cancel' ? (
            confirmCancel ? (
              <span key={c.id} class="confirm">
                Cancel this run? Steps not started will not run.{' '}
                <ActionButton label="Yes, cancel the run" variant="danger" run={() => control('cancel')} />{' '}
                <button type="button" onClick={() => setConfirmCancel(false)}>
                  Keep it running
                </button>
              </span>
            ) : (
              <button key={c.id} type="button" class="button-danger" onClick={() => setConfirmCancel(true)}>
                {c.label}
              </button>
            )
          ) : (
            <ActionButton key={c.id} label={c.label} variant="primary" run={() => control(c.id)} />
          ),
        )}
        {CONTROLS.every((c) => !c.when.has(view.status)) ? (
          <span class="muted">This run has ended.</span>
        ) : null}
      </fieldset>
      <p class={`note ${said?.ok === false ? 'note-error' : ''}`} role="status" aria-live="polite">
        {said?.text ?? ''}
      </p>
      <ErrorNote error={run.error} prefix="Could not refresh the run" />

      <h2>Graph</h2>
      {templateError ? (
        <ErrorNote
          error={templateError}
          prefix="The template could not be read; steps are drawn without their edges"
        />
      ) : null}
      <DagView
        steps={drawn}
        records={view.steps}
        selected={selected}
        onSelect={setSelected}
        critical={timeline?.criticalPath ?? []}
      />
      <p class="muted legend">
        Each box is a step, coloured and labelled by its status; arrows point from a step to those waiting for
        it. Select a step (click, or Tab to it and press Enter) to see its attempts and output.
      </p>

      {shownStep || selected ? (
        <StepPanel
          step={shownStep}
          stepId={selected as string}
          template={drawn.find((s) => s.step_id === selected)}
          now={now}
          onClose={() => setSelected(undefined)}
        />
      ) : null}

      <h2>Timeline</h2>
      {timeline ? (
        <GanttView
          timeline={timeline}
          statusOf={(id) => view.steps.find((s) => s.stepId === id)?.status ?? 'PENDING'}
        />
      ) : null}

      <h2>Steps</h2>
      <StepTable
        steps={drawn}
        records={view.steps}
        now={now}
        onSelect={(id) => {
          setSelected(id);
          requestAnimationFrame(() => document.getElementById('step-panel')?.focus());
        }}
      />
    </section>
  );
}

function elapsed(record: StepRecord, now: number): string {
  const start = timeOf(record.startedAt);
  if (start === undefined) return '—';
  const end = timeOf(record.endedAt);
  return formatDuration((end ?? now) - start);
}

function StepTable({
  steps,
  records,
  now,
  onSelect,
}: {
  steps: readonly TemplateStep[];
  records: readonly StepRecord[];
  now: number;
  onSelect: (id: string) => void;
}) {
  const byId = new Map(records.map((r) => [r.stepId, r]));
  return (
    <table class="list">
      <caption class="visually-hidden">Steps of the run, in template order</caption>
      <thead>
        <tr>
          <th scope="col">Step</th>
          <th scope="col">Status</th>
          <th scope="col">Service</th>
          <th scope="col">Attempts</th>
          <th scope="col">Took</th>
          <th scope="col">Error</th>
        </tr>
      </thead>
      <tbody>
        {steps.map((step) => {
          const record = byId.get(step.step_id);
          return (
            <tr key={step.step_id}>
              <th scope="row">
                <button type="button" class="link" onClick={() => onSelect(step.step_id)}>
                  {step.step_id}
                </button>
                {step.name ? <span class="muted"> {step.name}</span> : null}
              </th>
              <td>
                {record ? <StatusBadge status={record.status} /> : <span class="muted">not started</span>}
              </td>
              <td>{record?.service ?? '—'}</td>
              <td>{record?.attempts ?? 0}</td>
              <td>{record ? elapsed(record, now) : '—'}</td>
              <td class="error-text">{record?.error ?? ''}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function StepPanel({
  step,
  stepId,
  template,
  now,
  onClose,
}: {
  step: StepRecord | undefined;
  stepId: string;
  template: TemplateStep | undefined;
  now: number;
  onClose: () => void;
}) {
  return (
    <section id="step-panel" class="panel" tabIndex={-1} aria-labelledby="step-panel-title">
      <div class="panel-head">
        <h2 id="step-panel-title">
          Step <code>{stepId}</code>
          {template?.name ? ` · ${template.name}` : ''}
        </h2>
        <button type="button" onClick={onClose} aria-label={`Close the details of step ${stepId}`}>
          Close
        </button>
      </div>
      {!step ? (
        <Empty>This step has not started.</Empty>
      ) : (
        <>
          <dl class="facts">
            <Fact term="Status">
              <StatusBadge status={step.status} />
            </Fact>
            <Fact term="Service">{step.service ?? '—'}</Fact>
            <Fact term="Runs of the step">{step.attempts}</Fact>
            <Fact term="Took">{elapsed(step, now)}</Fact>
            {template?.factory_type ? (
              <Fact term="Asks">
                {template.factory_type} / {template.action}
              </Fact>
            ) : null}
            {step.items !== undefined ? <Fact term="Items">{step.items}</Fact> : null}
            {step.error ? (
              <Fact term="Error" wide>
                <span class="error-text">{step.error}</span>
              </Fact>
            ) : null}
          </dl>
          <h3>Factory calls</h3>
          {step.calls && step.calls.length > 0 ? (
            <AttemptsTable attempts={step.calls} caption={`Factory calls of step ${stepId}, in order`} />
          ) : (
            <Empty>
              No factory call recorded{step.status === 'SKIPPED' ? ': the step was skipped' : ''}.
            </Empty>
          )}
          <h3>Output</h3>
          {step.status === 'SUCCEEDED' || step.output !== undefined ? (
            <OutputView output={step.output} />
          ) : (
            <Empty>No output while the step is {statusWords(step.status)}.</Empty>
          )}
        </>
      )}
    </section>
  );
}

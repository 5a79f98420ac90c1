import { useEffect, useState } from 'preact/hooks';
import { api, apiPath, describeError } from '../api.ts';
import { SUGGESTION_STATUSES, type Suggestion, type SuggestionStatus } from '../api-types.ts';
import { ActionButton, Empty, ErrorNote, Fact, Loading, PageTitle, StatusBadge } from '../components.tsx';
import { formatPercent, formatTime } from '../format.ts';
import { usePoll } from '../poll.ts';
import { navigate, type Place } from '../router.tsx';

const REFRESH_MS = 5_000;
const DECIDER_KEY = 'vobee.console.decidedBy';
/** The local runtime runs the daily analysis on demand; a deployed API has no such route. */
const ANALYSIS_ROUTE = '/local/schedules/AnalyzePerformance/run';

/**
 * Improvement suggestions by status: the evidence behind each, the proposed action, accept or
 * reject (a person decides; nothing is applied by itself), and for accepted ones the impact
 * measured afterwards.
 */
export function SuggestionsPage({ place }: { place: Place }) {
  const statusParam = place.query.get('status');
  const status: SuggestionStatus = SUGGESTION_STATUSES.includes(statusParam as SuggestionStatus)
    ? (statusParam as SuggestionStatus)
    : 'pending';
  const list = usePoll<Suggestion[]>(
    `suggestions:${status}`,
    async () =>
      (await api<{ suggestions: Suggestion[] }>('GET', '/suggestions', { query: { status } })).suggestions,
    { intervalMs: REFRESH_MS },
  );
  const [decidedBy, setDecidedBy] = useState(() => localStorage.getItem(DECIDER_KEY) ?? '');
  useEffect(() => {
    if (decidedBy.trim()) localStorage.setItem(DECIDER_KEY, decidedBy.trim());
  }, [decidedBy]);
  const [outcomes, setOutcomes] = useState<Record<string, { ok: boolean; text: string }>>({});
  const [analysis, setAnalysis] = useState<{ ok: boolean; text: string } | undefined>();
  const [canAnalyse, setCanAnalyse] = useState(false);
  useEffect(() => {
    api('GET', '/local/schedules').then(
      () => setCanAnalyse(true),
      () => setCanAnalyse(false),
    );
  }, []);

  const decide = async (suggestion: Suggestion, verb: 'accept' | 'reject') => {
    if (!decidedBy.trim()) {
      setOutcomes({
        ...outcomes,
        [suggestion.id]: { ok: false, text: 'Say who decides first (the "Decided by" field above).' },
      });
      document.getElementById('decided-by')?.focus();
      return;
    }
    try {
      await api('POST', apiPath('suggestions', suggestion.id, verb), {
        body: { decidedBy: decidedBy.trim() },
      });
      setOutcomes({
        ...outcomes,
        [suggestion.id]: { ok: true, text: `${verb === 'accept' ? 'Accepted' : 'Rejected'}.` },
      });
    } catch (error) {
      setOutcomes({
        ...outcomes,
        [suggestion.id]: { ok: false, text: `Could not ${verb}: ${describeError(error)}` },
      });
    }
    list.refresh();
  };

  return (
    <section>
      <PageTitle title="Suggestions">Suggestions</PageTitle>
      <p class="muted">
        The analysis proposes; a person accepts or rejects. Nothing here changes routing by itself: an
        accepted suggestion is yours to carry out, then record what it changed.
      </p>
      <div class="toolbar">
        <label>
          Decided by
          <input
            id="decided-by"
            type="text"
            value={decidedBy}
            autoComplete="name"
            placeholder="your name"
            onInput={(event) => setDecidedBy(event.currentTarget.value)}
          />
        </label>
        {canAnalyse ? (
          <ActionButton
            label="Run the analysis now"
            busyLabel="Analysing…"
            run={async () => {
              try {
                const body = await api<{ result?: { found?: number; created?: number } }>(
                  'POST',
                  ANALYSIS_ROUTE,
                );
                setAnalysis({
                  ok: true,
                  text: `Analysis done: ${count(body.result?.found ?? 0, 'problem')} found, ${count(body.result?.created ?? 0, 'new suggestion')}.`,
                });
              } catch (error) {
                setAnalysis({ ok: false, text: `The analysis failed: ${describeError(error)}` });
              }
              list.refresh();
            }}
          />
        ) : null}
        <span class={`note ${analysis?.ok === false ? 'note-error' : ''}`} role="status">
          {analysis?.text ?? ''}
        </span>
      </div>
      <nav class="tabs" aria-label="Suggestions by status">
        {SUGGESTION_STATUSES.map((s) => (
          <a
            key={s}
            href={`/console/suggestions?status=${s}`}
            aria-current={s === status ? 'page' : undefined}
            onClick={(event) => {
              event.preventDefault();
              navigate(`/suggestions?status=${s}`);
            }}
          >
            {s}
          </a>
        ))}
      </nav>
      <ErrorNote error={list.error} prefix="Could not list the suggestions" />
      {list.loading && !list.data ? <Loading what="suggestions" /> : null}
      {list.data?.length === 0 ? (
        <Empty>
          No {status} suggestion.{' '}
          {status === 'pending'
            ? 'The daily analysis adds one for each problem it finds in the last 24 hours.'
            : ''}
        </Empty>
      ) : null}
      <ul class="suggestions">
        {list.data?.map((suggestion) => (
          <li key={suggestion.id} class="card" data-suggestion={suggestion.id}>
            <SuggestionCard
              suggestion={suggestion}
              outcome={outcomes[suggestion.id]}
              onDecide={(verb) => decide(suggestion, verb)}
              onImpact={list.refresh}
            />
          </li>
        ))}
      </ul>
    </section>
  );
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function SuggestionCard({
  suggestion,
  outcome,
  onDecide,
  onImpact,
}: {
  suggestion: Suggestion;
  outcome: { ok: boolean; text: string } | undefined;
  onDecide: (verb: 'accept' | 'reject') => Promise<void>;
  onImpact: () => void;
}) {
  const titleId = `suggestion-${suggestion.id}`;
  return (
    <article aria-labelledby={titleId}>
      <h2 id={titleId}>{suggestion.title}</h2>
      <p>
        <StatusBadge status={suggestion.priority} label={`${suggestion.priority} priority`} />{' '}
        <StatusBadge status={suggestion.status} />{' '}
        <span class="muted">{suggestion.area.replace(/_/g, ' ')}</span>
      </p>
      <p>
        <strong>Proposed:</strong> {suggestion.proposedAction.description}
      </p>
      <h3>Evidence</h3>
      <dl class="facts">
        {Object.entries(suggestion.evidence).map(([name, value]) => (
          <Fact key={name} term={name}>
            {String(value)}
          </Fact>
        ))}
        <Fact term="Window">
          last {suggestion.windowHours} h, found {formatTime(suggestion.createdAt)}
        </Fact>
        {suggestion.decidedBy ? (
          <Fact term="Decided">
            by {suggestion.decidedBy} {formatTime(suggestion.decidedAt)}
            {suggestion.decisionNote ? `: ${suggestion.decisionNote}` : ''}
          </Fact>
        ) : null}
      </dl>
      {suggestion.status === 'pending' ? (
        <fieldset class="controls">
          <legend class="visually-hidden">Decide on: {suggestion.title}</legend>
          <ActionButton label="Accept" variant="primary" run={() => onDecide('accept')} />
          <ActionButton label="Reject" variant="danger" run={() => onDecide('reject')} />
        </fieldset>
      ) : null}
      <p
        class={`note ${outcome && !outcome.ok ? 'note-error' : ''}`}
        role={outcome && !outcome.ok ? 'alert' : 'status'}
      >
        {outcome?.text ?? ''}
      </p>
      {suggestion.impact ? <ImpactTable impact={suggestion.impact} /> : null}
      {suggestion.status === 'accepted' ? <ImpactForm suggestion={suggestion} onRecorded={onImpact} /> : null}
    </article>
  );
}

function ImpactTable({ impact }: { impact: NonNullable<Suggestion['impact']> }) {
  return (
    <>
      <h3>Recorded impact</h3>
      <table class="list">
        <caption class="visually-hidden">
          Metrics before and after, recorded {formatTime(impact.recordedAt)}
        </caption>
        <thead>
          <tr>
            <th scope="col">Metric</th>
            <th scope="col">Before</th>
            <th scope="col">After</th>
            <th scope="col">Change</th>
          </tr>
        </thead>
        <tbody>
          {Object.entries(impact.metrics).map(([name, m]) => (
            <tr key={name}>
              <th scope="row">{name}</th>
              <td>{m.before}</td>
              <td>{m.after}</td>
              <td>
                <StatusBadge
                  status={m.improved ? 'SUCCEEDED' : 'FAILED'}
                  label={`${m.improved ? 'better' : 'worse'} by ${formatPercent(Math.abs(m.improvement))}`}
                />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {impact.notes ? <p>{impact.notes}</p> : null}
    </>
  );
}

/** Records what an accepted suggestion changed: one metric before and after, and a note. */
function ImpactForm({ suggestion, onRecorded }: { suggestion: Suggestion; onRecorded: () => void }) {
  const [metric, setMetric] = useState('failureRate');
  const [before, setBefore] = useState('');
  const [after, setAfter] = useState('');
  const [said, setSaid] = useState<{ ok: boolean; text: string } | undefined>();
  const id = `impact-${suggestion.id}`;
  return (
    <form
      class="impact"
      aria-labelledby={`${id}-title`}
      onSubmit={async (event) => {
        event.preventDefault();
        try {
          await api('POST', apiPath('suggestions', suggestion.id, 'impact'), {
            body: { before: { [metric]: Number(before) }, after: { [metric]: Number(after) } },
          });
          setSaid({ ok: true, text: 'Impact recorded.' });
          onRecorded();
        } catch (error) {
          setSaid({ ok: false, text: `Could not record the impact: ${describeError(error)}` });
        }
      }}
    >
      <h3 id={`${id}-title`}>Record the impact</h3>
      <label>
        Metric
        <input type="text" required value={metric} onInput={(e) => setMetric(e.currentTarget.value)} />
      </label>
      <label>
        Before
        <input
          type="number"
          step="any"
          required
          value={before}
          onInput={(e) => setBefore(e.currentTarget.value)}
        />
      </label>
      <label>
        After
        <input
          type="number"
          step="any"
          required
          value={after}
          onInput={(e) => setAfter(e.currentTarget.value)}
        />
      </label>
      <button type="submit">Record</button>
      <span class={`note ${said?.ok === false ? 'note-error' : ''}`} role="status">
        {said?.text ?? ''}
      </span>
    </form>
  );
}

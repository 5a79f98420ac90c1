import type { CallAttempt } from './api-types.ts';
import { StatusBadge } from './components.tsx';
import { formatDuration, formatTime } from './format.ts';

const OUTCOMES: Readonly<Record<CallAttempt['outcome'], string>> = {
  succeeded: 'SUCCEEDED',
  failed: 'FAILED',
  waiting: 'CALLBACK',
};

/** Factory calls in the order they were made: service, try number, outcome, time taken, error. */
export function AttemptsTable({ attempts, caption }: { attempts: readonly CallAttempt[]; caption: string }) {
  return (
    <table class="list attempts">
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">#</th>
          <th scope="col">Service</th>
          <th scope="col">Try</th>
          <th scope="col">Outcome</th>
          <th scope="col">Took</th>
          <th scope="col">Error</th>
          <th scope="col">At</th>
        </tr>
      </thead>
      <tbody>
        {attempts.map((a, i) => (
          <tr key={`${a.at}-${i}`}>
            <td>{i + 1}</td>
            <th scope="row">{a.service}</th>
            <td>{a.attempt}</td>
            <td>
              <StatusBadge
                status={OUTCOMES[a.outcome]}
                label={a.outcome === 'waiting' ? 'waiting for callback' : a.outcome}
              />
            </td>
            <td>{formatDuration(a.latencyMs)}</td>
            <td class="error-text">
              {a.error
                ? `${a.error.kind}${a.error.status ? ` (HTTP ${a.error.status})` : ''}: ${a.error.message}`
                : ''}
            </td>
            <td>{formatTime(a.at)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

import { formatDuration } from './format.ts';
import type { Timeline } from './timeline.ts';
import { ticks } from './timeline.ts';

const ROW = 26;
const LABEL = 170;
const PLOT = 560;
const AXIS = 22;

/**
 * The run's steps on a time axis: one bar per step that started, the critical path outlined
 * and named in words below the chart (where a screen reader finds it too, with each step's times
 * in a table beside the drawing).
 */
export function GanttView({ timeline, statusOf }: { timeline: Timeline; statusOf: (id: string) => string }) {
  if (timeline.bars.length === 0) return <p class="note note-empty">No step has started yet.</p>;
  const scale = PLOT / timeline.spanMs;
  const height = AXIS + timeline.bars.length * ROW + 4;
  const marks = ticks(timeline.spanMs);
  return (
    <div class="gantt">
      <div class="dag-scroll">
        <svg
          viewBox={`0 0 ${LABEL + PLOT + 16} ${height}`}
          width={LABEL + PLOT + 16}
          height={height}
          role="img"
          aria-label={`Timeline of ${timeline.bars.length} steps over ${formatDuration(timeline.spanMs)}`}
        >
          {marks.map((t) => (
            <g key={t} class="tick" transform={`translate(${LABEL + t * scale},0)`}>
              <line y1={AXIS - 4} y2={height} />
              <text y={AXIS - 8} text-anchor="middle">
                {formatDuration(t)}
              </text>
            </g>
          ))}
          {timeline.bars.map((bar, i) => (
            <g
              key={bar.id}
              transform={`translate(0,${AXIS + i * ROW})`}
              class={`bar tone-${toneClass(statusOf(bar.id))}${bar.critical ? ' critical' : ''}`}
            >
              <text x={LABEL - 8} y={ROW / 2 + 4} text-anchor="end" class="bar-label">
                {bar.id.length > 22 ? `${bar.id.slice(0, 21)}…` : bar.id}
              </text>
              <rect
                x={LABEL + bar.offsetMs * scale}
                y={4}
                width={Math.max(2, bar.durationMs * scale)}
                height={ROW - 8}
                rx="3"
              />
            </g>
          ))}
        </svg>
      </div>
      <p class="critical-path">
        <strong>Critical path:</strong>{' '}
        {timeline.criticalPath.length > 0 ? timeline.criticalPath.join(' → ') : 'none yet'}
        {timeline.criticalPath.length > 0
          ? ' (outlined in the chart: the chain of steps that decides when the run ends)'
          : ''}
      </p>
    </div>
  );
}

function toneClass(status: string): string {
  switch (status) {
    case 'SUCCEEDED':
      return 'good';
    case 'FAILED':
      return 'bad';
    case 'RUNNING':
    case 'CALLBACK':
      return 'active';
    case 'WAITING':
      return 'warn';
    default:
      return 'muted';
  }
}

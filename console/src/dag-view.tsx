import { useMemo } from 'preact/hooks';
import type { StepRecord, TemplateStep } from './api-types.ts';
import { toneOf } from './components.tsx';
import { statusWords } from './format.ts';
import { DEFAULT_LAYOUT, layeredLayout, type Point } from './layout.ts';

/** Every step a step waits for: its dependencies and each member of its `any_of` groups. */
export function stepDependencies(step: TemplateStep): string[] {
  return [...new Set([...(step.dependencies ?? []), ...(step.any_of ?? []).flat()])];
}

/** A smooth left-to-right path through the points: horizontal at each end, so arrows meet nodes square. */
function edgePath(points: readonly Point[]): string {
  const [first, ...rest] = points;
  if (!first) return '';
  let d = `M${first.x},${first.y}`;
  let previous = first;
  for (const point of rest) {
    const bend = (point.x - previous.x) / 2;
    d += ` C${previous.x + bend},${previous.y} ${point.x - bend},${point.y} ${point.x},${point.y}`;
    previous = point;
  }
  return d;
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/**
 * The run's DAG as SVG, laid out in layers (see `layout.ts`), each step coloured and labelled by
 * its status. Steps are buttons: Enter or Space (or a click) selects one to show its details.
 * Steps the run recorded that the template lacks (it was changed) are drawn without edges.
 */
export function DagView({
  steps,
  records,
  selected,
  onSelect,
  critical = [],
}: {
  steps: readonly TemplateStep[];
  records: readonly StepRecord[];
  selected?: string | undefined;
  onSelect?: (stepId: string) => void;
  critical?: readonly string[];
}) {
  const all = useMemo(() => {
    const known = new Set(steps.map((s) => s.step_id));
    const extra: TemplateStep[] = records
      .filter((r) => !known.has(r.stepId))
      .map((r) => ({ step_id: r.stepId }));
    return [...steps, ...extra];
  }, [steps, records]);
  const layout = useMemo(
    () => layeredLayout(all.map((s) => ({ id: s.step_id, dependencies: stepDependencies(s) }))),
    [all],
  );
  const byId = new Map(all.map((s) => [s.step_id, s]));
  const recordOf = new Map(records.map((r) => [r.stepId, r]));
  const onPath = new Set(critical);
  const { nodeWidth: w, nodeHeight: h } = DEFAULT_LAYOUT;
  if (all.length === 0) return <p class="note note-empty">This workflow has no steps to draw.</p>;
  return (
    <figure class="dag-scroll">
      <svg
        class="dag"
        viewBox={`0 0 ${layout.width} ${layout.height}`}
        width={layout.width}
        height={layout.height}
      >
        <title>
          Workflow graph: {all.length} steps in {layout.layers.length} layers
        </title>
        <defs>
          <marker
            id="arrow"
            viewBox="0 0 10 10"
            refX="9"
            refY="5"
            markerWidth="9"
            markerHeight="9"
            markerUnits="userSpaceOnUse"
            orient="auto"
          >
            <path d="M0,0 L10,5 L0,10 z" class="arrow-head" />
          </marker>
        </defs>
        <g class="edges">
          {layout.edges.map((edge) => (
            <path
              key={`${edge.from}->${edge.to}`}
              d={edgePath(edge.points)}
              class={`edge${onPath.has(edge.from) && onPath.has(edge.to) ? ' edge-critical' : ''}`}
              marker-end="url(#arrow)"
            />
          ))}
        </g>
        {layout.nodes.map((node) => {
          const step = byId.get(node.id);
          const record = recordOf.get(node.id);
          const status = record?.status ?? 'PENDING';
          const tone = record ? toneOf(status) : 'muted';
          const words = record ? statusWords(status) : 'not started';
          const attempts = record && record.attempts > 1 ? `, attempt ${record.attempts}` : '';
          const label = `${node.id}${step?.name ? ` (${step.name})` : ''}: ${words}${attempts}${record?.service ? `, on ${record.service}` : ''}`;
          return (
            // biome-ignore lint/a11y/useSemanticElements: an SVG group cannot be a <button>; it is given the role, focus and keys of one
            <g
              key={node.id}
              class={`node tone-${tone}${selected === node.id ? ' selected' : ''}`}
              transform={`translate(${node.x},${node.y})`}
              role="button"
              tabindex={0}
              aria-label={label}
              aria-pressed={selected === node.id}
              data-step={node.id}
              data-status={status}
              onClick={() => onSelect?.(node.id)}
              onKeyDown={(event) => {
                if (event.key === 'Enter' || event.key === ' ') {
                  event.preventDefault();
                  onSelect?.(node.id);
                }
              }}
            >
              <title>{label}</title>
              <rect width={w} height={h} rx="8" />
              <text x="10" y="20" class="node-id">
                {truncate(node.id, 26)}
              </text>
              <text x="10" y="38" class="node-status">
                {truncate(`${words}${attempts}${record?.service ? ` · ${record.service}` : ''}`, 31)}
              </text>
            </g>
          );
        })}
      </svg>
    </figure>
  );
}

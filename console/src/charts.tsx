/** A small line chart of one series over time, with its latest and highest value said in words. */
export function Sparkline({
  values,
  label,
  unit,
  width = 220,
  height = 48,
}: {
  values: ReadonlyArray<number | null | undefined>;
  label: string;
  unit: string;
  width?: number;
  height?: number;
}) {
  const known = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  if (known.length === 0) {
    return (
      <figure class="spark">
        <figcaption>{label}: no data in this window</figcaption>
      </figure>
    );
  }
  const max = Math.max(...known, 1e-9);
  const step = values.length > 1 ? width / (values.length - 1) : 0;
  // Gaps (no calls in a minute) break the line rather than drawing a drop to zero.
  let d = '';
  let pen = false;
  const dots: Array<[number, number]> = [];
  values.forEach((value, i) => {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      pen = false;
      return;
    }
    const x = i * step;
    const y = height - 2 - (value / max) * (height - 4);
    d += `${pen ? 'L' : 'M'}${x.toFixed(1)},${y.toFixed(1)} `;
    pen = true;
    dots.push([x, y]);
  });
  const latest = known[known.length - 1] as number;
  const words = `${label}: latest ${round(latest)} ${unit}, highest ${round(max)} ${unit}`;
  return (
    <figure class="spark">
      <svg
        viewBox={`-2 0 ${width + 4} ${height}`}
        width={width}
        height={height}
        role="img"
        aria-label={words}
      >
        <path d={d} />
        {dots.length === 1 ? <circle cx={dots[0]?.[0]} cy={dots[0]?.[1]} r="2.5" /> : null}
      </svg>
      <figcaption>{words}</figcaption>
    </figure>
  );
}

function round(value: number): string {
  return value >= 100 ? String(Math.round(value)) : String(Math.round(value * 10) / 10);
}

/** A small line chart in SVG (no chart library: four series of at most 720 points). */
export function Chart({ title, values, max, unit, width = 280, height = 60 }: { title: string; values: number[]; max: number; unit: string; width?: number; height?: number }) {
  const last = values.at(-1);
  const top = Math.max(max, ...values, 1);
  const step = values.length > 1 ? width / (values.length - 1) : width;
  const points = values.map((v, i) => `${(i * step).toFixed(1)},${(height - (v / top) * height).toFixed(1)}`).join(' ');
  return (
    <figure className="chart" aria-label={title}>
      <figcaption>
        {title} <strong>{last === undefined ? '–' : `${last.toFixed(unit === '°C' ? 0 : 1)}${unit}`}</strong>
      </figcaption>
      <svg width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img">
        <polyline points={points} fill="none" stroke="currentColor" strokeWidth="1.5" />
      </svg>
    </figure>
  );
}

// Server-rendered SVG bar charts: no chart library, no script, readable without colour (values as titles).
export interface Bar {
  label: string;
  value: number;
  /** hover text; defaults to "label: value" */
  title?: string;
}

export function BarChart(
  p: { bars: Bar[]; id: string; height?: number; labelEvery?: number; caption: string },
) {
  const h = p.height ?? 140, w = 600, padL = 28, padB = 22, padT = 8;
  const max = Math.max(1, ...p.bars.map((b) => b.value));
  const n = Math.max(1, p.bars.length);
  const slot = (w - padL) / n;
  const bw = Math.max(1, slot * 0.75);
  const every = p.labelEvery ?? 1;
  const plotH = h - padB - padT;
  return (
    <figure class="chart-figure">
      <svg class="chart" id={p.id} viewBox={`0 0 ${w} ${h}`} role="img" aria-label={p.caption}>
        <text x="0" y={padT + 8}>{max}</text>
        <text x="0" y={h - padB}>0</text>
        <line x1={padL} y1={h - padB} x2={w} y2={h - padB} stroke="#d9dde5" />
        {p.bars.map((b, i) => {
          const bh = (b.value / max) * plotH;
          const x = padL + i * slot + (slot - bw) / 2;
          return (
            <g>
              <rect
                class="bar"
                x={x.toFixed(1)}
                y={(h - padB - bh).toFixed(1)}
                width={bw.toFixed(1)}
                height={bh.toFixed(1)}
                data-value={b.value}
              >
                <title>{b.title ?? `${b.label}: ${b.value}`}</title>
              </rect>
              {i % every === 0
                ? <text x={(x + bw / 2).toFixed(1)} y={h - 6} text-anchor="middle">{b.label}</text>
                : null}
            </g>
          );
        })}
      </svg>
      <figcaption class="muted">{p.caption}</figcaption>
    </figure>
  );
}

/** Horizontal bars for ranked lists (top users). */
export function RankChart(p: { bars: Bar[]; id: string; caption: string }) {
  const rowH = 20, w = 600, labelW = 150;
  const max = Math.max(1, ...p.bars.map((b) => b.value));
  const h = Math.max(rowH, p.bars.length * rowH);
  return (
    <figure class="chart-figure">
      <svg class="chart" id={p.id} viewBox={`0 0 ${w} ${h}`} role="img" aria-label={p.caption}>
        {p.bars.map((b, i) => {
          const bw = ((w - labelW - 40) * b.value) / max;
          const y = i * rowH;
          return (
            <g>
              <text x="0" y={y + 14}>{b.label.length > 22 ? b.label.slice(0, 21) + "…" : b.label}</text>
              <rect
                class="bar"
                x={labelW}
                y={y + 3}
                width={bw.toFixed(1)}
                height={rowH - 6}
                data-value={b.value}
              >
                <title>{b.title ?? `${b.label}: ${b.value}`}</title>
              </rect>
              <text x={(labelW + bw + 4).toFixed(1)} y={y + 14}>{b.value}</text>
            </g>
          );
        })}
      </svg>
      <figcaption class="muted">{p.caption}</figcaption>
    </figure>
  );
}

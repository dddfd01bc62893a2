import { useId } from 'react';

/**
 * A bar chart in SVG, drawn from the data it is given (no library). It is an image with a title
 * and description for screen readers, and the same figures follow as a table (in a disclosure),
 * so nothing is only in the picture. Bar heights are for the eye only; the figures printed are
 * the exact strings passed in.
 */
export interface Bar {
  label: string;
  /** Size of the bar (any unit); may lose precision, it is never shown. */
  value: number;
  /** The exact figure, as shown in the table and the tooltip. */
  display: string;
  /** Short label under the bar (the full label is in the tooltip and the table). */
  axis?: string;
  /** Second line in the table (e.g. a count). */
  note?: string;
  tone?: 'alert' | 'ok' | 'muted';
}

export function BarChart({ title, description, bars, valueHeader, noteHeader, tableLabel }: { title: string; description: string; bars: Bar[]; valueHeader: string; noteHeader?: string; tableLabel: string }) {
  const id = useId();
  const max = Math.max(1, ...bars.map((b) => b.value));
  const W = 640;
  const H = 220;
  const top = 12;
  const bottom = 48;
  const left = 8;
  const slot = (W - left * 2) / Math.max(1, bars.length);
  const barW = Math.max(6, Math.min(48, slot * 0.7));
  const plotH = H - top - bottom;
  return (
    <figure className="chart">
      <figcaption id={`${id}-t`}>{title}</figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-labelledby={`${id}-t ${id}-d`} preserveAspectRatio="xMidYMid meet">
        <desc id={`${id}-d`}>{description}</desc>
        <line x1={left} x2={W - left} y1={top + plotH} y2={top + plotH} stroke="#6b7785" strokeWidth="1" />
        {bars.map((b, i) => {
          const h = b.value <= 0 ? 0 : Math.max(2, (b.value / max) * plotH);
          const x = left + i * slot + (slot - barW) / 2;
          return (
            <g key={b.label}>
              <rect x={x} y={top + plotH - h} width={barW} height={h} className={`bar bar-${b.tone ?? 'ok'}`}>
                <title>{`${b.label}: ${b.display}`}</title>
              </rect>
              <text x={x + barW / 2} y={H - bottom + 16} textAnchor="middle" className="axis">
                {b.axis ?? b.label}
              </text>
            </g>
          );
        })}
      </svg>
      <details>
        <summary>{tableLabel}</summary>
        <table className="figures">
          <thead>
            <tr>
              <th scope="col">{title}</th>
              <th scope="col" className="num">
                {valueHeader}
              </th>
              {noteHeader && (
                <th scope="col" className="num">
                  {noteHeader}
                </th>
              )}
            </tr>
          </thead>
          <tbody>
            {bars.map((b) => (
              <tr key={b.label}>
                <th scope="row">{b.label}</th>
                <td className="num">{b.display}</td>
                {noteHeader && <td className="num">{b.note}</td>}
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}

/** One series of a stacked bar chart: its name in the legend and the table, and its colour. */
export interface Series {
  label: string;
  tone: 'ok' | 'alt';
}

export interface StackedBar {
  /** Full label (the table, the tooltip). */
  label: string;
  /** Short label under the bar; the chart shows only every few when there are many bars. */
  axis: string;
  /** One size per series (any unit, for the eye only). */
  values: number[];
  /** The exact figures, one per series, then the total. */
  displays: string[];
  total: string;
}

/**
 * Bars of several series stacked (such as money collected online and by RTGS/NEFT each day). As
 * with BarChart, the picture has a title and a description and the figures follow as a table; the
 * legend names each colour in words. With many bars, only every few carry an axis label.
 */
export function StackedBarChart({ title, description, series, bars, labelHeader, totalHeader, tableLabel }: { title: string; description: string; series: Series[]; bars: StackedBar[]; labelHeader: string; totalHeader: string; tableLabel: string }) {
  const id = useId();
  const max = Math.max(1, ...bars.map((b) => b.values.reduce((s, v) => s + Math.max(0, v), 0)));
  const W = 640;
  const H = 220;
  const top = 12;
  const bottom = 40;
  const left = 8;
  const slot = (W - left * 2) / Math.max(1, bars.length);
  const barW = Math.max(2, Math.min(48, slot * 0.7));
  const plotH = H - top - bottom;
  // An axis label is about 44 units wide: one every `every` bars keeps them apart, and the last
  // bar (the latest day) always has its own.
  const every = Math.max(1, Math.ceil(44 / slot));
  const labelled = (i: number) => i === bars.length - 1 || (i % every === 0 && i < bars.length - every);
  return (
    <figure className="chart">
      <figcaption id={`${id}-t`}>{title}</figcaption>
      <ul className="legend">
        {series.map((s) => (
          <li key={s.label}>
            <span className={`swatch bar-${s.tone}`} aria-hidden="true" />
            {s.label}
          </li>
        ))}
      </ul>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-labelledby={`${id}-t ${id}-d`} preserveAspectRatio="xMidYMid meet">
        <desc id={`${id}-d`}>{description}</desc>
        <line x1={left} x2={W - left} y1={top + plotH} y2={top + plotH} stroke="#6b7785" strokeWidth="1" />
        {bars.map((b, i) => {
          const x = left + i * slot + (slot - barW) / 2;
          const cx = x + barW / 2;
          // Labels at the ends are anchored inwards, so the edge does not cut them off.
          const anchor = cx < 30 ? 'start' : cx > W - 30 ? 'end' : 'middle';
          let y = top + plotH;
          return (
            <g key={b.label}>
              {b.values.map((v, k) => {
                if (v <= 0) return null;
                const h = Math.max(2, (v / max) * plotH);
                y -= h;
                return (
                  <rect key={k} x={x} y={y} width={barW} height={h} className={`bar bar-${series[k]?.tone ?? 'ok'}`} stroke="#ffffff" strokeWidth={barW > 4 ? 1 : 0}>
                    <title>{`${b.label}, ${series[k]?.label ?? ''}: ${b.displays[k] ?? ''}`}</title>
                  </rect>
                );
              })}
              {labelled(i) && (
                <text x={anchor === 'start' ? left : anchor === 'end' ? W - left : cx} y={H - bottom + 16} textAnchor={anchor} className="axis">
                  {b.axis}
                </text>
              )}
            </g>
          );
        })}
      </svg>
      <details>
        <summary>{tableLabel}</summary>
        <div className="table-scroll">
          <table className="figures">
            <thead>
              <tr>
                <th scope="col">{labelHeader}</th>
                {series.map((s) => (
                  <th key={s.label} scope="col" className="num">
                    {s.label}
                  </th>
                ))}
                <th scope="col" className="num">
                  {totalHeader}
                </th>
              </tr>
            </thead>
            <tbody>
              {bars.map((b) => (
                <tr key={b.label}>
                  <th scope="row">{b.label}</th>
                  {series.map((s, k) => (
                    <td key={s.label} className="num">
                      {b.displays[k]}
                    </td>
                  ))}
                  <td className="num">{b.total}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
}

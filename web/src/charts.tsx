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

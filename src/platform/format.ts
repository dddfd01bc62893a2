/** Formatting for people: Indian digit grouping, durations. (The web app has its own for ₹ and IST.) */

const grouping = new Intl.NumberFormat('en-IN');

export function formatInt(n: number | bigint): string {
  return grouping.format(n);
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const m = Math.floor(ms / 60_000);
  return `${m} min ${Math.round((ms % 60_000) / 1000)} s`;
}

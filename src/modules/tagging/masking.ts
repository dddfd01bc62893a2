/**
 * What a tagger sees of a connection before proving it is theirs: enough to recognise it, not
 * enough to learn a stranger's name. Each word keeps its first letter; the last two parts of
 * the address (district, state) stay readable.
 */

function maskWord(w: string): string {
  const chars = [...w];
  return chars.map((c, i) => (i === 0 || !/[\p{L}\p{N}]/u.test(c) ? c : '*')).join('');
}

export function maskName(name: string): string {
  return name.split(/(\s+)/).map((w) => (/\s/.test(w) ? w : maskWord(w))).join('');
}

export function maskAddress(address: string): string {
  const parts = address.split(',').map((p) => p.trim());
  const keep = parts.slice(-2);
  const masked = parts.slice(0, -2).map(maskName);
  return [...masked, ...keep].join(', ');
}

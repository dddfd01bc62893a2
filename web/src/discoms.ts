import type { Overview } from './api';
import { useApi } from './useApi';

/** The discoms (code and names), from the public overview; empty until it has loaded. */
export function useDiscoms(): { code: string; name: string; nameHi: string }[] {
  const [overview] = useApi<Overview>('/api/v1/overview');
  return overview.state === 'ready' ? overview.data.discoms.map((d) => ({ code: d.code, name: d.name, nameHi: d.nameHi })) : [];
}

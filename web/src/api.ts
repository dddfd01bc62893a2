/** A small typed client for the server's JSON API; errors carry the server's code and messages. */

export interface ApiErrorBody {
  error: { code: string; message: { en: string; hi: string }; details: { path: string; problem: string; message: { en: string; hi: string } }[]; requestId: string };
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: ApiErrorBody | null,
  ) {
    super(body?.error.message.en ?? `HTTP ${status}`);
  }
}

export async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  const res = await fetch(path, { headers: { accept: 'application/json' }, ...(signal ? { signal } : {}) });
  if (!res.ok) {
    let body: ApiErrorBody | null = null;
    try {
      body = (await res.json()) as ApiErrorBody;
    } catch {
      // not JSON: a proxy or network error page
    }
    throw new ApiError(res.status, body);
  }
  return (await res.json()) as T;
}

export interface DiscomSummary {
  code: string;
  name: string;
  nameHi: string;
  state: string;
  circles: number;
  divisions: number;
  subdivisions: number;
  connections: number;
  activeConnections: number;
  connectionsDue: number;
  duesPaise: string;
  advancePaise: string;
}

export interface Overview {
  discoms: DiscomSummary[];
  organisations: { total: number; byType: Record<string, number> };
  billing: { source: string | null; lastSyncedAt: string | null };
  generatedAt: string;
}

interface Named {
  code: string;
  name: string;
  nameHi: string;
}

export interface DiscomDetail extends Named {
  state: string;
  consumerNoPattern: string;
  policy: {
    rebateDueDateBp: number;
    rebateOnlineBp: number;
    rebateMaxBp: number;
    dpsMonthlyBp: number;
    partPaymentAllowed: boolean;
    minPaymentPaise: string;
  };
  circles: (Named & { divisions: (Named & { subdivisions: Named[] })[] })[];
}

import type { App } from '../../src/platform/context.ts';

/**
 * The routes of the OpenAPI document, for tests that walk every route (tenant isolation, scopes,
 * refusals): a new route is covered without anyone remembering to add it.
 */

type Media = { schema?: { examples?: unknown[] }; example?: unknown; examples?: Record<string, { value: unknown }> };
export type Op = { security?: unknown[]; requestBody?: { content?: Record<string, Media> }; parameters?: { in: string; name: string }[]; 'x-roles'?: string[] };
export interface Route {
  method: string;
  path: string;
  op: Op;
}

export function routes(app: App): Route[] {
  const doc = app.swagger() as { paths: Record<string, Record<string, Op>> };
  return Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops)
      .filter(([m]) => ['get', 'post', 'put', 'patch', 'delete'].includes(m))
      .map(([method, op]) => ({ method: method.toUpperCase(), path, op })),
  );
}

/** The path with each `{name}` replaced by ids[name]; a missing fixture fails the test, naming it. */
export function fill(path: string, ids: Record<string, string>): string {
  return path.replace(/\{(\w+)\}/g, (_m, name: string) => {
    const v = ids[name];
    if (!v) throw new Error(`No fixture for path parameter {${name}} in ${path}: add one to this test`);
    return encodeURIComponent(v);
  });
}

/** The route's documented example body; a body without one fails the test, naming the route. */
export function exampleBody(method: string, path: string, op: Op): unknown {
  if (!op.requestBody) return method === 'GET' ? undefined : {};
  const media = op.requestBody.content?.['application/json'];
  const ex = media?.example ?? Object.values(media?.examples ?? {})[0]?.value ?? media?.schema?.examples?.[0];
  if (ex === undefined) throw new Error(`${method} ${path} has a request body without an example: add one to its schema`);
  return ex;
}

export const isPublic = (op: Op): boolean => Array.isArray(op.security) && op.security.length === 0;

/**
 * A body with every `…Id`/`…Ids` field (at any depth) set to the object of that name in `ids`
 * (after `aliases`: parentId → officeId, tagIds → tagId): an id field holding a list gets a list
 * of one. `replaced` counts the fields set, so a walk can skip bodies that name nothing.
 */
export function withIds(body: unknown, ids: Record<string, string>, aliases: Record<string, string> = { parentId: 'officeId', tagIds: 'tagId' }): { body: unknown; replaced: number } {
  let replaced = 0;
  const swap = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(swap);
    if (!v || typeof v !== 'object') return v;
    return Object.fromEntries(
      Object.entries(v).map(([k, x]) => {
        const name = aliases[k] ?? k;
        if (/Ids?$/.test(k) && ids[name]) {
          replaced++;
          return [k, Array.isArray(x) ? [ids[name]] : ids[name]];
        }
        return [k, swap(x)];
      }),
    );
  };
  return { body: swap(body), replaced };
}

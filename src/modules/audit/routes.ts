import { sql } from 'kysely';
import { Type } from 'typebox';
import type { App, AppContext } from '../../platform/context.ts';
import { ErrorResponse, ID_PATTERN, IdStr } from '../../platform/http/schemas.ts';
import { discomScope } from '../../platform/principal.ts';
import { orgsSeenBy } from '../discoms/scope.ts';

/**
 * Search of the audit log, for the discom's auditors and admins. Newest first, by keyset. A
 * discom's staff see the entries about their discom: those naming it (written by its staff, or
 * about its credits, statements, exceptions and staff), those written by its staff, and those of
 * the organisations they see (home discom theirs, or a tag on one of their connections). The
 * holding company's staff see every entry.
 */

const Entry = Type.Object({
  id: Type.String(),
  at: Type.String(),
  action: Type.String(),
  outcome: Type.String(),
  actor: Type.String(),
  orgId: Type.Union([Type.String(), Type.Null()]),
  orgName: Type.Union([Type.String(), Type.Null()]),
  target: Type.Union([Type.String(), Type.Null()]),
  ip: Type.Union([Type.String(), Type.Null()]),
  userAgent: Type.Union([Type.String(), Type.Null()]),
  requestId: Type.Union([Type.String(), Type.Null()]),
  details: Type.Record(Type.String(), Type.Unknown()),
  chain: Type.String(),
  seq: Type.String(),
});

export async function auditRoutes(app: App, { ctx }: { ctx: AppContext }): Promise<void> {
  const { db } = ctx.database;
  app.get(
    '/api/v1/discom/audit',
    {
      config: { access: { roles: ['discom_admin', 'auditor'] } },
      schema: {
        tags: ['audit'],
        summary: 'Search the audit log: by organisation, actor, action, outcome and time; newest first',
        querystring: Type.Object({
          orgId: Type.Optional(IdStr),
          actor: Type.Optional(Type.String({ maxLength: 80, description: 'Part of the actor label, such as a login ID' })),
          action: Type.Optional(Type.String({ maxLength: 80, description: 'An action (organisation.approved), or a prefix ending in a dot or * (auth.)' })),
          outcome: Type.Optional(Type.Union([Type.Literal('success'), Type.Literal('failure')])),
          from: Type.Optional(Type.String({ format: 'date-time' })),
          to: Type.Optional(Type.String({ format: 'date-time' })),
          before: Type.Optional(Type.String({ pattern: ID_PATTERN, description: 'Page on from this entry id (exclusive)' })),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })),
        }),
        response: { 200: Type.Object({ entries: Type.Array(Entry), next: Type.Union([Type.String(), Type.Null()]) }), 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse },
      },
    },
    async (req) => {
      const f = req.query;
      const limit = f.limit ?? 50;
      const discom = discomScope(req.principal);
      let q = db
        .selectFrom('audit_log as a')
        .leftJoin('organisations as o', 'o.id', 'a.org_id')
        .select(['a.id', 'a.at', 'a.action', 'a.outcome', 'a.actor_label', 'a.org_id', 'o.name as org_name', 'a.target_type', 'a.target_id', 'a.ip', 'a.user_agent', 'a.request_id', 'a.details', 'a.chain', 'a.seq']);
      if (discom !== null) {
        q = q.where((eb) =>
          eb.or([
            eb('a.discom_id', '=', discom),
            eb('a.actor_user_id', 'in', eb.selectFrom('users as su').select('su.id').where('su.discom_id', '=', discom)),
            eb('a.org_id', 'in', sql<bigint>`${orgsSeenBy(discom)}`),
          ]),
        );
      }
      if (f.orgId) q = q.where('a.org_id', '=', BigInt(f.orgId));
      if (f.actor) q = q.where('a.actor_label', 'like', `%${f.actor.replace(/[%_\\]/g, '\\$&')}%`);
      if (f.action) {
        const prefix = /[.*]$/.test(f.action);
        const a = f.action.replace(/\*$/, '');
        q = prefix ? q.where('a.action', 'like', `${a.replace(/[%_\\]/g, '\\$&')}%`) : q.where('a.action', '=', a);
      }
      if (f.outcome) q = q.where('a.outcome', '=', f.outcome);
      if (f.from) q = q.where('a.at', '>=', new Date(f.from));
      if (f.to) q = q.where('a.at', '<', new Date(f.to));
      if (f.before) q = q.where('a.id', '<', BigInt(f.before));
      const rows = await q.orderBy('a.id', 'desc').limit(limit + 1).execute();
      const page = rows.slice(0, limit);
      return {
        entries: page.map((r) => ({
          id: r.id.toString(),
          at: r.at.toISOString(),
          action: r.action,
          outcome: r.outcome,
          actor: r.actor_label,
          orgId: r.org_id?.toString() ?? null,
          orgName: r.org_name,
          target: r.target_type ? `${r.target_type}:${r.target_id}` : null,
          ip: r.ip,
          userAgent: r.user_agent,
          requestId: r.request_id,
          details: r.details,
          chain: r.chain.toString(),
          seq: r.seq.toString(),
        })),
        next: rows.length > limit ? page[page.length - 1]!.id.toString() : null,
      };
    },
  );
}

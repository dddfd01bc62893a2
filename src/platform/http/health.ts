import { Type } from 'typebox';
import type { App, AppContext } from '../context.ts';
import { pendingMigrations } from '../db/migrate.ts';

/** Liveness (/healthz: the process answers) and readiness (/readyz: database up, schema current). */
export async function healthRoutes(app: App, { ctx }: { ctx: AppContext }): Promise<void> {
  app.get(
    '/healthz',
    { config: { access: { public: true } }, schema: { tags: ['system'], summary: 'The process is alive', response: { 200: Type.Object({ status: Type.Literal('ok') }) } } },
    async () => ({ status: 'ok' as const }),
  );

  const Ready = Type.Object({
    status: Type.Union([Type.Literal('ready'), Type.Literal('not_ready')]),
    database: Type.String(),
    engine: Type.String(),
    pendingMigrations: Type.Array(Type.String()),
  });
  app.get(
    '/readyz',
    { config: { access: { public: true } }, schema: { tags: ['system'], summary: 'The database is reachable and every migration is applied', response: { 200: Ready, 503: Ready } } },
    async (_req, reply) => {
      try {
        const pending = await pendingMigrations(ctx.database);
        const ready = pending.length === 0;
        return reply.status(ready ? 200 : 503).send({
          status: ready ? 'ready' : 'not_ready',
          database: 'ok',
          engine: ctx.database.engine,
          pendingMigrations: pending,
        });
      } catch (e) {
        _req.log.warn({ err: e }, 'readiness check: database unreachable');
        return reply.status(503).send({ status: 'not_ready', database: 'unreachable', engine: ctx.database.engine, pendingMigrations: [] });
      }
    },
  );
}

import { Type } from 'typebox';
import type { App, AppContext } from '../../platform/context.ts';
import { directLoopbackOnly } from '../../platform/http/origin.ts';
import { DEMO_LOGINS } from '../demo/people.ts';
import { openSecret, stepAt, totpCode } from '../identity/index.ts';

/**
 * Developer tools of a demo install (DEV_TOOLS): the notifier's outbox, where one-time codes
 * that would have gone by SMS or e-mail can be read, and a demo authenticator showing the
 * current TOTP codes of the demo logins' published secrets. Registered only when the developer
 * pages are on (devToolsDecision: a demo database and nothing pointing outside this machine, or
 * DEV_TOOLS=true; never in production), and then answering direct loopback requests only.
 */
export async function devRoutes(app: App, { ctx }: { ctx: AppContext }): Promise<void> {
  const { db } = ctx.database;
  app.addHook('onRequest', directLoopbackOnly);
  app.get(
    '/api/v1/dev/outbox',
    {
      config: { access: { public: true } },
      schema: {
        tags: ['dev'],
        summary: 'The latest 200 messages of the notifier (demo installs only)',
        response: {
          200: Type.Object({
            messages: Type.Array(
              Type.Object({
                id: Type.String(), channel: Type.String(), recipient: Type.String(), subject: Type.Union([Type.String(), Type.Null()]), body: Type.String(),
                purpose: Type.String(), status: Type.String(), createdAt: Type.String(),
              }),
            ),
          }),
        },
      },
    },
    async () => {
      const rows = await db.selectFrom('notifications').selectAll().orderBy('id', 'desc').limit(200).execute();
      return {
        messages: rows.map((m) => ({
          id: m.id.toString(), channel: m.channel, recipient: m.recipient, subject: m.subject, body: m.body, purpose: m.purpose, status: m.status,
          createdAt: m.created_at.toISOString(),
        })),
      };
    },
  );

  app.get(
    '/api/v1/dev/authenticator',
    {
      config: { access: { public: true } },
      schema: {
        tags: ['dev'],
        summary: 'Current authenticator codes of users with a second factor (demo installs only)',
        response: { 200: Type.Object({ validForSeconds: Type.Integer(), codes: Type.Array(Type.Object({ loginId: Type.String(), code: Type.String() })) }) },
      },
    },
    async () => {
      const now = new Date();
      // Only the published demo secrets: a user who set up their own authenticator is never shown.
      const demo = DEMO_LOGINS.filter((l) => l.totpSecret);
      const rows = await db.selectFrom('users').select(['login_id', 'totp_secret']).where('login_id', 'in', demo.map((l) => l.loginId)).orderBy('login_id').execute();
      return {
        validForSeconds: 30 - (Math.floor(now.getTime() / 1000) % 30),
        codes: rows
          .map((r) => ({ loginId: r.login_id, secret: r.totp_secret ? openSecret(r.totp_secret) : null }))
          .filter((r) => r.secret && r.secret === demo.find((l) => l.loginId === r.loginId)!.totpSecret)
          .map((r) => ({ loginId: r.loginId, code: totpCode(r.secret!, stepAt(now)) })),
      };
    },
  );
}

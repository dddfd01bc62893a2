import { Type } from 'typebox';
import type { App, AppContext } from '../../platform/context.ts';
import { ErrorResponse } from '../../platform/http/schemas.ts';
import { TOTP_REQUIRED } from '../../platform/principal.ts';
import { clearSessionCookie, setSessionCookie, userOf, type Stage } from './access.ts';
import { AuthService } from './service.ts';

const ALL_STAGES: Stage[] = ['totp', 'totp_enrol', 'full'];
const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 429: ErrorResponse };

const LoginId = Type.String({ minLength: 1, maxLength: 40, description: 'Login ID (case does not matter)' });
const Password = Type.String({ minLength: 1, maxLength: 128 });
const Code = Type.String({ pattern: '^[0-9]{6}$', description: 'Six digits' });

const StageT = Type.Union([Type.Literal('totp'), Type.Literal('totp_enrol'), Type.Literal('full')]);
const StageResult = Type.Object({ stage: StageT, csrfToken: Type.String() });

const SessionInfo = Type.Object({
  authenticated: Type.Boolean(),
  stage: Type.Optional(StageT),
  csrfToken: Type.Optional(Type.String()),
  user: Type.Optional(
    Type.Object({
      id: Type.String(),
      loginId: Type.String(),
      name: Type.String(),
      role: Type.String(),
      totpEnabled: Type.Boolean(),
      totpRequired: Type.Boolean(),
      org: Type.Union([Type.Object({ id: Type.String(), name: Type.String(), type: Type.String() }), Type.Null()]),
      office: Type.Union([Type.Object({ id: Type.String(), code: Type.String(), name: Type.String() }), Type.Null()]),
      discom: Type.Union([Type.Object({ code: Type.String(), name: Type.String(), nameHi: Type.String() }), Type.Null()], { description: 'Discom staff: their discom (null for the holding company’s staff and organisation users)' }),
      holding: Type.Boolean({ description: 'Discom staff of the holding company (BSPHCL), acting for both discoms' }),
    }),
  ),
});

export async function identityRoutes(app: App, { ctx }: { ctx: AppContext }): Promise<void> {
  const auth = new AuthService(ctx.database.db, ctx.config, ctx.clock);
  const tags = ['auth'];

  app.get(
    '/api/v1/auth/session',
    { config: { access: { public: true } }, schema: { tags, summary: 'The current session, if any, with its CSRF token', response: { 200: SessionInfo } } },
    async (req) => {
      const p = req.principal;
      if (p?.kind !== 'user') return { authenticated: false };
      const u = await ctx.database.db
        .selectFrom('users as u')
        .leftJoin('organisations as o', 'o.id', 'u.org_id')
        .leftJoin('offices as f', 'f.id', 'u.office_id')
        .leftJoin('discoms as d', 'd.id', 'u.discom_id')
        .select([
          'u.totp_enabled_at', 'o.id as org_id', 'o.name as org_name', 'o.type as org_type', 'f.id as office_id', 'f.code as office_code', 'f.name as office_name',
          'd.code as discom_code', 'd.name as discom_name', 'd.name_hi as discom_name_hi', 'u.holding',
        ])
        .where('u.id', '=', p.userId)
        .executeTakeFirstOrThrow();
      return {
        authenticated: true,
        stage: p.stage,
        csrfToken: p.csrfToken,
        user: {
          id: p.userId.toString(),
          loginId: p.loginId,
          name: p.name,
          role: p.role,
          totpEnabled: u.totp_enabled_at !== null,
          totpRequired: TOTP_REQUIRED.includes(p.role),
          org: u.org_id ? { id: u.org_id.toString(), name: u.org_name!, type: u.org_type! } : null,
          office: u.office_id ? { id: u.office_id.toString(), code: u.office_code!, name: u.office_name! } : null,
          discom: u.discom_code ? { code: u.discom_code, name: u.discom_name!, nameHi: u.discom_name_hi! } : null,
          holding: u.holding,
        },
      };
    },
  );

  app.post(
    '/api/v1/auth/login',
    {
      config: { access: { public: true } },
      schema: {
        tags,
        summary: 'Log in with login ID and password; the session may then need the second factor',
        body: Type.Object({ loginId: LoginId, password: Password }, { examples: [{ loginId: 'edu.admin', password: 'Demo@Sangrahan2026' }] }),
        response: { 200: StageResult, ...errors },
      },
    },
    async (req, reply) => {
      const old = req.principal?.kind === 'user' ? req.principal.sessionId : null;
      const r = await auth.login(req.body.loginId, req.body.password, req.meta, old);
      setSessionCookie(req, reply, r.session.token, ctx);
      return { stage: r.stage, csrfToken: r.session.csrfToken };
    },
  );

  app.post(
    '/api/v1/auth/totp',
    {
      config: { access: { roles: 'any', stages: ['totp'] } },
      schema: { tags, summary: 'Finish logging in with the authenticator code', body: Type.Object({ code: Code }, { examples: [{ code: '123456' }] }), response: { 200: StageResult, ...errors } },
    },
    async (req, reply) => {
      const s = await auth.completeTotp(userOf(req), req.body.code, req.meta);
      setSessionCookie(req, reply, s.token, ctx);
      return { stage: 'full' as const, csrfToken: s.csrfToken };
    },
  );

  app.post(
    '/api/v1/auth/totp/enrolment',
    {
      config: { access: { roles: 'any', stages: ['totp_enrol', 'full'] } },
      schema: {
        tags,
        summary: 'Start setting up an authenticator app: a new secret and its QR code. Replacing one in use needs the password and a current code',
        body: Type.Optional(
          Type.Object({ password: Type.Optional(Password), code: Type.Optional(Code) }, { additionalProperties: false, examples: [{}] }),
        ),
        response: { 200: Type.Object({ secret: Type.String(), uri: Type.String(), qrSvg: Type.String() }), ...errors },
      },
    },
    async (req) => auth.startTotpEnrolment(userOf(req), req.body ?? {}, req.meta),
  );

  app.post(
    '/api/v1/auth/totp/enrolment/confirm',
    {
      config: { access: { roles: 'any', stages: ['totp_enrol', 'full'] } },
      schema: { tags, summary: 'Confirm the authenticator with its first code', body: Type.Object({ code: Code }, { examples: [{ code: '123456' }] }), response: { 200: StageResult, ...errors } },
    },
    async (req, reply) => {
      const p = userOf(req);
      const s = await auth.confirmTotpEnrolment(p, req.body.code, req.meta);
      if (s) setSessionCookie(req, reply, s.token, ctx);
      return { stage: 'full' as const, csrfToken: s?.csrfToken ?? p.csrfToken };
    },
  );

  app.post(
    '/api/v1/auth/totp/disable',
    {
      config: { access: { roles: 'any' } },
      schema: { tags, summary: 'Turn the second factor off (not for roles that require it)', body: Type.Object({ password: Password }, { examples: [{ password: 'Demo@Sangrahan2026' }] }), response: { 204: Type.Null(), ...errors } },
    },
    async (req, reply) => {
      await auth.disableTotp(userOf(req), req.body.password, req.meta);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/api/v1/auth/logout',
    { config: { access: { roles: 'any', stages: ALL_STAGES } }, schema: { tags, summary: 'End this session', response: { 204: Type.Null(), ...errors } } },
    async (req, reply) => {
      await auth.logout(userOf(req), req.meta);
      clearSessionCookie(reply);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/api/v1/auth/logout-everywhere',
    {
      config: { access: { roles: 'any' } },
      schema: { tags, summary: 'End every session of this user, on every device', response: { 200: Type.Object({ sessionsEnded: Type.Integer() }), ...errors } },
    },
    async (req, reply) => {
      const n = await auth.logoutEverywhere(userOf(req), req.meta);
      clearSessionCookie(reply);
      return { sessionsEnded: n };
    },
  );

  app.post(
    '/api/v1/auth/password',
    {
      config: { access: { roles: 'any' } },
      schema: {
        tags,
        summary: 'Change the password; other sessions end and this one gets a new id (and CSRF token)',
        body: Type.Object({ currentPassword: Password, newPassword: Password }, { examples: [{ currentPassword: 'Demo@Sangrahan2026', newPassword: 'A-new long passphrase 42' }] }),
        response: { 200: Type.Object({ csrfToken: Type.String() }), ...errors },
      },
    },
    async (req, reply) => {
      const s = await auth.changePassword(userOf(req), req.body.currentPassword, req.body.newPassword, req.meta);
      setSessionCookie(req, reply, s.token, ctx);
      return { csrfToken: s.csrfToken };
    },
  );

  app.post(
    '/api/v1/auth/password-reset',
    {
      config: { access: { public: true } },
      schema: {
        tags,
        summary: 'Send a reset code to the registered mobile and e-mail (the answer is the same whether or not the login ID exists)',
        body: Type.Object({ loginId: LoginId }, { examples: [{ loginId: 'edu.admin' }] }),
        response: { 202: Type.Object({ sent: Type.Literal(true) }), ...errors },
      },
    },
    async (req, reply) => {
      await auth.requestReset(req.body.loginId, req.meta);
      return reply.status(202).send({ sent: true as const });
    },
  );

  app.post(
    '/api/v1/auth/password-reset/confirm',
    {
      config: { access: { public: true } },
      schema: {
        tags,
        summary: 'Set a new password with a reset or invitation code',
        body: Type.Object({ loginId: LoginId, code: Code, newPassword: Password }, { examples: [{ loginId: 'edu.admin', code: '123456', newPassword: 'A-new long passphrase 42' }] }),
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (req, reply) => {
      await auth.confirmReset(req.body.loginId, req.body.code, req.body.newPassword, req.meta);
      return reply.status(204).send(null);
    },
  );
}

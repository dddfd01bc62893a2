import { sql, type Kysely } from 'kysely';
import QRCode from 'qrcode';
import { queueMessages } from '../../adapters/notifier/notifier.ts';
import type { Config } from '../../platform/config.ts';
import type { DB } from '../../platform/db/schema.ts';
import { AppError, type Text } from '../../platform/errors.ts';
import { TOTP_REQUIRED, type RequestMeta, type UserPrincipal } from '../../platform/principal.ts';
import { numericCode, sha256Hex } from '../../platform/tokens.ts';
import { recordAudit, recordAuditAlone } from '../audit/index.ts';
import { hashPassword, passwordProblems, verifyPassword } from './passwords.ts';
import { createSession, revokeSession, revokeUserSessions, type NewSession } from './sessions.ts';
import { clearBucket, lockedUntil, recordFailure, type ThrottleRule } from './throttle.ts';
import { newTotpSecret, otpauthUri, verifyTotp } from './totp.ts';

/**
 * Logging in and out, second factor, passwords.
 *
 * Rules:
 * - A login needs an active user of an approved organisation (discom staff have none). The
 *   answer to a wrong login ID and to a wrong password is the same, and takes as long.
 * - Failures are counted per account and per IP address in the database; reaching the limit
 *   locks the bucket for LOCKOUT_MINUTES with a message saying until when. One-time codes and
 *   TOTP codes count on the account too.
 * - Every login makes a new session (the old cookie's session is revoked): the id rotates. With
 *   TOTP enabled, or required for the role (approvers, all discom staff), the session first
 *   only allows finishing the second factor; finishing it rotates the id again.
 * - Password resets and invitations go by a 6-digit code through the notifier (15 minutes for
 *   a reset, 7 days for an invitation, 5 tries). Asking for a reset never says whether the
 *   login ID exists. Setting a password revokes the user's other sessions.
 * - Every login (success and failure), second-factor change, password change and reset is
 *   audited, in the transaction of the change.
 */

export interface LoginResult {
  session: NewSession;
  stage: UserPrincipal['stage'];
}

const RESET_MINUTES = 15;
const INVITATION_DAYS = 7;
const CODE_TRIES = 5;

function fmtIst(d: Date): string {
  return new Intl.DateTimeFormat('en-IN', { timeZone: 'Asia/Kolkata', hour: 'numeric', minute: '2-digit', day: 'numeric', month: 'short' }).format(d) + ' IST';
}

export function lockedError(until: Date): AppError {
  const when = fmtIst(until);
  return new AppError('ACCOUNT_LOCKED', [], {
    en: `Too many failed attempts. Try again after ${when}.`,
    hi: `बहुत अधिक असफल प्रयास। ${when} के बाद फिर प्रयास करें।`,
  });
}

export function passwordError(problems: Text[], path = 'body.newPassword'): AppError {
  return new AppError(
    'VALIDATION_FAILED',
    problems.map((m) => ({ path, problem: 'password_policy', message: m })),
  );
}

export class AuthService {
  private readonly accountRule: ThrottleRule;
  private readonly ipRule: ThrottleRule;

  constructor(
    private readonly db: Kysely<DB>,
    private readonly config: Config,
    private readonly clock: () => Date = () => new Date(),
  ) {
    const windowMs = config.lockoutMinutes * 60_000;
    this.accountRule = { max: config.loginMaxFailures, windowMs, lockMs: windowMs };
    this.ipRule = { max: config.loginMaxFailuresPerIp, windowMs, lockMs: windowMs };
  }

  async login(loginIdRaw: string, password: string, meta: RequestMeta, oldSessionId: string | null): Promise<LoginResult> {
    const loginId = loginIdRaw.trim().toLowerCase();
    const buckets = [`login-user:${loginId}`, `login-ip:${meta.ip}`];
    const locked = await lockedUntil(this.db, buckets);
    if (locked) {
      await recordAuditAlone(this.db, { action: 'auth.login', outcome: 'failure', actor: null, actorLabel: `login:${loginId}`, orgId: null, details: { reason: 'locked' }, meta });
      throw lockedError(locked);
    }
    const user = await this.db
      .selectFrom('users as u')
      .leftJoin('organisations as o', 'o.id', 'u.org_id')
      .select(['u.id', 'u.org_id', 'u.role', 'u.status', 'u.password_hash', 'u.totp_enabled_at', 'o.status as org_status'])
      .where('u.login_id', '=', loginId)
      .executeTakeFirst();
    const ok = await verifyPassword(user?.password_hash ?? null, password);
    if (!user || !ok) {
      const until = (await Promise.all([recordFailure(this.db, buckets[0]!, this.accountRule), recordFailure(this.db, buckets[1]!, this.ipRule)])).find(Boolean);
      await recordAuditAlone(this.db, {
        action: 'auth.login', outcome: 'failure', actor: null, actorLabel: `login:${loginId}`, orgId: user?.org_id ?? null,
        target: user ? { type: 'user', id: user.id } : undefined, details: { reason: 'bad_credentials' }, meta,
      });
      if (until) throw lockedError(until);
      throw new AppError('INVALID_CREDENTIALS');
    }
    const refuse = async (code: 'ACCOUNT_DISABLED' | 'ORGANISATION_PENDING' | 'ORGANISATION_REJECTED', reason: string) => {
      await recordAuditAlone(this.db, { action: 'auth.login', outcome: 'failure', actor: null, actorLabel: `login:${loginId}`, orgId: user.org_id, target: { type: 'user', id: user.id }, details: { reason }, meta });
      return new AppError(code);
    };
    if (user.status !== 'active') throw await refuse('ACCOUNT_DISABLED', user.status);
    if (user.org_id !== null && user.org_status === 'pending') throw await refuse('ORGANISATION_PENDING', 'organisation_pending');
    if (user.org_id !== null && user.org_status === 'rejected') throw await refuse('ORGANISATION_REJECTED', 'organisation_rejected');

    const stage: UserPrincipal['stage'] = user.totp_enabled_at ? 'totp' : TOTP_REQUIRED.includes(user.role) ? 'totp_enrol' : 'full';
    await clearBucket(this.db, buckets[0]!);
    const session = await this.db.transaction().execute(async (trx) => {
      if (oldSessionId) await revokeSession(trx, oldSessionId);
      const s = await createSession(trx, { userId: user.id, stage, ip: meta.ip, userAgent: meta.userAgent, absoluteHours: this.config.sessionAbsoluteHours });
      if (stage === 'full') await trx.updateTable('users').set({ last_login_at: this.clock() }).where('id', '=', user.id).execute();
      await recordAudit(trx, {
        action: stage === 'full' ? 'auth.login' : 'auth.login_password_ok', actor: null, actorLabel: `user:${loginId}`, orgId: user.org_id,
        target: { type: 'user', id: user.id }, details: { stage }, meta,
      });
      return s;
    });
    return { session, stage };
  }

  /** Second step of a login: the TOTP code. Rotates the session. */
  async completeTotp(p: UserPrincipal, code: string, meta: RequestMeta): Promise<NewSession> {
    const bucket = `code-user:${p.userId}`;
    const locked = await lockedUntil(this.db, [bucket]);
    if (locked) throw lockedError(locked);
    const user = await this.db.selectFrom('users').select(['totp_secret', 'totp_last_step', 'org_id']).where('id', '=', p.userId).executeTakeFirstOrThrow();
    const step = user.totp_secret ? verifyTotp(user.totp_secret, code.trim(), this.clock(), user.totp_last_step === null ? null : Number(user.totp_last_step)) : null;
    if (step === null) {
      const until = await recordFailure(this.db, bucket, this.accountRule);
      await recordAuditAlone(this.db, { action: 'auth.login', outcome: 'failure', actor: p, orgId: p.orgId, target: { type: 'user', id: p.userId }, details: { reason: 'bad_totp' }, meta });
      if (until) throw lockedError(until);
      throw new AppError('INVALID_CODE');
    }
    await clearBucket(this.db, bucket);
    return this.db.transaction().execute(async (trx) => {
      // Only once per step: a code seen on the wire cannot be replayed.
      const claimed = await trx
        .updateTable('users')
        .set({ totp_last_step: step, last_login_at: this.clock() })
        .where('id', '=', p.userId)
        .where((eb) => eb.or([eb('totp_last_step', 'is', null), eb('totp_last_step', '<', BigInt(step))]))
        .executeTakeFirst();
      if (claimed.numUpdatedRows === 0n) throw new AppError('INVALID_CODE');
      await revokeSession(trx, p.sessionId);
      const s = await createSession(trx, { userId: p.userId, stage: 'full', ip: meta.ip, userAgent: meta.userAgent, absoluteHours: this.config.sessionAbsoluteHours });
      await recordAudit(trx, { action: 'auth.login', actor: p, orgId: p.orgId, target: { type: 'user', id: p.userId }, details: { second_factor: 'totp' }, meta });
      return s;
    });
  }

  async startTotpEnrolment(p: UserPrincipal): Promise<{ secret: string; uri: string; qrSvg: string }> {
    const secret = newTotpSecret();
    await this.db.updateTable('users').set({ totp_pending_secret: secret }).where('id', '=', p.userId).execute();
    const uri = otpauthUri(secret, p.loginId);
    const qrSvg = await QRCode.toString(uri, { type: 'svg', margin: 1, errorCorrectionLevel: 'M' });
    return { secret, uri, qrSvg };
  }

  /** Confirms the enrolment with a first code. A session that was waiting for it becomes full (rotated). */
  async confirmTotpEnrolment(p: UserPrincipal, code: string, meta: RequestMeta): Promise<NewSession | null> {
    const bucket = `code-user:${p.userId}`;
    const locked = await lockedUntil(this.db, [bucket]);
    if (locked) throw lockedError(locked);
    const user = await this.db.selectFrom('users').select(['totp_pending_secret']).where('id', '=', p.userId).executeTakeFirstOrThrow();
    const step = user.totp_pending_secret ? verifyTotp(user.totp_pending_secret, code.trim(), this.clock(), null) : null;
    if (step === null) {
      const until = await recordFailure(this.db, bucket, this.accountRule);
      if (until) throw lockedError(until);
      throw new AppError('INVALID_CODE');
    }
    await clearBucket(this.db, bucket);
    return this.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('users')
        .set({ totp_secret: user.totp_pending_secret, totp_pending_secret: null, totp_enabled_at: this.clock(), totp_last_step: step })
        .where('id', '=', p.userId)
        .execute();
      await recordAudit(trx, { action: 'auth.totp_enabled', actor: p, orgId: p.orgId, target: { type: 'user', id: p.userId }, meta });
      if (p.stage !== 'totp_enrol') return null;
      await revokeSession(trx, p.sessionId);
      await trx.updateTable('users').set({ last_login_at: this.clock() }).where('id', '=', p.userId).execute();
      return createSession(trx, { userId: p.userId, stage: 'full', ip: meta.ip, userAgent: meta.userAgent, absoluteHours: this.config.sessionAbsoluteHours });
    });
  }

  async disableTotp(p: UserPrincipal, password: string, meta: RequestMeta): Promise<void> {
    if (TOTP_REQUIRED.includes(p.role)) {
      throw new AppError('FORBIDDEN', [], { en: 'Your role requires a second factor; it cannot be turned off.', hi: 'आपकी भूमिका के लिए दूसरा चरण आवश्यक है; इसे बंद नहीं किया जा सकता।' });
    }
    await this.checkPassword(p, password, meta, 'body.password');
    await this.db.transaction().execute(async (trx) => {
      await trx.updateTable('users').set({ totp_secret: null, totp_pending_secret: null, totp_enabled_at: null }).where('id', '=', p.userId).execute();
      await recordAudit(trx, { action: 'auth.totp_disabled', actor: p, orgId: p.orgId, target: { type: 'user', id: p.userId }, meta });
    });
  }

  async logout(p: UserPrincipal, meta: RequestMeta): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await revokeSession(trx, p.sessionId);
      await recordAudit(trx, { action: 'auth.logout', actor: p, orgId: p.orgId, target: { type: 'user', id: p.userId }, meta });
    });
  }

  async logoutEverywhere(p: UserPrincipal, meta: RequestMeta): Promise<number> {
    return this.db.transaction().execute(async (trx) => {
      const n = await revokeUserSessions(trx, p.userId);
      await recordAudit(trx, { action: 'auth.logout_everywhere', actor: p, orgId: p.orgId, target: { type: 'user', id: p.userId }, details: { sessions: n }, meta });
      return n;
    });
  }

  private async checkPassword(p: UserPrincipal, password: string, meta: RequestMeta, path: string): Promise<void> {
    const bucket = `login-user:${p.loginId}`;
    const locked = await lockedUntil(this.db, [bucket]);
    if (locked) throw lockedError(locked);
    const u = await this.db.selectFrom('users').select('password_hash').where('id', '=', p.userId).executeTakeFirstOrThrow();
    if (!(await verifyPassword(u.password_hash, password))) {
      const until = await recordFailure(this.db, bucket, this.accountRule);
      await recordAuditAlone(this.db, { action: 'auth.password_check', outcome: 'failure', actor: p, orgId: p.orgId, target: { type: 'user', id: p.userId }, meta });
      if (until) throw lockedError(until);
      throw new AppError('VALIDATION_FAILED', [{ path, problem: 'wrong_password', message: { en: 'is not your current password', hi: 'आपका वर्तमान पासवर्ड नहीं है' } }]);
    }
  }

  async changePassword(p: UserPrincipal, current: string, next: string, meta: RequestMeta): Promise<void> {
    const problems = passwordProblems(next, p.loginId);
    if (problems.length) throw passwordError(problems);
    await this.checkPassword(p, current, meta, 'body.currentPassword');
    const h = await hashPassword(next);
    await this.db.transaction().execute(async (trx) => {
      await trx.updateTable('users').set({ password_hash: h, password_changed_at: this.clock() }).where('id', '=', p.userId).execute();
      const n = await revokeUserSessions(trx, p.userId, p.sessionId);
      await recordAudit(trx, { action: 'auth.password_changed', actor: p, orgId: p.orgId, target: { type: 'user', id: p.userId }, details: { other_sessions_ended: n }, meta });
    });
  }

  /** Sends a reset code if the login ID belongs to a user who may reset; says nothing either way. */
  async requestReset(loginIdRaw: string, meta: RequestMeta): Promise<void> {
    const loginId = loginIdRaw.trim().toLowerCase();
    const locked = await lockedUntil(this.db, [`reset-ip:${meta.ip}`]);
    if (locked) throw lockedError(locked);
    // Requests count against the address whether or not the login ID exists.
    await recordFailure(this.db, `reset-ip:${meta.ip}`, { ...this.ipRule, max: this.config.loginMaxFailuresPerIp });
    const user = await this.db.selectFrom('users').select(['id', 'org_id', 'status', 'mobile', 'email', 'name']).where('login_id', '=', loginId).executeTakeFirst();
    if (!user || user.status === 'disabled' || (!user.mobile && !user.email)) {
      await recordAuditAlone(this.db, { action: 'auth.reset_requested', outcome: 'failure', actor: null, actorLabel: `login:${loginId}`, orgId: user?.org_id ?? null, details: { reason: user ? 'no_channel_or_disabled' : 'unknown_login' }, meta });
      return;
    }
    await this.db.transaction().execute(async (trx) => {
      await issueCode(trx, { userId: user.id, orgId: user.org_id, purpose: 'password_reset', mobile: user.mobile, email: user.email, name: user.name, loginId });
      await recordAudit(trx, { action: 'auth.reset_requested', actor: null, actorLabel: `login:${loginId}`, orgId: user.org_id, target: { type: 'user', id: user.id }, meta });
    });
  }

  /** Sets a password with a code from a reset or an invitation. */
  async confirmReset(loginIdRaw: string, code: string, next: string, meta: RequestMeta): Promise<void> {
    const loginId = loginIdRaw.trim().toLowerCase();
    const problems = passwordProblems(next, loginId);
    if (problems.length) throw passwordError(problems);
    const user = await this.db.selectFrom('users').select(['id', 'org_id', 'status']).where('login_id', '=', loginId).executeTakeFirst();
    const bucket = `code-user:${user?.id ?? loginId}`;
    const locked = await lockedUntil(this.db, [bucket]);
    if (locked) throw lockedError(locked);
    const fail = async () => {
      const until = await recordFailure(this.db, bucket, this.accountRule);
      await recordAuditAlone(this.db, { action: 'auth.password_reset', outcome: 'failure', actor: null, actorLabel: `login:${loginId}`, orgId: user?.org_id ?? null, meta });
      return until ? lockedError(until) : new AppError('INVALID_CODE');
    };
    if (!user || user.status === 'disabled') throw await fail();
    const h = await hashPassword(next);
    const done = await this.db.transaction().execute(async (trx) => {
      const open = await trx
        .selectFrom('one_time_codes')
        .select(['id', 'code_hash', 'attempts', 'purpose'])
        .where('user_id', '=', user.id)
        .where('used_at', 'is', null)
        .where('expires_at', '>', sql<Date>`now()`)
        .orderBy('id', 'desc')
        .forUpdate()
        .executeTakeFirst();
      if (!open || open.attempts >= CODE_TRIES) return false;
      if (open.code_hash !== sha256Hex(`${user.id}:${code.trim()}`)) {
        await trx.updateTable('one_time_codes').set({ attempts: open.attempts + 1 }).where('id', '=', open.id).execute();
        return false;
      }
      await trx.updateTable('one_time_codes').set({ used_at: this.clock() }).where('user_id', '=', user.id).where('used_at', 'is', null).execute();
      await trx.updateTable('users').set({ password_hash: h, password_changed_at: this.clock(), status: 'active' }).where('id', '=', user.id).execute();
      const n = await revokeUserSessions(trx, user.id);
      await recordAudit(trx, {
        action: open.purpose === 'invitation' ? 'auth.invitation_accepted' : 'auth.password_reset', actor: null, actorLabel: `user:${loginId}`,
        orgId: user.org_id, target: { type: 'user', id: user.id }, details: { sessions_ended: n }, meta,
      });
      return true;
    });
    if (!done) throw await fail();
    await clearBucket(this.db, bucket);
  }
}

/** A new one-time code for a user (earlier open codes stop working), sent by SMS and e-mail. */
export async function issueCode(
  trx: Kysely<DB>,
  u: { userId: bigint; orgId: bigint | null; purpose: 'password_reset' | 'invitation'; mobile: string | null; email: string | null; name: string; loginId: string },
): Promise<void> {
  const code = numericCode(6);
  const minutes = u.purpose === 'invitation' ? INVITATION_DAYS * 24 * 60 : RESET_MINUTES;
  await trx.updateTable('one_time_codes').set({ used_at: new Date() }).where('user_id', '=', u.userId).where('used_at', 'is', null).execute();
  await trx
    .insertInto('one_time_codes')
    .values({ user_id: u.userId, purpose: u.purpose, code_hash: sha256Hex(`${u.userId}:${code}`), expires_at: new Date(Date.now() + minutes * 60_000) })
    .execute();
  const validity = u.purpose === 'invitation' ? { en: `${INVITATION_DAYS} days`, hi: `${INVITATION_DAYS} दिन` } : { en: `${RESET_MINUTES} minutes`, hi: `${RESET_MINUTES} मिनट` };
  const what =
    u.purpose === 'invitation'
      ? { en: `You have been invited to Sangrahan as ${u.loginId}. To set your password, use code ${code}`, hi: `आपको संग्रहण पर ${u.loginId} के रूप में आमंत्रित किया गया है। पासवर्ड बनाने के लिए कोड ${code} का उपयोग करें` }
      : { en: `Your Sangrahan password reset code for ${u.loginId} is ${code}`, hi: `${u.loginId} के लिए आपका संग्रहण पासवर्ड रीसेट कोड ${code} है` };
  const body = `${what.en}. It is valid for ${validity.en}. Do not share it.\n${what.hi}। यह ${validity.hi} तक मान्य है। इसे किसी को न बताएँ।`;
  const subject = u.purpose === 'invitation' ? 'Sangrahan invitation / संग्रहण आमंत्रण' : 'Sangrahan password reset / संग्रहण पासवर्ड रीसेट';
  await queueMessages(trx, [
    ...(u.mobile ? [{ channel: 'sms' as const, recipient: u.mobile, body, purpose: u.purpose, orgId: u.orgId, userId: u.userId }] : []),
    ...(u.email ? [{ channel: 'email' as const, recipient: u.email, subject, body: `Dear ${u.name},\n\n${body}\n`, purpose: u.purpose, orgId: u.orgId, userId: u.userId }] : []),
  ]);
}


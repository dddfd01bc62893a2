import { sql, type Kysely } from 'kysely';
import QRCode from 'qrcode';
import { queueMessages } from '../../adapters/notifier/notifier.ts';
import type { Config } from '../../platform/config.ts';
import type { DB } from '../../platform/db/schema.ts';
import { AppError, type Text } from '../../platform/errors.ts';
import { TOTP_REQUIRED, type RequestMeta, type UserPrincipal } from '../../platform/principal.ts';
import { numericCode, sha256Hex } from '../../platform/tokens.ts';
import { addressKey } from '../../platform/http/origin.ts';
import { recordAudit, recordAuditAlone, type AuditEntry } from '../audit/index.ts';
import { hashPassword, passwordProblems, verifyPassword } from './passwords.ts';
import { createSession, revokeSession, revokeUserSessions, type NewSession } from './sessions.ts';
import { claimAttempt, clearBucket, releaseAttempt, type ThrottleRule } from './throttle.ts';
import { openSecret, sealSecret } from './secrets.ts';
import { newTotpSecret, otpauthUri, totpAlreadyUsed, verifyTotp } from './totp.ts';

/**
 * Logging in and out, second factor, passwords.
 *
 * Rules:
 * - A login needs an active user of an approved organisation (discom staff have none). The
 *   answer to a wrong login ID and to a wrong password is the same, and takes as long.
 * - Attempts are counted per account and per IP address in the database, before they are
 *   checked (so concurrent attempts cannot slip past); passing the limit locks the bucket for
 *   LOCKOUT_MINUTES with a message saying until when. Codes (TOTP, reset, invitation) have
 *   their own buckets, per account and per address. A right answer does not count.
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
/** Reset requests per login ID in the lockout window (each queues an SMS and an e-mail); more are answered alike but send nothing. */
const RESETS_PER_ACCOUNT = 3;
/** Reset requests per address in the lockout window, whatever the login IDs. */
const RESETS_PER_IP = 10;
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

/** A limit on how often something may be done (not a failure count): says what, and until when. */
export function rateLimitedError(until: Date, what: Text): AppError {
  const when = fmtIst(until);
  return new AppError('RATE_LIMITED', [], { en: `${what.en} Try again after ${when}.`, hi: `${what.hi} ${when} के बाद फिर प्रयास करें।` });
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

  /**
   * Counts an attempt on each bucket before anything is checked, so that concurrent attempts
   * cannot slip past the limit. A locked bucket refuses the attempt unchecked; the lock itself
   * is audited once, when it starts (not every refused attempt after it).
   */
  private async attempt(buckets: [string, ThrottleRule][], lockAudit: Omit<AuditEntry, 'action' | 'outcome'>, limit?: Text): Promise<void> {
    // In order, address first: an attempt refused for its address does not count on the account.
    let until: Date | null = null;
    let started = false;
    for (const [bucket, rule] of buckets) {
      const r = await claimAttempt(this.db, bucket, rule);
      if (r.lockedUntil) {
        until = r.lockedUntil;
        started = r.justLocked;
        break;
      }
    }
    if (!until) return;
    if (started) await recordAuditAlone(this.db, { ...lockAudit, action: 'auth.lockout', outcome: 'failure', details: { ...lockAudit.details, until: until.toISOString(), buckets: buckets.map(([b]) => b.split(':')[0]) } });
    // A limit on how often (not on failures) says so: nobody failed anything.
    throw limit ? rateLimitedError(until, limit) : lockedError(until);
  }

  private async succeeded(accountBucket: string, ipBucket: string): Promise<void> {
    await clearBucket(this.db, accountBucket);
    await releaseAttempt(this.db, ipBucket);
  }

  async login(loginIdRaw: string, password: string, meta: RequestMeta, oldSessionId: string | null): Promise<LoginResult> {
    const loginId = loginIdRaw.trim().toLowerCase();
    const user = await this.db
      .selectFrom('users as u')
      .leftJoin('organisations as o', 'o.id', 'u.org_id')
      .select(['u.id', 'u.org_id', 'u.discom_id', 'u.role', 'u.status', 'u.password_hash', 'u.totp_enabled_at', 'o.status as org_status'])
      .where('u.login_id', '=', loginId)
      .executeTakeFirst();
    const userBucket = `login-user:${loginId}`;
    const ipBucket = `login-ip:${addressKey(meta.ip)}`;
    const who = { actor: null, actorLabel: `login:${loginId}`, orgId: user?.org_id ?? null, discomId: user?.discom_id ?? null, target: user ? { type: 'user', id: user.id } : undefined, meta };
    await this.attempt([[ipBucket, this.ipRule], [userBucket, this.accountRule]], who);
    const ok = await verifyPassword(user?.password_hash ?? null, password);
    if (!user || !ok) {
      await recordAuditAlone(this.db, { ...who, action: 'auth.login', outcome: 'failure', details: { reason: 'bad_credentials' } });
      throw new AppError('INVALID_CREDENTIALS');
    }
    const refuse = async (code: 'ACCOUNT_DISABLED' | 'ORGANISATION_PENDING' | 'ORGANISATION_REJECTED', reason: string) => {
      await recordAuditAlone(this.db, { ...who, action: 'auth.login', outcome: 'failure', details: { reason } });
      return new AppError(code);
    };
    if (user.status !== 'active') throw await refuse('ACCOUNT_DISABLED', user.status);
    // Answered like a wrong password: otherwise registering a login ID and logging in with the
    // password just chosen would tell whether the ID was free (pending) or someone else's (wrong).
    if (user.org_id !== null && user.org_status === 'pending') {
      await refuse('ORGANISATION_PENDING', 'organisation_pending');
      throw new AppError('INVALID_CREDENTIALS');
    }
    if (user.org_id !== null && user.org_status === 'rejected') throw await refuse('ORGANISATION_REJECTED', 'organisation_rejected');

    const stage: UserPrincipal['stage'] = user.totp_enabled_at ? 'totp' : TOTP_REQUIRED.includes(user.role) ? 'totp_enrol' : 'full';
    await this.succeeded(userBucket, ipBucket);
    const session = await this.db.transaction().execute(async (trx) => {
      if (oldSessionId) await revokeSession(trx, oldSessionId);
      const s = await createSession(trx, { userId: user.id, stage, ip: meta.ip, userAgent: meta.userAgent, absoluteHours: this.config.sessionAbsoluteHours });
      if (stage === 'full') await trx.updateTable('users').set({ last_login_at: this.clock() }).where('id', '=', user.id).execute();
      await recordAudit(trx, {
        action: stage === 'full' ? 'auth.login' : 'auth.login_password_ok', actor: null, actorLabel: `user:${loginId}`, orgId: user.org_id, discomId: user.discom_id,
        target: { type: 'user', id: user.id }, details: { stage }, meta,
      });
      return s;
    });
    return { session, stage };
  }

  /**
   * Code attempts per address and per account: `id:<user id>` for a logged-in user's TOTP,
   * `login:<login ID>` for a reset code (two namespaces: a login ID made of digits must not be
   * another user's id, or anyone could lock that user's second factor).
   */
  private codeBuckets(userKey: `id:${string}` | `login:${string}`, meta: RequestMeta): [string, ThrottleRule][] {
    return [[`code-ip:${addressKey(meta.ip)}`, this.ipRule], [`code-user:${userKey}`, this.accountRule]];
  }

  /** Second step of a login: the TOTP code. Rotates the session. */
  async completeTotp(p: UserPrincipal, code: string, meta: RequestMeta): Promise<NewSession> {
    const who = { actor: p, orgId: p.orgId, target: { type: 'user', id: p.userId }, meta };
    await this.attempt(this.codeBuckets(`id:${p.userId}`, meta), who);
    const user = await this.db.selectFrom('users').select(['totp_secret', 'totp_last_step', 'org_id']).where('id', '=', p.userId).executeTakeFirstOrThrow();
    const step = user.totp_secret ? verifyTotp(openSecret(user.totp_secret), code.trim(), this.clock(), user.totp_last_step === null ? null : Number(user.totp_last_step)) : null;
    if (step === null) {
      const used = !!user.totp_secret && totpAlreadyUsed(openSecret(user.totp_secret), code.trim(), this.clock(), user.totp_last_step === null ? null : Number(user.totp_last_step));
      await recordAuditAlone(this.db, { ...who, action: 'auth.login', outcome: 'failure', details: { reason: used ? 'totp_already_used' : 'bad_totp' } });
      throw new AppError(used ? 'CODE_ALREADY_USED' : 'INVALID_CODE');
    }
    await this.succeeded(`code-user:id:${p.userId}`, `code-ip:${addressKey(meta.ip)}`);
    return this.db.transaction().execute(async (trx) => {
      // Only once per step: a code seen on the wire cannot be replayed.
      const claimed = await trx
        .updateTable('users')
        .set({ totp_last_step: step, last_login_at: this.clock() })
        .where('id', '=', p.userId)
        .where((eb) => eb.or([eb('totp_last_step', 'is', null), eb('totp_last_step', '<', BigInt(step))]))
        .executeTakeFirst();
      // Claimed by a request a moment earlier with the same code.
      if (claimed.numUpdatedRows === 0n) throw new AppError('CODE_ALREADY_USED');
      await revokeSession(trx, p.sessionId);
      const s = await createSession(trx, { userId: p.userId, stage: 'full', ip: meta.ip, userAgent: meta.userAgent, absoluteHours: this.config.sessionAbsoluteHours });
      await recordAudit(trx, { action: 'auth.login', actor: p, orgId: p.orgId, target: { type: 'user', id: p.userId }, details: { second_factor: 'totp' }, meta });
      return s;
    });
  }

  /**
   * A fresh second factor for one sensitive action (approving a payment): a current TOTP code,
   * throttled like a login code and usable once (its step is claimed).
   */
  async confirmTotp(p: UserPrincipal, code: string, meta: RequestMeta, action: string): Promise<void> {
    const who = { actor: p, orgId: p.orgId, target: { type: 'user', id: p.userId }, meta };
    await this.attempt(this.codeBuckets(`id:${p.userId}`, meta), who);
    const user = await this.db.selectFrom('users').select(['totp_secret', 'totp_last_step']).where('id', '=', p.userId).executeTakeFirstOrThrow();
    const step = user.totp_secret ? verifyTotp(openSecret(user.totp_secret), code.trim(), this.clock(), user.totp_last_step === null ? null : Number(user.totp_last_step)) : null;
    const claimed =
      step !== null &&
      (
        await this.db
          .updateTable('users')
          .set({ totp_last_step: step })
          .where('id', '=', p.userId)
          .where((eb) => eb.or([eb('totp_last_step', 'is', null), eb('totp_last_step', '<', BigInt(step))]))
          .executeTakeFirst()
      ).numUpdatedRows > 0n;
    if (!claimed) {
      // Right but used (at login a moment ago, or by a request that won the race for its step).
      const used = step !== null || (!!user.totp_secret && totpAlreadyUsed(openSecret(user.totp_secret), code.trim(), this.clock(), user.totp_last_step === null ? null : Number(user.totp_last_step)));
      await recordAuditAlone(this.db, { ...who, action, outcome: 'failure', details: { reason: used ? 'totp_already_used' : 'bad_totp' } });
      throw new AppError(used ? 'CODE_ALREADY_USED' : 'INVALID_CODE');
    }
    await this.succeeded(`code-user:id:${p.userId}`, `code-ip:${addressKey(meta.ip)}`);
  }

  /**
   * A new authenticator secret. Replacing one already in use needs the current password and a
   * current code, so that a stolen session cannot swap the second factor.
   */
  async startTotpEnrolment(p: UserPrincipal, proof: { password?: string | undefined; code?: string | undefined }, meta: RequestMeta): Promise<{ secret: string; uri: string; qrSvg: string }> {
    const u = await this.db.selectFrom('users').select(['totp_enabled_at', 'totp_secret', 'totp_last_step']).where('id', '=', p.userId).executeTakeFirstOrThrow();
    if (u.totp_enabled_at) {
      if (!proof.password || !proof.code) {
        throw new AppError('VALIDATION_FAILED', [
          ...(!proof.password ? [{ path: 'body.password', problem: 'required', message: { en: 'enter your password to replace your authenticator', hi: 'ऑथेंटिकेटर बदलने के लिए अपना पासवर्ड दर्ज करें' } }] : []),
          ...(!proof.code ? [{ path: 'body.code', problem: 'required', message: { en: 'enter a code from your current authenticator', hi: 'अपने वर्तमान ऑथेंटिकेटर का कोड दर्ज करें' } }] : []),
        ]);
      }
      await this.checkPassword(p, proof.password, meta, 'body.password');
      await this.attempt(this.codeBuckets(`id:${p.userId}`, meta), { actor: p, orgId: p.orgId, target: { type: 'user', id: p.userId }, meta });
      if (verifyTotp(openSecret(u.totp_secret!), proof.code.trim(), this.clock(), null) === null) {
        await recordAuditAlone(this.db, { action: 'auth.totp_replace', outcome: 'failure', actor: p, orgId: p.orgId, target: { type: 'user', id: p.userId }, details: { reason: 'bad_totp' }, meta });
        throw new AppError('INVALID_CODE');
      }
    }
    const secret = newTotpSecret();
    await this.db.updateTable('users').set({ totp_pending_secret: sealSecret(secret) }).where('id', '=', p.userId).execute();
    const uri = otpauthUri(secret, p.loginId);
    const qrSvg = await QRCode.toString(uri, { type: 'svg', margin: 1, errorCorrectionLevel: 'M' });
    return { secret, uri, qrSvg };
  }

  /** Confirms the enrolment with a first code. A session that was waiting for it becomes full (rotated). */
  async confirmTotpEnrolment(p: UserPrincipal, code: string, meta: RequestMeta): Promise<NewSession | null> {
    const who = { actor: p, orgId: p.orgId, target: { type: 'user', id: p.userId }, meta };
    await this.attempt(this.codeBuckets(`id:${p.userId}`, meta), who);
    const user = await this.db.selectFrom('users').select(['totp_pending_secret']).where('id', '=', p.userId).executeTakeFirstOrThrow();
    const step = user.totp_pending_secret ? verifyTotp(openSecret(user.totp_pending_secret), code.trim(), this.clock(), null) : null;
    if (step === null) {
      await recordAuditAlone(this.db, { ...who, action: 'auth.totp_enabled', outcome: 'failure', details: { reason: user.totp_pending_secret ? 'bad_totp' : 'no_enrolment' } });
      throw new AppError('INVALID_CODE');
    }
    await this.succeeded(`code-user:id:${p.userId}`, `code-ip:${addressKey(meta.ip)}`);
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
    const who = { actor: p, orgId: p.orgId, target: { type: 'user', id: p.userId }, meta };
    await this.attempt([[`login-ip:${addressKey(meta.ip)}`, this.ipRule], [`login-user:${p.loginId}`, this.accountRule]], who);
    const u = await this.db.selectFrom('users').select('password_hash').where('id', '=', p.userId).executeTakeFirstOrThrow();
    if (!(await verifyPassword(u.password_hash, password))) {
      await recordAuditAlone(this.db, { ...who, action: 'auth.password_check', outcome: 'failure' });
      throw new AppError('VALIDATION_FAILED', [{ path, problem: 'wrong_password', message: { en: 'is not your current password', hi: 'आपका वर्तमान पासवर्ड नहीं है' } }]);
    }
    await this.succeeded(`login-user:${p.loginId}`, `login-ip:${addressKey(meta.ip)}`);
  }

  /** Changes the password; every other session ends, and this one gets a new id. */
  async changePassword(p: UserPrincipal, current: string, next: string, meta: RequestMeta): Promise<NewSession> {
    const problems = passwordProblems(next, p.loginId);
    if (problems.length) throw passwordError(problems);
    await this.checkPassword(p, current, meta, 'body.currentPassword');
    const h = await hashPassword(next);
    return this.db.transaction().execute(async (trx) => {
      await trx.updateTable('users').set({ password_hash: h, password_changed_at: this.clock() }).where('id', '=', p.userId).execute();
      const n = await revokeUserSessions(trx, p.userId);
      await recordAudit(trx, { action: 'auth.password_changed', actor: p, orgId: p.orgId, target: { type: 'user', id: p.userId }, details: { other_sessions_ended: n - 1 }, meta });
      return createSession(trx, { userId: p.userId, stage: p.stage, ip: meta.ip, userAgent: meta.userAgent, absoluteHours: this.config.sessionAbsoluteHours });
    });
  }

  /**
   * Sends a reset code if the login ID belongs to a user who may reset; says nothing either way.
   * Throttled per address (refused past RESETS_PER_IP) and per login ID, existing or not: past
   * RESETS_PER_ACCOUNT the answer is the same but nothing is sent (the code already sent stays
   * valid), so that nobody can flood a user's phone or learn whether the login ID exists.
   */
  async requestReset(loginIdRaw: string, meta: RequestMeta): Promise<void> {
    const loginId = loginIdRaw.trim().toLowerCase();
    const windowMs = this.config.lockoutMinutes * 60_000;
    const who = { actor: null, actorLabel: `login:${loginId}`, orgId: null, meta };
    await this.attempt([[`reset-ip:${addressKey(meta.ip)}`, { max: RESETS_PER_IP, windowMs, lockMs: windowMs }]], who, {
      en: `Password resets from your address are limited to ${RESETS_PER_IP} in ${this.config.lockoutMinutes} minutes.`,
      hi: `आपके पते से पासवर्ड रीसेट ${this.config.lockoutMinutes} मिनट में ${RESETS_PER_IP} तक सीमित हैं।`,
    });
    const perAccount = await claimAttempt(this.db, `reset-user:${loginId}`, { max: RESETS_PER_ACCOUNT, windowMs, lockMs: windowMs });
    const user = await this.db.selectFrom('users').select(['id', 'org_id', 'discom_id', 'status', 'mobile', 'email', 'name']).where('login_id', '=', loginId).executeTakeFirst();
    const refused = !user ? 'unknown_login' : user.status === 'disabled' || (!user.mobile && !user.email) ? 'no_channel_or_disabled' : perAccount.lockedUntil ? 'throttled' : null;
    if (refused) {
      // One entry when the per-account limit starts, not one per request after it.
      if (refused !== 'throttled' || perAccount.justLocked) {
        await recordAuditAlone(this.db, { ...who, action: 'auth.reset_requested', outcome: 'failure', orgId: user?.org_id ?? null, discomId: user?.discom_id ?? null, target: user ? { type: 'user', id: user.id } : undefined, details: { reason: refused }, meta });
      }
      return;
    }
    await this.db.transaction().execute(async (trx) => {
      await issueCode(trx, { userId: user!.id, orgId: user!.org_id, purpose: 'password_reset', mobile: user!.mobile, email: user!.email, name: user!.name, loginId });
      await recordAudit(trx, { action: 'auth.reset_requested', actor: null, actorLabel: `login:${loginId}`, orgId: user!.org_id, discomId: user!.discom_id, target: { type: 'user', id: user!.id }, meta });
    });
  }

  /** Sets a password with a code from a reset or an invitation. */
  async confirmReset(loginIdRaw: string, code: string, next: string, meta: RequestMeta): Promise<void> {
    const loginId = loginIdRaw.trim().toLowerCase();
    const problems = passwordProblems(next, loginId);
    if (problems.length) throw passwordError(problems);
    // Hashed first, whether or not the login ID exists: the answer takes as long either way.
    const h = await hashPassword(next);
    const user = await this.db.selectFrom('users').select(['id', 'org_id', 'discom_id', 'status']).where('login_id', '=', loginId).executeTakeFirst();
    const who = { actor: null, actorLabel: `login:${loginId}`, orgId: user?.org_id ?? null, discomId: user?.discom_id ?? null, target: user ? { type: 'user', id: user.id } : undefined, meta };
    await this.attempt(this.codeBuckets(`login:${loginId}`, meta), who);
    const done =
      !!user &&
      user.status !== 'disabled' &&
      (await this.db.transaction().execute(async (trx) => {
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
          await recordAudit(trx, { ...who, action: 'auth.password_reset', outcome: 'failure', details: { reason: 'bad_code' } });
          return false;
        }
        await trx.updateTable('one_time_codes').set({ used_at: this.clock() }).where('user_id', '=', user.id).where('used_at', 'is', null).execute();
        await trx.updateTable('users').set({ password_hash: h, password_changed_at: this.clock(), status: 'active' }).where('id', '=', user.id).execute();
        const n = await revokeUserSessions(trx, user.id);
        await recordAudit(trx, {
          action: open.purpose === 'invitation' ? 'auth.invitation_accepted' : 'auth.password_reset', actor: null, actorLabel: `user:${loginId}`,
          orgId: user.org_id, discomId: user.discom_id, target: { type: 'user', id: user.id }, details: { sessions_ended: n }, meta,
        });
        return true;
      }));
    if (!done) throw new AppError('INVALID_CODE');
    await this.succeeded(`code-user:login:${loginId}`, `code-ip:${addressKey(meta.ip)}`);
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


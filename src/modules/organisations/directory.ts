import { sql, type Kysely } from 'kysely';
import type { DB, Role } from '../../platform/db/schema.ts';
import { AppError, type Text } from '../../platform/errors.ts';
import { EMAIL, MOBILE, maskMobile } from '../../platform/identifiers.ts';
import { DISCOM_ROLES, ORG_ROLES, TOTP_REQUIRED, discomScope, type RequestMeta, type UserPrincipal } from '../../platform/principal.ts';
import { recordAudit } from '../audit/index.ts';
import { discomIdOf } from '../discoms/scope.ts';
import { issueCode, revokeUserSessions } from '../identity/index.ts';
import { LOGIN_ID } from '../../platform/identifiers.ts';

/**
 * An organisation's offices and users, and the discom's own staff.
 *
 * Rules:
 * - Offices form a tree: HQ → district → office (an office may also sit directly under HQ).
 * - A user scoped to an office sees and manages only that office's subtree: its offices and the
 *   users placed in it. A scoped administrator must place new users inside the subtree.
 * - An organisation admin invites users (a code goes to their mobile or e-mail to set a
 *   password), changes roles and offices, disables, enables, and sends password resets.
 *   Discom admins do the same for discom staff: a discom's admin for the staff of that discom
 *   only (and invites staff of that discom only), the holding company's admin for all, choosing
 *   the discom (or the holding company) of each person invited.
 * - Nobody changes their own role or disables themselves, and an organisation always keeps an
 *   active admin; the discom's staff always keep an active admin who can manage them (one of
 *   their discom, or of the holding company), and the holding company keeps one of its own.
 * - Every change is audited; a role change records the old and the new role.
 */

/** An organisation (or its office subtree), or the discom staff of one discom (discomId null: the holding company's admin, all staff). */
export type Scope = { kind: 'org'; orgId: bigint; officePath: string | null } | { kind: 'discom'; discomId: bigint | null };

export function scopeOf(p: UserPrincipal): Scope {
  return p.orgId === null ? { kind: 'discom', discomId: discomScope(p) } : { kind: 'org', orgId: p.orgId, officePath: p.officePath };
}

const t = (en: string, hi: string): Text => ({ en, hi });

/** A unique value taken by a concurrent request: the database says so, and the user sees a field error. */
async function takenAs<T>(field: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if ((e as { code?: string }).code === '23505') {
      throw new AppError('VALIDATION_FAILED', [{ path: `body.${field}`, problem: 'taken', message: t('was taken a moment ago; choose another', 'अभी-अभी किसी और ने ले लिया; दूसरा चुनें') }]);
    }
    throw e;
  }
}
const field = (path: string, problem: string, message: Text) => new AppError('VALIDATION_FAILED', [{ path: `body.${path}`, problem, message }]);

export interface UserView {
  id: string;
  loginId: string;
  name: string;
  email: string | null;
  mobile: string | null;
  role: Role;
  status: 'invited' | 'active' | 'disabled';
  office: { id: string; code: string; name: string } | null;
  /** Discom staff: their discom's code, or null with `holding` for the holding company. */
  discom: string | null;
  holding: boolean;
  totpEnabled: boolean;
  lastLoginAt: string | null;
  createdAt: string;
}

export interface InviteInput {
  loginId: string;
  name: string;
  email?: string | undefined;
  mobile?: string | undefined;
  role: Role;
  officeId?: string | undefined;
  /** Discom staff invited by the holding company's admin: their discom, or `holding`. */
  discomCode?: string | undefined;
  holding?: boolean | undefined;
}

export interface OfficeView {
  id: string;
  parentId: string | null;
  kind: 'hq' | 'district' | 'office';
  code: string;
  name: string;
  depth: number;
  users: number;
}

export class DirectoryService {
  constructor(private readonly db: Kysely<DB>) {}

  // ---- offices -------------------------------------------------------------------------

  async offices(scope: Scope): Promise<OfficeView[]> {
    if (scope.kind !== 'org') return [];
    let q = this.db
      .selectFrom('offices as f')
      .select(['f.id', 'f.parent_id', 'f.kind', 'f.code', 'f.name', 'f.path'])
      .select((eb) => eb.selectFrom('users as u').select(sql<bigint>`count(*)`.as('n')).whereRef('u.office_id', '=', 'f.id').as('users'))
      .where('f.org_id', '=', scope.orgId);
    if (scope.officePath) q = q.where('f.path', 'like', `${scope.officePath}%`);
    const rows = await q.orderBy('f.path').execute();
    return rows.map((r) => ({
      id: r.id.toString(),
      parentId: r.parent_id?.toString() ?? null,
      kind: r.kind,
      code: r.code,
      name: r.name,
      depth: r.path.split('/').length - 3,
      users: Number(r.users ?? 0),
    }));
  }

  private async officeInScope(db: Kysely<DB>, scope: Scope, id: bigint) {
    if (scope.kind !== 'org') return undefined;
    let q = db.selectFrom('offices').selectAll().where('id', '=', id).where('org_id', '=', scope.orgId);
    if (scope.officePath) q = q.where('path', 'like', `${scope.officePath}%`);
    return q.executeTakeFirst();
  }

  async createOffice(scope: Scope, actor: UserPrincipal, input: { parentId: string; kind: 'district' | 'office'; code: string; name: string }, meta: RequestMeta): Promise<OfficeView> {
    if (scope.kind !== 'org') throw new AppError('FORBIDDEN');
    const code = input.code.trim().toUpperCase();
    if (!/^[A-Z0-9][A-Z0-9-]{0,19}$/.test(code)) throw field('code', 'format', t('must be up to 20 capital letters, digits or dashes', 'अधिकतम 20 बड़े अक्षर, अंक या डैश होने चाहिए'));
    if (!input.name.trim()) throw field('name', 'required', t('is required', 'आवश्यक है'));
    return takenAs('code', () => this.db.transaction().execute(async (trx) => {
      const parent = await this.officeInScope(trx, scope, BigInt(input.parentId));
      if (!parent) throw new AppError('NOT_FOUND');
      if (input.kind === 'district' && parent.kind !== 'hq') {
        throw field('parentId', 'kind', t('a district office must be under the head office', 'जिला कार्यालय मुख्यालय के अंतर्गत होना चाहिए'));
      }
      if (parent.kind === 'office') throw field('parentId', 'kind', t('an office cannot have offices under it', 'किसी कार्यालय के अंतर्गत कार्यालय नहीं हो सकता'));
      const dup = await trx.selectFrom('offices').select('id').where('org_id', '=', scope.orgId).where('code', '=', code).executeTakeFirst();
      if (dup) throw field('code', 'taken', t('is already used by another office', 'किसी अन्य कार्यालय का कोड है'));
      const row = await trx
        .insertInto('offices')
        .values({ org_id: scope.orgId, parent_id: parent.id, kind: input.kind, code, name: input.name.trim(), path: parent.path })
        .returning(['id'])
        .executeTakeFirstOrThrow();
      const path = `${parent.path}${row.id}/`;
      await trx.updateTable('offices').set({ path }).where('id', '=', row.id).execute();
      await recordAudit(trx, { action: 'office.created', actor, orgId: scope.orgId, target: { type: 'office', id: row.id }, details: { code, name: input.name.trim(), parent_id: parent.id.toString() }, meta });
      return { id: row.id.toString(), parentId: parent.id.toString(), kind: input.kind, code, name: input.name.trim(), depth: path.split('/').length - 3, users: 0 };
    }));
  }

  async renameOffice(scope: Scope, actor: UserPrincipal, officeId: bigint, name: string, meta: RequestMeta): Promise<void> {
    if (!name.trim()) throw field('name', 'required', t('is required', 'आवश्यक है'));
    await this.db.transaction().execute(async (trx) => {
      const office = await this.officeInScope(trx, scope, officeId);
      if (!office || scope.kind !== 'org') throw new AppError('NOT_FOUND');
      await trx.updateTable('offices').set({ name: name.trim() }).where('id', '=', officeId).execute();
      await recordAudit(trx, { action: 'office.renamed', actor, orgId: scope.orgId, target: { type: 'office', id: officeId }, details: { from: office.name, to: name.trim() }, meta });
    });
  }

  // ---- users ---------------------------------------------------------------------------

  private usersQuery(db: Kysely<DB>, scope: Scope) {
    let q = db
      .selectFrom('users as u')
      .leftJoin('offices as f', 'f.id', 'u.office_id')
      .leftJoin('discoms as d', 'd.id', 'u.discom_id')
      .select([
        'u.id', 'u.login_id', 'u.name', 'u.email', 'u.mobile', 'u.role', 'u.status', 'u.totp_enabled_at', 'u.last_login_at', 'u.created_at',
        'u.org_id', 'f.id as office_id', 'f.code as office_code', 'f.name as office_name', 'f.path as office_path', 'u.discom_id', 'd.code as discom_code', 'u.holding',
      ]);
    if (scope.kind === 'discom') {
      q = q.where('u.org_id', 'is', null);
      return scope.discomId === null ? q : q.where('u.discom_id', '=', scope.discomId);
    }
    q = q.where('u.org_id', '=', scope.orgId);
    if (scope.officePath) q = q.where('f.path', 'like', `${scope.officePath}%`);
    return q;
  }

  async users(scope: Scope): Promise<UserView[]> {
    const rows = await this.usersQuery(this.db, scope).orderBy('u.login_id').execute();
    return rows.map((r) => ({
      id: r.id.toString(),
      loginId: r.login_id,
      name: r.name,
      email: r.email,
      mobile: maskMobile(r.mobile),
      role: r.role,
      status: r.status,
      office: r.office_id ? { id: r.office_id.toString(), code: r.office_code!, name: r.office_name! } : null,
      discom: r.discom_code,
      holding: r.holding,
      totpEnabled: r.totp_enabled_at !== null,
      lastLoginAt: r.last_login_at?.toISOString() ?? null,
      createdAt: r.created_at.toISOString(),
    }));
  }

  private async userInScope(db: Kysely<DB>, scope: Scope, userId: bigint) {
    return this.usersQuery(db, scope).where('u.id', '=', userId).forUpdate('u').executeTakeFirst();
  }

  private rolesFor(scope: Scope): readonly Role[] {
    return scope.kind === 'org' ? ORG_ROLES : DISCOM_ROLES;
  }

  private adminRole(scope: Scope): Role {
    return scope.kind === 'org' ? 'org_admin' : 'discom_admin';
  }

  private async resolveOffice(db: Kysely<DB>, scope: Scope, officeId: string | undefined | null): Promise<bigint | null> {
    if (scope.kind === 'discom') {
      if (officeId) throw field('officeId', 'not_applicable', t('discom staff are not placed in offices', 'डिस्कॉम कर्मचारी कार्यालयों में नहीं रखे जाते'));
      return null;
    }
    if (!officeId) {
      if (scope.officePath) throw field('officeId', 'required', t('choose an office within yours', 'अपने अंतर्गत कोई कार्यालय चुनें'));
      return null;
    }
    const office = /^\d+$/.test(officeId) ? await this.officeInScope(db, scope, BigInt(officeId)) : undefined;
    if (!office) throw field('officeId', 'unknown', t('is not one of your offices', 'आपके कार्यालयों में से नहीं है'));
    return office.id;
  }

  /**
   * Where a new discom staff member belongs. A discom's admin adds staff of that discom only;
   * the holding company's admin names the discom, or the holding company.
   */
  private async staffHome(db: Kysely<DB>, scope: Scope, input: InviteInput): Promise<{ discom_id: bigint | null; holding: boolean }> {
    if (scope.kind === 'org') {
      if (input.discomCode || input.holding) throw field(input.discomCode ? 'discomCode' : 'holding', 'not_applicable', t('organisation users belong to no discom', 'संस्था के उपयोगकर्ता किसी डिस्कॉम से नहीं जुड़े होते'));
      return { discom_id: null, holding: false };
    }
    const named = input.discomCode?.trim() ? await discomIdOf(db, input.discomCode) : undefined;
    if (scope.discomId !== null) {
      if (input.holding || (input.discomCode?.trim() && named !== scope.discomId)) {
        throw new AppError('FORBIDDEN', [], t('You add staff of your own discom only; the holding company’s administrator adds staff of another discom or of the holding company.', 'आप केवल अपने डिस्कॉम के कर्मचारी जोड़ सकते हैं; दूसरे डिस्कॉम या होल्डिंग कंपनी के कर्मचारी होल्डिंग कंपनी के व्यवस्थापक जोड़ते हैं।'));
      }
      return { discom_id: scope.discomId, holding: false };
    }
    if (input.holding && input.discomCode?.trim()) throw field('discomCode', 'conflict', t('choose a discom or the holding company, not both', 'डिस्कॉम या होल्डिंग कंपनी में से एक चुनें, दोनों नहीं'));
    if (input.holding) return { discom_id: null, holding: true };
    if (!input.discomCode?.trim()) throw field('discomCode', 'required', t('choose the discom the person belongs to, or the holding company', 'व्यक्ति का डिस्कॉम चुनें, या होल्डिंग कंपनी'));
    if (named === undefined) throw field('discomCode', 'unknown', t('is not one of the discoms', 'कोई डिस्कॉम नहीं है'));
    return { discom_id: named, holding: false };
  }

  /**
   * Serialises changes to one organisation's users (or to the discom's staff), and checks that
   * the actor is still an active admin: two admins demoting each other at once cannot both win.
   */
  private async lockScope(db: Kysely<DB>, scope: Scope, actor: UserPrincipal): Promise<void> {
    if (scope.kind === 'org') await db.selectFrom('organisations').select('id').where('id', '=', scope.orgId).forUpdate().executeTakeFirst();
    else await sql`SELECT pg_advisory_xact_lock(hashtextextended('discom-staff', 0))`.execute(db);
    const me = await db.selectFrom('users').select(['role', 'status']).where('id', '=', actor.userId).executeTakeFirst();
    if (!me || me.status !== 'active' || me.role !== this.adminRole(scope)) throw new AppError('FORBIDDEN');
  }

  /**
   * Another active admin must remain when `userId` stops being one: of the organisation; for a
   * discom's admin, one of that discom or of the holding company (who manage its staff); for the
   * holding company's, one of the holding company.
   */
  private async assertAnotherAdmin(db: Kysely<DB>, scope: Scope, userId: bigint, target: { discom_id: bigint | null }): Promise<void> {
    let q = db.selectFrom('users').select(sql<bigint>`count(*)`.as('n')).where('role', '=', this.adminRole(scope)).where('status', '=', 'active').where('id', '<>', userId);
    if (scope.kind === 'org') q = q.where('org_id', '=', scope.orgId);
    else if (target.discom_id === null) q = q.where('org_id', 'is', null).where('holding', '=', true);
    else q = q.where('org_id', 'is', null).where((eb) => eb.or([eb('holding', '=', true), eb('discom_id', '=', target.discom_id)]));
    const r = await q.executeTakeFirstOrThrow();
    if (r.n === 0n) throw new AppError('CONFLICT', [], t('This is the last active administrator; make someone else an administrator first.', 'यह अंतिम सक्रिय व्यवस्थापक है; पहले किसी और को व्यवस्थापक बनाएँ।'));
  }

  async invite(scope: Scope, actor: UserPrincipal, input: InviteInput, meta: RequestMeta): Promise<UserView> {
    const loginId = input.loginId.trim().toLowerCase();
    const problems: { path: string; problem: string; message: Text }[] = [];
    if (!LOGIN_ID.test(loginId)) problems.push({ path: 'body.loginId', problem: 'format', message: t('must be 3 to 40 small letters, digits, dot, dash or underscore', '3 से 40 छोटे अक्षर, अंक, बिंदु, डैश या अंडरस्कोर') });
    if (!input.name.trim()) problems.push({ path: 'body.name', problem: 'required', message: t('is required', 'आवश्यक है') });
    if (input.mobile && !MOBILE.test(input.mobile.trim())) problems.push({ path: 'body.mobile', problem: 'format', message: t('must be a 10-digit mobile number starting with 6 to 9', '6 से 9 से शुरू होने वाला 10 अंकों का मोबाइल नंबर होना चाहिए') });
    if (input.email && !EMAIL.test(input.email.trim())) problems.push({ path: 'body.email', problem: 'format', message: t('must be an e-mail address', 'ई-मेल पता होना चाहिए') });
    if (!input.mobile?.trim() && !input.email?.trim()) problems.push({ path: 'body.mobile', problem: 'required', message: t('give a mobile number or an e-mail address to send the invitation to', 'आमंत्रण भेजने के लिए मोबाइल नंबर या ई-मेल दें') });
    if (!this.rolesFor(scope).includes(input.role)) problems.push({ path: 'body.role', problem: 'not_allowed', message: t(`must be one of ${this.rolesFor(scope).join(', ')}`, `इनमें से एक होना चाहिए: ${this.rolesFor(scope).join(', ')}`) });
    if (problems.length) throw new AppError('VALIDATION_FAILED', problems);
    return takenAs('loginId', () => this.db.transaction().execute(async (trx) => {
      const officeId = await this.resolveOffice(trx, scope, input.officeId);
      const home = await this.staffHome(trx, scope, input);
      if (await trx.selectFrom('users').select('id').where('login_id', '=', loginId).executeTakeFirst()) {
        throw field('loginId', 'taken', t('is already in use; choose another', 'पहले से उपयोग में है; दूसरा चुनें'));
      }
      const orgId = scope.kind === 'org' ? scope.orgId : null;
      const u = await trx
        .insertInto('users')
        .values({
          org_id: orgId,
          login_id: loginId,
          name: input.name.trim(),
          email: input.email?.trim() || null,
          mobile: input.mobile?.trim() || null,
          role: input.role,
          office_id: officeId,
          discom_id: home.discom_id,
          holding: home.holding,
          status: 'invited',
          password_hash: null,
          created_by: actor.userId,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      await issueCode(trx, { userId: u.id, orgId, purpose: 'invitation', mobile: input.mobile?.trim() || null, email: input.email?.trim() || null, name: input.name.trim(), loginId });
      await recordAudit(trx, {
        action: 'user.invited', actor, orgId, discomId: home.discom_id, target: { type: 'user', id: u.id },
        details: { login_id: loginId, role: input.role, office_id: officeId?.toString() ?? null, ...(scope.kind === 'discom' ? { discom: input.discomCode?.trim().toUpperCase() || null, holding: home.holding } : {}) }, meta,
      });
      const [view] = (await this.usersIn(trx, scope, u.id)) ?? [];
      return view!;
    }));
  }

  private async usersIn(db: Kysely<DB>, scope: Scope, userId: bigint): Promise<UserView[]> {
    const self = new DirectoryService(db);
    return (await self.users(scope)).filter((u) => u.id === userId.toString());
  }

  async update(scope: Scope, actor: UserPrincipal, userId: bigint, patch: { role?: Role | undefined; officeId?: string | null | undefined; name?: string | undefined }, meta: RequestMeta): Promise<UserView> {
    return this.db.transaction().execute(async (trx) => {
      await this.lockScope(trx, scope, actor);
      const u = await this.userInScope(trx, scope, userId);
      if (!u) throw new AppError('NOT_FOUND');
      const orgId = scope.kind === 'org' ? scope.orgId : null;
      if (patch.role !== undefined && patch.role !== u.role) {
        if (userId === actor.userId) throw new AppError('CONFLICT', [], t('You cannot change your own role.', 'आप अपनी भूमिका स्वयं नहीं बदल सकते।'));
        if (!this.rolesFor(scope).includes(patch.role)) throw field('role', 'not_allowed', t(`must be one of ${this.rolesFor(scope).join(', ')}`, `इनमें से एक होना चाहिए: ${this.rolesFor(scope).join(', ')}`));
        if (u.role === this.adminRole(scope)) await this.assertAnotherAdmin(trx, scope, userId, u);
        await trx.updateTable('users').set({ role: patch.role }).where('id', '=', userId).execute();
        // A new role may need a second factor, or allow less: sessions start again.
        await revokeUserSessions(trx, userId);
        await recordAudit(trx, { action: 'user.role_changed', actor, orgId, discomId: u.discom_id, target: { type: 'user', id: userId }, details: { from: u.role, to: patch.role, totp_required: TOTP_REQUIRED.includes(patch.role) }, meta });
      }
      if (patch.officeId !== undefined && (patch.officeId ?? null) !== (u.office_id?.toString() ?? null)) {
        if (userId === actor.userId) throw new AppError('CONFLICT', [], t('You cannot change your own office.', 'आप अपना कार्यालय स्वयं नहीं बदल सकते।'));
        const officeId = await this.resolveOffice(trx, scope, patch.officeId);
        await trx.updateTable('users').set({ office_id: officeId }).where('id', '=', userId).execute();
        await revokeUserSessions(trx, userId);
        await recordAudit(trx, { action: 'user.office_changed', actor, orgId, discomId: u.discom_id, target: { type: 'user', id: userId }, details: { from: u.office_id?.toString() ?? null, to: officeId?.toString() ?? null }, meta });
      }
      if (patch.name !== undefined && patch.name.trim() && patch.name.trim() !== u.name) {
        await trx.updateTable('users').set({ name: patch.name.trim() }).where('id', '=', userId).execute();
        await recordAudit(trx, { action: 'user.renamed', actor, orgId, discomId: u.discom_id, target: { type: 'user', id: userId }, details: { from: u.name, to: patch.name.trim() }, meta });
      }
      return (await this.usersIn(trx, scope, userId))[0]!;
    });
  }

  async setStatus(scope: Scope, actor: UserPrincipal, userId: bigint, status: 'active' | 'disabled', meta: RequestMeta): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await this.lockScope(trx, scope, actor);
      const u = await this.userInScope(trx, scope, userId);
      if (!u) throw new AppError('NOT_FOUND');
      const orgId = scope.kind === 'org' ? scope.orgId : null;
      if (status === 'disabled') {
        if (userId === actor.userId) throw new AppError('CONFLICT', [], t('You cannot disable yourself.', 'आप स्वयं को निष्क्रिय नहीं कर सकते।'));
        if (u.role === this.adminRole(scope) && u.status === 'active') await this.assertAnotherAdmin(trx, scope, userId, u);
        if (u.status === 'disabled') return;
        await trx.updateTable('users').set({ status: 'disabled' }).where('id', '=', userId).execute();
        const n = await revokeUserSessions(trx, userId);
        await recordAudit(trx, { action: 'user.disabled', actor, orgId, discomId: u.discom_id, target: { type: 'user', id: userId }, details: { sessions_ended: n }, meta });
      } else {
        if (u.status !== 'disabled') return;
        // A user who never set a password goes back to being invited.
        const pw = await trx.selectFrom('users').select('password_hash').where('id', '=', userId).executeTakeFirstOrThrow();
        await trx.updateTable('users').set({ status: pw.password_hash ? 'active' : 'invited' }).where('id', '=', userId).execute();
        await recordAudit(trx, { action: 'user.enabled', actor, orgId, discomId: u.discom_id, target: { type: 'user', id: userId }, meta });
      }
    });
  }

  async sendReset(scope: Scope, actor: UserPrincipal, userId: bigint, meta: RequestMeta): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const u = await this.userInScope(trx, scope, userId);
      if (!u) throw new AppError('NOT_FOUND');
      if (u.status === 'disabled') throw new AppError('CONFLICT', [], t('Enable the user first.', 'पहले उपयोगकर्ता को सक्रिय करें।'));
      if (!u.mobile && !u.email) throw new AppError('CONFLICT', [], t('The user has no mobile number or e-mail to send a code to.', 'उपयोगकर्ता का कोई मोबाइल नंबर या ई-मेल नहीं है।'));
      const orgId = scope.kind === 'org' ? scope.orgId : null;
      await issueCode(trx, { userId, orgId, purpose: u.status === 'invited' ? 'invitation' : 'password_reset', mobile: u.mobile, email: u.email, name: u.name, loginId: u.login_id });
      const n = await revokeUserSessions(trx, userId);
      await recordAudit(trx, { action: 'user.reset_sent', actor, orgId, discomId: u.discom_id, target: { type: 'user', id: userId }, details: { sessions_ended: n }, meta });
    });
  }
}

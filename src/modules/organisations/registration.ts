import { sql, type Kysely } from 'kysely';
import { queueMessages } from '../../adapters/notifier/notifier.ts';
import type { DB, OrganisationType } from '../../platform/db/schema.ts';
import { AppError, type ErrorDetail, type Text } from '../../platform/errors.ts';
import { DEPARTMENT_CODE, EMAIL, LOGIN_ID, MOBILE, PAN, TAN, clean, validGstin } from '../../platform/identifiers.ts';
import { discomScope, type Principal, type RequestMeta } from '../../platform/principal.ts';
import { addressKey } from '../../platform/http/origin.ts';
import { recordAudit } from '../audit/index.ts';
import { discomIdOf, orgSeenBy } from '../discoms/scope.ts';
import { claimAttempt, hashPassword, passwordProblems, rateLimitedError } from '../identity/index.ts';

/**
 * Registration of an organisation and the discom's decision on it.
 *
 * Rules:
 * - A state department is identified by its department code; every other kind by its PAN.
 *   PAN, TAN, GSTIN (with its check character, and the PAN inside it) and department code are
 *   checked for format; a PAN, GSTIN or department code already held by a live (pending or
 *   approved) registration cannot register again.
 * - The organisation names its home discom. It starts pending, with an HQ office and its first
 *   admin. Nobody of it can log in until an officer of its home discom (or of the holding
 *   company) approves it; a rejection carries a reason, and the same identifiers may then
 *   register again. Staff of the other discom neither see nor decide it.
 * - Every field problem is reported at once, per field, in English and Hindi.
 * - Registration attempts are limited per IP address (20 an hour), valid or not.
 */

/** Registration attempts per address (valid or not). */
const REGISTRATIONS_PER_HOUR = 20;

interface Conflict {
  field: 'PAN' | 'GSTIN' | 'department code';
  value: string;
}

export const ORGANISATION_TYPES: readonly OrganisationType[] = ['state_department', 'central_psu', 'state_psu', 'private', 'large_consumer'];

export interface RegistrationInput {
  type: OrganisationType;
  name: string;
  nameHi?: string | undefined;
  pan?: string | undefined;
  tan?: string | undefined;
  gstin?: string | undefined;
  departmentCode?: string | undefined;
  address: string;
  email: string;
  mobile: string;
  /** The home discom's code. */
  discomCode: string;
  admin: { loginId: string; name: string; email?: string | undefined; mobile?: string | undefined; password: string };
}

const msg = {
  pan: { en: 'must be a PAN such as AABCB1234M', hi: 'PAN होना चाहिए, जैसे AABCB1234M' },
  tan: { en: 'must be a TAN such as PTNE01234F', hi: 'TAN होना चाहिए, जैसे PTNE01234F' },
  gstin: { en: 'must be a valid GSTIN (15 characters, with the right check character)', hi: 'मान्य GSTIN होना चाहिए (15 अक्षर, सही जाँच अक्षर के साथ)' },
  gstinPan: { en: 'does not contain the PAN given', hi: 'दिए गए PAN से मेल नहीं खाता' },
  departmentCode: { en: 'must be a department code such as BR-EDU', hi: 'विभाग कोड होना चाहिए, जैसे BR-EDU' },
  mobile: { en: 'must be a 10-digit mobile number starting with 6 to 9', hi: '6 से 9 से शुरू होने वाला 10 अंकों का मोबाइल नंबर होना चाहिए' },
  email: { en: 'must be an e-mail address', hi: 'ई-मेल पता होना चाहिए' },
  required: { en: 'is required', hi: 'आवश्यक है' },
  requiredForType: { en: 'is required for this type of organisation', hi: 'इस प्रकार की संस्था के लिए आवश्यक है' },
  loginId: { en: 'must be 3 to 40 characters: small letters, digits, dot, dash or underscore, starting with a letter or digit', hi: '3 से 40 अक्षर: छोटे अक्षर, अंक, बिंदु, डैश या अंडरस्कोर; शुरुआत अक्षर या अंक से' },
  discom: { en: 'must be one of the discoms (NBPDCL or SBPDCL)', hi: 'किसी एक डिस्कॉम का कोड होना चाहिए (NBPDCL या SBPDCL)' },
} satisfies Record<string, Text>;


export class RegistrationService {
  constructor(private readonly db: Kysely<DB>) {}

  /**
   * A registration that names a login ID or identifier already registered is answered like any
   * other (so that neither can be mined through this form): nothing is created, the
   * registration's e-mail address is told what to change, and a login ID's holder is told that it
   * was named. The messages carry only checked fields (login ID, PAN, GSTIN, department code),
   * never free text of the form's, so that the portal cannot be made to mail someone's words.
   */
  private async refuseQuietly(input: RegistrationInput, loginId: string, conflicts: Conflict[], loginTaken: boolean, meta: RequestMeta): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const holder = loginTaken ? await trx.selectFrom('users').select(['id', 'org_id', 'email', 'name']).where('login_id', '=', loginId).executeTakeFirst() : undefined;
      const what = [...conflicts.map((c) => ({ en: `an organisation with ${c.field} ${c.value} is already registered`, hi: `${c.field} ${c.value} वाली संस्था पहले से पंजीकृत है` })),
        ...(loginTaken ? [{ en: `the login ID ${loginId} is not available`, hi: `लॉगिन आईडी ${loginId} उपलब्ध नहीं है` }] : [])];
      await queueMessages(trx, [
        {
          channel: 'email', recipient: input.email.trim(), subject: 'Sangrahan registration / संग्रहण पंजीकरण', purpose: 'registration_refused', orgId: null,
          body: `A registration on Sangrahan with this e-mail address could not go ahead: ${what.map((w) => w.en).join('; ')}. ` +
            `${loginTaken ? 'Register again with another login ID.' : 'If your organisation is registered already, ask its administrator for a login.'}\n` +
            `इस ई-मेल पते के साथ संग्रहण पर किया गया पंजीकरण आगे नहीं बढ़ सका: ${what.map((w) => w.hi).join('; ')}। ` +
            `${loginTaken ? 'किसी अन्य लॉगिन आईडी के साथ फिर से पंजीकरण करें।' : 'यदि आपकी संस्था पहले से पंजीकृत है, तो उसके व्यवस्थापक से लॉगिन माँगें।'}`,
        },
        ...(holder?.email
          ? [{
              channel: 'email' as const, recipient: holder.email, subject: 'Sangrahan: your login ID / संग्रहण: आपकी लॉगिन आईडी', purpose: 'registration_refused', orgId: holder.org_id, userId: holder.id,
              body: `Dear ${holder.name},\n\nA registration on Sangrahan named your login ID ${loginId}. Nothing of your account was changed, and the registration was not made.\n` +
                `संग्रहण पर किसी पंजीकरण में आपकी लॉगिन आईडी ${loginId} दी गई। आपके खाते में कुछ नहीं बदला, और पंजीकरण नहीं हुआ।\n`,
            }]
          : []),
      ]);
      await recordAudit(trx, {
        action: 'organisation.registration_refused', outcome: 'failure', actor: null, actorLabel: `registrant:${loginId}`, orgId: null, discomId: null,
        target: holder ? { type: 'user', id: holder.id } : undefined,
        details: { reasons: [...conflicts.map((c) => `${c.field} taken`), ...(loginTaken ? ['login_id_taken'] : [])], name: input.name.trim().slice(0, 200), email: input.email.trim() },
        meta,
      });
    });
  }

  async register(input: RegistrationInput, meta: RequestMeta): Promise<{ organisationId: bigint | null }> {
    // Every attempt counts, valid or not: answers such as "login ID taken" cannot be mined.
    const limited = await claimAttempt(this.db, `register-ip:${addressKey(meta.ip)}`, { max: REGISTRATIONS_PER_HOUR, windowMs: 3_600_000, lockMs: 3_600_000 });
    if (limited.lockedUntil) {
      throw rateLimitedError(limited.lockedUntil, { en: `Registrations from your address are limited to ${REGISTRATIONS_PER_HOUR} an hour.`, hi: `आपके पते से पंजीकरण एक घंटे में ${REGISTRATIONS_PER_HOUR} तक सीमित हैं।` });
    }

    const d: ErrorDetail[] = [];
    const add = (path: string, problem: string, message: Text) => d.push({ path: `body.${path}`, problem, message });
    const pan = clean(input.pan);
    const tan = clean(input.tan);
    const gstin = clean(input.gstin);
    const dept = clean(input.departmentCode);
    const loginId = input.admin.loginId.trim().toLowerCase();
    if (pan && !PAN.test(pan)) add('pan', 'format', msg.pan);
    if (tan && !TAN.test(tan)) add('tan', 'format', msg.tan);
    if (gstin && !validGstin(gstin)) add('gstin', 'format', msg.gstin);
    else if (gstin && pan && gstin.slice(2, 12) !== pan) add('gstin', 'pan_mismatch', msg.gstinPan);
    if (dept && !DEPARTMENT_CODE.test(dept)) add('departmentCode', 'format', msg.departmentCode);
    if (input.type === 'state_department' && !dept) add('departmentCode', 'required', msg.requiredForType);
    if (input.type !== 'state_department' && !pan) add('pan', 'required', msg.requiredForType);
    if (!input.mobile.trim()) add('mobile', 'required', msg.required);
    else if (!MOBILE.test(input.mobile.trim())) add('mobile', 'format', msg.mobile);
    if (!input.email.trim()) add('email', 'required', msg.required);
    else if (!EMAIL.test(input.email.trim())) add('email', 'format', msg.email);
    if (!input.name.trim()) add('name', 'required', msg.required);
    if (!input.address.trim()) add('address', 'required', msg.required);
    if (!loginId) add('admin.loginId', 'required', msg.required);
    else if (!LOGIN_ID.test(loginId)) add('admin.loginId', 'format', msg.loginId);
    if (!input.admin.name.trim()) add('admin.name', 'required', msg.required);
    if (input.admin.mobile && !MOBILE.test(input.admin.mobile.trim())) add('admin.mobile', 'format', msg.mobile);
    if (input.admin.email && !EMAIL.test(input.admin.email.trim())) add('admin.email', 'format', msg.email);
    const discomId = input.discomCode.trim() ? await discomIdOf(this.db, input.discomCode) : undefined;
    if (!input.discomCode.trim()) add('discomCode', 'required', msg.required);
    else if (discomId === undefined) add('discomCode', 'unknown', msg.discom);
    if (!input.admin.password) add('admin.password', 'required', msg.required);
    else for (const p of passwordProblems(input.admin.password, loginId)) add('admin.password', 'password_policy', p);

    const taken = await this.db
      .selectFrom('organisations')
      .select(['pan', 'gstin', 'department_code'])
      .where('status', '<>', 'rejected')
      .where((eb) =>
        eb.or([
          ...(pan ? [eb('pan', '=', pan)] : []),
          ...(gstin ? [eb('gstin', '=', gstin)] : []),
          ...(dept ? [eb('department_code', '=', dept)] : []),
          eb.lit(false),
        ]),
      )
      .execute();
    if (d.length) throw new AppError('VALIDATION_FAILED', d);
    // What is already registered is told only by e-mail (the answer is the same either way), so
    // that neither login IDs nor identifiers can be mined through this form.
    const conflicts: Conflict[] = [
      ...(pan && taken.some((t) => t.pan === pan) ? [{ field: 'PAN' as const, value: pan }] : []),
      ...(gstin && taken.some((t) => t.gstin === gstin) ? [{ field: 'GSTIN' as const, value: gstin }] : []),
      ...(dept && taken.some((t) => t.department_code === dept) ? [{ field: 'department code' as const, value: dept }] : []),
    ];
    // Hashed whether or not anything is taken: every answer takes as long.
    const passwordHash = await hashPassword(input.admin.password);
    const loginTaken = !!(await this.db.selectFrom('users').select('id').where('login_id', '=', loginId).executeTakeFirst());
    if (conflicts.length || loginTaken) {
      await this.refuseQuietly(input, loginId, conflicts, loginTaken, meta);
      return { organisationId: null };
    }
    try {
      return await this.db.transaction().execute(async (trx) => {
        const org = await trx
          .insertInto('organisations')
          .values({
            type: input.type,
            name: input.name.trim(),
            name_hi: input.nameHi?.trim() || null,
            pan,
            tan,
            gstin,
            department_code: dept,
            address: input.address.trim(),
            email: input.email.trim(),
            mobile: input.mobile.trim(),
            status: 'pending',
            discom_id: discomId!,
          })
          .returning('id')
          .executeTakeFirstOrThrow();
        const hq = await trx
          .insertInto('offices')
          .values({ org_id: org.id, kind: 'hq', code: 'HQ', name: 'Head office', path: '/' })
          .returning('id')
          .executeTakeFirstOrThrow();
        await trx.updateTable('offices').set({ path: `/${hq.id}/` }).where('id', '=', hq.id).execute();
        const admin = await trx
          .insertInto('users')
          .values({
            org_id: org.id,
            login_id: loginId,
            name: input.admin.name.trim(),
            email: input.admin.email?.trim() || input.email.trim(),
            mobile: input.admin.mobile?.trim() || input.mobile.trim(),
            role: 'org_admin',
            status: 'active',
            password_hash: passwordHash,
            password_changed_at: new Date(),
          })
          .returning('id')
          .executeTakeFirstOrThrow();
        await recordAudit(trx, {
          action: 'organisation.registered', actor: null, actorLabel: `registrant:${loginId}`, orgId: org.id,
          discomId, target: { type: 'organisation', id: org.id }, details: { type: input.type, name: input.name.trim(), admin_user_id: admin.id.toString(), discom: input.discomCode.trim().toUpperCase() }, meta,
        });
        const id = pan ? `PAN ${pan}` : `department code ${dept}`;
        await queueMessages(trx, [{
          channel: 'email', recipient: input.email.trim(), subject: 'Sangrahan registration / संग्रहण पंजीकरण', purpose: 'registration_received', orgId: org.id,
          body: `A registration on Sangrahan with this e-mail address (${id}, login ID ${loginId}) was received. It waits for the discom's approval; you will be told when it is decided.\n` +
            `इस ई-मेल पते के साथ संग्रहण पर पंजीकरण (${id}, लॉगिन आईडी ${loginId}) प्राप्त हुआ। यह डिस्कॉम की स्वीकृति की प्रतीक्षा में है; निर्णय होने पर आपको बताया जाएगा।`,
        }]);
        return { organisationId: org.id };
      });
    } catch (e) {
      const c = e as { code?: string; constraint?: string };
      // Two registrations racing for one login ID or identifier: the same answer as when it was taken before.
      if (c.code === '23505') {
        const login = /login_id/.test(c.constraint ?? (e as Error).message);
        await this.refuseQuietly(input, loginId, login ? [] : [{ field: pan ? 'PAN' : 'department code', value: pan ?? dept ?? '' }], login, meta);
        return { organisationId: null };
      }
      throw e;
    }
  }

  /**
   * The discom's decision on a pending registration: by staff of its home discom, or of the
   * holding company. Another discom's staff do not see it (404), or, for an organisation they
   * see through its tags, may not decide it (403).
   */
  async decide(orgId: bigint, decision: 'approved' | 'rejected', reason: string | null, actor: Principal, meta: RequestMeta): Promise<void> {
    const scope = discomScope(actor);
    if (decision === 'rejected' && !reason?.trim()) {
      throw new AppError('VALIDATION_FAILED', [{ path: 'body.reason', problem: 'required', message: { en: 'give the reason for rejecting', hi: 'अस्वीकार करने का कारण दें' } }]);
    }
    await this.db.transaction().execute(async (trx) => {
      const found = await trx
        .selectFrom('organisations as o')
        .select(['o.id', 'o.status', 'o.discom_id'])
        .select(scope === null ? sql<boolean>`true`.as('seen') : orgSeenBy(scope).as('seen'))
        .where('o.id', '=', orgId)
        .forUpdate()
        .executeTakeFirst();
      if (!found?.seen) throw new AppError('NOT_FOUND');
      if (scope !== null && found.discom_id !== scope) {
        throw new AppError('FORBIDDEN', [], { en: 'This organisation registered with the other discom: its staff decide the registration.', hi: 'इस संस्था ने दूसरे डिस्कॉम के साथ पंजीकरण किया है: उसके कर्मचारी ही पंजीकरण पर निर्णय लेते हैं।' });
      }
      const org = await trx
        .updateTable('organisations')
        .set({ status: decision, decision_reason: reason?.trim() || null, decided_by: actor.kind === 'user' ? actor.userId : null, decided_at: sql<Date>`now()` })
        .where('id', '=', orgId)
        .where('status', '=', 'pending')
        .returning(['id', 'name', 'email', 'mobile'])
        .executeTakeFirst();
      if (!org) {
        throw new AppError('CONFLICT', [], { en: `This registration is already ${found.status}.`, hi: `यह पंजीकरण पहले से ${found.status === 'approved' ? 'स्वीकृत' : 'अस्वीकृत'} है।` });
      }
      await recordAudit(trx, {
        action: decision === 'approved' ? 'organisation.approved' : 'organisation.rejected', actor, orgId, discomId: found.discom_id,
        target: { type: 'organisation', id: orgId }, details: reason ? { reason: reason.trim() } : {}, meta,
      });
      const body =
        decision === 'approved'
          ? `Your organisation ${org.name} is approved on Sangrahan. Its users can now log in.\nसंग्रहण पर आपकी संस्था ${org.name} स्वीकृत हो गई है। इसके उपयोगकर्ता अब लॉग इन कर सकते हैं।`
          : `Your organisation ${org.name} was not approved on Sangrahan. Reason: ${reason!.trim()}\nसंग्रहण पर आपकी संस्था ${org.name} स्वीकृत नहीं हुई। कारण: ${reason!.trim()}`;
      await queueMessages(trx, [
        ...(org.email ? [{ channel: 'email' as const, recipient: org.email, subject: 'Sangrahan registration / संग्रहण पंजीकरण', body, purpose: `organisation_${decision}`, orgId }] : []),
        ...(org.mobile ? [{ channel: 'sms' as const, recipient: org.mobile, body, purpose: `organisation_${decision}`, orgId }] : []),
      ]);
    });
  }
}

import { sql, type Kysely } from 'kysely';
import { queueMessages } from '../../adapters/notifier/notifier.ts';
import type { DB, TagMethod } from '../../platform/db/schema.ts';
import { anyId } from '../../platform/db/id-list.ts';
import { AppError } from '../../platform/errors.ts';
import { maskMobile } from '../../platform/identifiers.ts';
import { officeInScope, scopeOf } from '../../platform/office-scope.ts';
import { parseRupees } from '../../platform/money.ts';
import { discomScope, type Principal, type RequestMeta, type UserPrincipal } from '../../platform/principal.ts';
import { orgSeenBy } from '../discoms/scope.ts';
import { numericCode, sha256Hex } from '../../platform/tokens.ts';
import { openBatchOf } from '../payments/index.ts';
import { recordAudit } from '../audit/index.ts';
import { claimAttempt, clearBucket, lockedError, rateLimitedError } from '../identity/index.ts';
import { maskAddress, maskName } from './masking.ts';

/**
 * Tagging one connection, transfers, untagging, and the discom's decisions.
 *
 * Rules:
 * - A tag needs proof that the connection is the organisation's: the latest bill's number, or
 *   its amount payable (by or after the due date), or a one-time code sent to the connection's
 *   registered mobile. Before proving, the user sees the connection's name and address masked.
 *   Wrong proofs count towards a lockout, as logins do.
 * - A connection has at most one active tag (the database enforces it). A connection tagged to
 *   another organisation cannot be tagged: the user may ask for a transfer, which a discom
 *   officer approves (ending the other organisation's tag) or rejects.
 * - Untagging needs a reason. (It will be refused while the connection is in an open payment,
 *   once payments exist.) Every tag, untag, request, transfer, approval and rejection is
 *   audited; tag rows are never deleted, so the history stays.
 * - A user placed in an office tags into that office's subtree and sees only it.
 */

export type Proof = { type: 'bill_number'; value: string } | { type: 'bill_amount'; value: string } | { type: 'otp'; code: string };

export interface LookupResult {
  connectionId: string;
  discom: string;
  consumerNo: string;
  name: string;
  address: string;
  category: string;
  supplyType: string;
  mobile: string | null;
  tag: 'yours' | 'requested_by_you' | 'another_organisation' | null;
  proofs: ('bill_number' | 'bill_amount' | 'otp')[];
}

const OTP_MINUTES = 10;
/** Lookups show masked names: bounded per user, so the consumer master cannot be walked. */
const LOOKUPS_PER_HOUR = 300;
/** Each sends an SMS to a consumer. */
const OTP_SENDS_PER_HOUR = 20;

export class TaggingService {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly rule: { max: number; windowMs: number; lockMs: number },
  ) {}

  /** Offices the user may tag into: their subtree (or the whole organisation). */
  private async officeInScope(db: Kysely<DB>, p: UserPrincipal, officeId: bigint | null): Promise<bigint | null> {
    if (officeId === null) {
      if (p.officeId) return p.officeId;
      const hq = await db.selectFrom('offices').select('id').where('org_id', '=', p.orgId!).where('kind', '=', 'hq').executeTakeFirst();
      return hq?.id ?? null;
    }
    let q = db.selectFrom('offices').select('id').where('id', '=', officeId).where('org_id', '=', p.orgId!);
    if (p.officePath) q = q.where('path', 'like', `${p.officePath}%`);
    const o = await q.executeTakeFirst();
    if (!o) throw new AppError('VALIDATION_FAILED', [{ path: 'body.officeId', problem: 'unknown', message: { en: 'is not one of your offices', hi: 'आपके कार्यालयों में से नहीं है' } }]);
    return o.id;
  }

  async lookup(p: UserPrincipal, consumerNoRaw: string, discomCode: string | undefined): Promise<LookupResult[]> {
    const limited = await claimAttempt(this.db, `lookup-user:${p.userId}`, { max: LOOKUPS_PER_HOUR, windowMs: 3_600_000, lockMs: 600_000 });
    if (limited.lockedUntil) {
      throw rateLimitedError(limited.lockedUntil, {
        en: `You have looked up ${LOOKUPS_PER_HOUR} connections in the last hour, the most allowed (lookups show consumers' names).`,
        hi: `आपने पिछले एक घंटे में ${LOOKUPS_PER_HOUR} कनेक्शन खोजे हैं, जो अधिकतम सीमा है (खोज में उपभोक्ताओं के नाम दिखते हैं)।`,
      });
    }
    const consumerNo = consumerNoRaw.trim();
    if (!/^\d{6,16}$/.test(consumerNo)) {
      throw new AppError('VALIDATION_FAILED', [{ path: 'body.consumerNo', problem: 'format', message: { en: 'must be 6 to 16 digits', hi: '6 से 16 अंक होने चाहिए' } }]);
    }
    let q = this.db
      .selectFrom('connections as c')
      .innerJoin('discoms as d', 'd.id', 'c.discom_id')
      .leftJoin('tags as t', (j) => j.onRef('t.connection_id', '=', 'c.id').on('t.status', '=', 'active'))
      .leftJoin('tags as r', (j) => j.onRef('r.connection_id', '=', 'c.id').on('r.status', '=', 'requested').on('r.org_id', '=', p.orgId))
      .select(['c.id', 'd.code', 'c.consumer_no', 'c.name', 'c.address', 'c.category', 'c.supply_type', 'c.registered_mobile', 't.org_id as tag_org', 'r.id as request_id'])
      .where('c.consumer_no', '=', consumerNo);
    if (discomCode) q = q.where('d.code', '=', discomCode.toUpperCase());
    const rows = await q.execute();
    return rows.map((r) => ({
      connectionId: r.id.toString(),
      discom: r.code,
      consumerNo: r.consumer_no,
      name: maskName(r.name),
      address: maskAddress(r.address),
      category: r.category,
      supplyType: r.supply_type,
      mobile: maskMobile(r.registered_mobile),
      tag: r.tag_org === null ? (r.request_id ? 'requested_by_you' : null) : r.tag_org === p.orgId ? 'yours' : 'another_organisation',
      proofs: ['bill_number', 'bill_amount', ...(r.registered_mobile ? (['otp'] as const) : [])],
    }));
  }

  async sendOtp(p: UserPrincipal, connectionId: bigint, meta: RequestMeta): Promise<{ sentTo: string }> {
    const limited = await claimAttempt(this.db, `otp-send-user:${p.userId}`, { max: OTP_SENDS_PER_HOUR, windowMs: 3_600_000, lockMs: 3_600_000 });
    if (limited.lockedUntil) {
      throw rateLimitedError(limited.lockedUntil, {
        en: `You have asked for ${OTP_SENDS_PER_HOUR} codes to consumers' mobiles in the last hour, the most allowed.`,
        hi: `आपने पिछले एक घंटे में उपभोक्ताओं के मोबाइल पर ${OTP_SENDS_PER_HOUR} कोड माँगे हैं, जो अधिकतम सीमा है।`,
      });
    }
    const c = await this.db.selectFrom('connections').select(['id', 'registered_mobile', 'consumer_no']).where('id', '=', connectionId).executeTakeFirst();
    if (!c) throw new AppError('NOT_FOUND');
    // A code for a connection someone else holds could only pester its consumer.
    const holder = await this.db
      .selectFrom('tags')
      .select(['org_id', sql<boolean>`${officeInScope(scopeOf(p), sql.ref('office_id'))}`.as('in_scope')])
      .where('connection_id', '=', c.id)
      .where('status', '=', 'active')
      .executeTakeFirst();
    if (holder && holder.org_id !== p.orgId) {
      throw new AppError('FORBIDDEN', [], { en: 'This connection is tagged to another organisation. You can ask the discom for a transfer.', hi: 'यह कनेक्शन किसी अन्य संस्था से टैग है। आप डिस्कॉम से स्थानांतरण का अनुरोध कर सकते हैं।' });
    }
    // Already the organisation's: nothing to prove. Another office's, out of the user's scope: not there.
    if (holder && !holder.in_scope) throw new AppError('NOT_FOUND');
    if (holder) throw new AppError('CONFLICT', [], { en: 'This connection is already tagged to your organisation.', hi: 'यह कनेक्शन पहले से आपकी संस्था से टैग है।' });
    if (!c.registered_mobile) throw new AppError('CONFLICT', [], { en: 'This connection has no registered mobile number; use the bill instead.', hi: 'इस कनेक्शन का कोई पंजीकृत मोबाइल नंबर नहीं है; बिल का उपयोग करें।' });
    const code = numericCode(6);
    await this.db.transaction().execute(async (trx) => {
      await trx.updateTable('connection_otps').set({ used_at: new Date() }).where('user_id', '=', p.userId).where('connection_id', '=', c.id).where('used_at', 'is', null).execute();
      await trx
        .insertInto('connection_otps')
        .values({ connection_id: c.id, user_id: p.userId, code_hash: sha256Hex(`${c.id}:${p.userId}:${code}`), expires_at: new Date(Date.now() + OTP_MINUTES * 60_000) })
        .execute();
      const body = `Sangrahan: ${code} is the code to link electricity connection ${c.consumer_no} to an organisation's account. Valid ${OTP_MINUTES} minutes. If you did not expect this, ignore it.\nसंग्रहण: बिजली कनेक्शन ${c.consumer_no} को किसी संस्था के खाते से जोड़ने का कोड ${code} है। ${OTP_MINUTES} मिनट तक मान्य। यदि आपने यह अपेक्षित नहीं किया, तो इसे अनदेखा करें।`;
      await queueMessages(trx, [{ channel: 'sms', recipient: c.registered_mobile!, body, purpose: 'tag_otp', orgId: p.orgId, userId: p.userId }]);
      await recordAudit(trx, { action: 'tag.otp_sent', actor: p, orgId: p.orgId, target: { type: 'connection', id: c.id }, meta });
    });
    return { sentTo: maskMobile(c.registered_mobile)! };
  }

  private async checkProof(trx: Kysely<DB>, p: UserPrincipal, connectionId: bigint, proof: Proof): Promise<boolean> {
    if (proof.type === 'otp') {
      const otp = await trx
        .selectFrom('connection_otps')
        .select(['id', 'code_hash', 'attempts'])
        .where('user_id', '=', p.userId)
        .where('connection_id', '=', connectionId)
        .where('used_at', 'is', null)
        .where('expires_at', '>', sql<Date>`now()`)
        .orderBy('id', 'desc')
        .forUpdate()
        .executeTakeFirst();
      if (!otp || otp.attempts >= 5) return false;
      if (otp.code_hash !== sha256Hex(`${connectionId}:${p.userId}:${proof.code.trim()}`)) {
        await trx.updateTable('connection_otps').set({ attempts: otp.attempts + 1 }).where('id', '=', otp.id).execute();
        return false;
      }
      await trx.updateTable('connection_otps').set({ used_at: new Date() }).where('id', '=', otp.id).execute();
      return true;
    }
    const bill = await trx
      .selectFrom('bills')
      .select(['bill_no', 'net_payable_paise', 'payable_after_due_paise'])
      .where('connection_id', '=', connectionId)
      .orderBy('bill_month', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (!bill) return false;
    if (proof.type === 'bill_number') return proof.value.trim() === bill.bill_no;
    const paise = parseRupees(proof.value);
    return paise !== null && (paise === bill.net_payable_paise || paise === bill.payable_after_due_paise);
  }

  async tag(p: UserPrincipal, input: { connectionId: bigint; officeId: bigint | null; proof: Proof }, meta: RequestMeta): Promise<{ tagId: bigint }> {
    // Counted before it is checked, so that concurrent guesses cannot slip past the limit.
    const bucket = `proof-user:${p.userId}`;
    const limited = await claimAttempt(this.db, bucket, this.rule);
    if (limited.lockedUntil) throw lockedError(limited.lockedUntil);
    const result = await this.db.transaction().execute(async (trx) => {
      const c = await trx.selectFrom('connections').select(['id']).where('id', '=', input.connectionId).forUpdate().executeTakeFirst();
      if (!c) throw new AppError('NOT_FOUND');
      const officeId = await this.officeInScope(trx, p, input.officeId);
      const holder = await trx.selectFrom('tags').select(['id', 'org_id']).where('connection_id', '=', c.id).where('status', '=', 'active').executeTakeFirst();
      if (holder) {
        if (holder.org_id === p.orgId) throw new AppError('CONFLICT', [], { en: 'This connection is already tagged to your organisation.', hi: 'यह कनेक्शन पहले से आपकी संस्था से टैग है।' });
        throw new AppError('TAG_CONFLICT');
      }
      if (!(await this.checkProof(trx, p, c.id, input.proof))) return { ok: false as const };
      const method: TagMethod = input.proof.type;
      // An open request of ours for this connection is settled by the proof.
      await trx
        .updateTable('tags')
        .set({ status: 'cancelled', ended_at: sql<Date>`now()`, ended_by: p.userId, end_reason: 'proved directly' })
        .where('connection_id', '=', c.id)
        .where('org_id', '=', p.orgId!)
        .where('status', '=', 'requested')
        .execute();
      const t = await trx
        .insertInto('tags')
        .values({ org_id: p.orgId!, connection_id: c.id, office_id: officeId, status: 'active', method, source: 'single', requested_by: p.userId, activated_at: sql<Date>`now()`, decided_at: sql<Date>`now()` })
        .returning('id')
        .executeTakeFirstOrThrow();
      await recordAudit(trx, { action: 'tag.tagged', actor: p, orgId: p.orgId, target: { type: 'connection', id: c.id }, details: { tag_id: t.id.toString(), method, office_id: officeId?.toString() ?? null }, meta });
      return { ok: true as const, tagId: t.id };
    });
    if (!result.ok) {
      await this.db.transaction().execute((trx) =>
        recordAudit(trx, { action: 'tag.tagged', outcome: 'failure', actor: p, orgId: p.orgId, target: { type: 'connection', id: input.connectionId }, details: { reason: 'proof_mismatch', proof: input.proof.type }, meta }),
      );
      throw new AppError('PROOF_MISMATCH');
    }
    await clearBucket(this.db, bucket);
    return { tagId: result.tagId };
  }

  async requestTransfer(p: UserPrincipal, input: { connectionId: bigint; officeId: bigint | null; reason: string }, meta: RequestMeta): Promise<{ tagId: bigint }> {
    if (!input.reason.trim()) throw new AppError('VALIDATION_FAILED', [{ path: 'body.reason', problem: 'required', message: { en: 'say why the connection is yours now', hi: 'बताएँ कि कनेक्शन अब आपका क्यों है' } }]);
    return this.db.transaction().execute(async (trx) => {
      const holder = await trx.selectFrom('tags').select(['id', 'org_id']).where('connection_id', '=', input.connectionId).where('status', '=', 'active').forUpdate().executeTakeFirst();
      if (!holder) throw new AppError('CONFLICT', [], { en: 'The connection is not tagged to anyone: tag it with a proof instead.', hi: 'कनेक्शन किसी से टैग नहीं है: प्रमाण के साथ इसे टैग करें।' });
      if (holder.org_id === p.orgId) throw new AppError('CONFLICT', [], { en: 'This connection is already tagged to your organisation.', hi: 'यह कनेक्शन पहले से आपकी संस्था से टैग है।' });
      const officeId = await this.officeInScope(trx, p, input.officeId);
      const open = await trx.selectFrom('tags').select('id').where('connection_id', '=', input.connectionId).where('org_id', '=', p.orgId!).where('status', '=', 'requested').executeTakeFirst();
      if (open) throw new AppError('CONFLICT', [], { en: 'You have already asked for this connection.', hi: 'आप इस कनेक्शन के लिए पहले ही अनुरोध कर चुके हैं।' });
      const t = await trx
        .insertInto('tags')
        .values({
          org_id: p.orgId!, connection_id: input.connectionId, office_id: officeId, status: 'requested', method: 'transfer', source: 'transfer',
          transfer_from_tag_id: holder.id, requested_by: p.userId, request_reason: input.reason.trim(),
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      await recordAudit(trx, { action: 'tag.transfer_requested', actor: p, orgId: p.orgId, target: { type: 'connection', id: input.connectionId }, details: { tag_id: t.id.toString(), from_org_id: holder.org_id.toString(), reason: input.reason.trim() }, meta });
      return { tagId: t.id };
    });
  }

  async untag(p: UserPrincipal, tagId: bigint, reason: string, meta: RequestMeta): Promise<void> {
    if (!reason.trim()) throw new AppError('VALIDATION_FAILED', [{ path: 'body.reason', problem: 'required', message: { en: 'give the reason for untagging', hi: 'टैग हटाने का कारण दें' } }]);
    await this.db.transaction().execute(async (trx) => {
      const scope = scopeOf(p);
      const t = await trx
        .selectFrom('tags as t')
        .select(['t.id', 't.connection_id', 't.status'])
        .where('t.id', '=', tagId)
        .where('t.org_id', '=', scope.orgId)
        .where(officeInScope(scope, sql.ref('t.office_id')))
        .forUpdate('t')
        .executeTakeFirst();
      if (!t) throw new AppError('NOT_FOUND');
      if (t.status !== 'active' && t.status !== 'requested') {
        throw new AppError('CONFLICT', [], { en: `This tag is already ${t.status}.`, hi: `यह टैग पहले से ${t.status} है।` });
      }
      // A batch being made holds its tags FOR SHARE, so this lock waits for it and then sees it.
      const held = t.status === 'active' ? await openBatchOf(trx, t.connection_id, scope) : null;
      if (held) {
        // A batch of an office above the user's is named only to those who see it.
        const message = held.reference
          ? { en: `the connection is in open payment ${held.reference}`, hi: `कनेक्शन खुले भुगतान ${held.reference} में है` }
          : { en: 'the connection is in an open payment made at an office above yours', hi: 'कनेक्शन आपके ऊपर के कार्यालय द्वारा बनाए गए एक खुले भुगतान में है' };
        throw new AppError('CONNECTION_IN_OPEN_PAYMENT', [{ path: 'params.tagId', problem: 'in_open_batch', message }]);
      }
      await trx
        .updateTable('tags')
        .set({ status: t.status === 'active' ? 'untagged' : 'cancelled', ended_at: sql<Date>`now()`, ended_by: p.userId, end_reason: reason.trim() })
        .where('id', '=', tagId)
        .execute();
      await recordAudit(trx, { action: t.status === 'active' ? 'tag.untagged' : 'tag.request_cancelled', actor: p, orgId: p.orgId, target: { type: 'connection', id: t.connection_id }, details: { tag_id: tagId.toString(), reason: reason.trim() }, meta });
    });
  }

  // ---- the discom ------------------------------------------------------------------------

  /**
   * Approves or rejects requests in bulk: of one organisation (optionally only the given tags),
   * of one kind (tag requests, or transfers). An approval that cannot stand (someone holds the
   * connection; two requests for one connection) is rejected with that reason instead.
   *
   * A discom's staff decide requests on their discom's connections only: "all" means all of
   * those, and naming a request on another discom's connection decides nothing at all (403,
   * saying so). The organisation must be one they see (else 404).
   */
  async decide(
    actor: Principal,
    input: { orgId: bigint; kind: 'tag' | 'transfer'; tagIds?: bigint[] | undefined; decision: 'approve' | 'reject'; reason?: string | undefined },
    meta: RequestMeta,
  ): Promise<{ approved: number; rejected: number }> {
    if (input.decision === 'reject' && !input.reason?.trim()) {
      throw new AppError('VALIDATION_FAILED', [{ path: 'body.reason', problem: 'required', message: { en: 'give the reason for rejecting', hi: 'अस्वीकार करने का कारण दें' } }]);
    }
    const scope = discomScope(actor);
    const by = actor.kind === 'user' ? actor.userId : null;
    return this.db.transaction().execute(async (trx) => {
      const org = await trx
        .selectFrom('organisations as o')
        .select(scope === null ? sql<boolean>`true`.as('seen') : orgSeenBy(scope).as('seen'))
        .where('o.id', '=', input.orgId)
        .executeTakeFirst();
      if (!org?.seen) throw new AppError('NOT_FOUND');
      let q = trx
        .selectFrom('tags as t')
        .innerJoin('connections as c', 'c.id', 't.connection_id')
        .select(['t.id', 't.connection_id', 't.transfer_from_tag_id', 'c.discom_id'])
        .where('t.org_id', '=', input.orgId)
        .where('t.status', '=', 'requested')
        .where('t.method', input.kind === 'transfer' ? '=' : '<>', 'transfer');
      if (input.tagIds?.length) q = q.where('t.id', 'in', input.tagIds);
      else if (scope !== null) q = q.where('c.discom_id', '=', scope);
      const reqs = await q.orderBy('t.requested_at').orderBy('t.id').forUpdate('t').execute();
      const foreign = scope === null ? [] : reqs.filter((r) => r.discom_id !== scope);
      if (foreign.length) {
        throw new AppError('FORBIDDEN', [{ path: 'body.tagIds', problem: 'other_discom', message: { en: `${foreign.length} of these requests are on another discom’s connections`, hi: `इनमें से ${foreign.length} अनुरोध दूसरे डिस्कॉम के कनेक्शनों के हैं` } }], {
          en: 'Some of these requests are on connections of another discom, which its staff decide. Nothing was decided.',
          hi: 'इनमें से कुछ अनुरोध दूसरे डिस्कॉम के कनेक्शनों के हैं, जिन पर उसी के कर्मचारी निर्णय लेते हैं। कोई निर्णय नहीं किया गया।',
        });
      }
      if (!reqs.length) return { approved: 0, rejected: 0 };
      const ids = reqs.map((r) => r.id);
      if (input.decision === 'reject') {
        await trx
          .updateTable('tags')
          .set({ status: 'rejected', decided_by: by, decided_at: sql<Date>`now()`, decision_reason: input.reason!.trim() })
          .where(sql<boolean>`id = ${anyId(ids)}`)
          .execute();
        await recordAudit(trx, { action: input.kind === 'transfer' ? 'tag.transfers_rejected' : 'tag.requests_rejected', actor, orgId: input.orgId, details: { count: ids.length, tag_ids: ids.slice(0, 1000).map(String), reason: input.reason!.trim() }, meta });
        return { approved: 0, rejected: ids.length };
      }
      if (input.kind === 'transfer') {
        // End the holders' tags first; a transfer whose holder changed meanwhile cannot stand.
        const ended = await sql<{ id: bigint }>`
          UPDATE tags h SET status = 'untagged', ended_at = now(), ended_by = ${by}, end_reason = 'transferred to organisation ' || ${input.orgId.toString()}
            FROM tags r
           WHERE r.id = ${anyId(ids)} AND h.id = r.transfer_from_tag_id AND h.status = 'active'
          RETURNING r.id`.execute(trx);
        const standing = new Set(ended.rows.map((r) => r.id));
        const stale = ids.filter((id) => !standing.has(id));
        if (stale.length) {
          await trx.updateTable('tags').set({ status: 'rejected', decided_by: by, decided_at: sql<Date>`now()`, decision_reason: 'the holder changed meanwhile' }).where(sql<boolean>`id = ${anyId(stale)}`).execute();
        }
      }
      // Approve what stands: the connection still free. (An organisation has at most one open
      // request per connection, tags_one_request, so these ids name distinct connections.)
      const { rows: approved } = await sql<{ id: bigint }>`
        UPDATE tags t SET status = 'active', activated_at = now(), decided_by = ${by}, decided_at = now()
         WHERE t.id = ${anyId(ids)} AND t.status = 'requested'
           AND NOT EXISTS (SELECT 1 FROM tags a WHERE a.connection_id = t.connection_id AND a.status = 'active')
        RETURNING t.id`.execute(trx);
      const done = new Set(approved.map((r) => r.id));
      const blocked = ids.filter((id) => !done.has(id));
      if (blocked.length) {
        await trx
          .updateTable('tags')
          .set({ status: 'rejected', decided_by: by, decided_at: sql<Date>`now()`, decision_reason: 'the connection is tagged to another organisation' })
          .where(sql<boolean>`id = ${anyId(blocked)}`)
          .where('status', '=', 'requested')
          .execute();
      }
      await recordAudit(trx, {
        action: input.kind === 'transfer' ? 'tag.transfers_approved' : 'tag.requests_approved', actor, orgId: input.orgId,
        details: { approved: done.size, rejected: blocked.length, tag_ids: [...done].slice(0, 1000).map(String) }, meta,
      });
      return { approved: done.size, rejected: blocked.length };
    });
  }
}

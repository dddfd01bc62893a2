import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineName, freshDatabase } from '../../../test/helpers/db.ts';
import type { Database } from '../../platform/db/database.ts';
import { formatPaise } from '../../shared/format.ts';
import { seedDemo, tagDemoConnections } from '../demo/seed.ts';
import { connectionReceiptPdf, consolidatedReceiptPdf, receiptsZip } from './receipts.ts';

const NOW = new Date('2026-11-20T06:30:00Z');
const CAPTURED = new Date('2026-11-20T09:15:00Z'); // 2:45 pm IST

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sg-receipts-'));
function tmpFile(buf: Buffer, ext: string): string {
  const f = path.join(tmp, `${Math.random().toString(36).slice(2)}.${ext}`);
  fs.writeFileSync(f, buf);
  return f;
}
const pdfText = (buf: Buffer) => execFileSync('pdftotext', ['-layout', tmpFile(buf, 'pdf'), '-'], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
const pdfPages = (buf: Buffer) => Number(/^Pages:\s+(\d+)/m.exec(execFileSync('pdfinfo', [tmpFile(buf, 'pdf')], { encoding: 'utf8' }))![1]);

async function zipOf(run: (out: PassThrough) => Promise<boolean>): Promise<{ ok: boolean; zip: Buffer }> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const ok = await run(out);
  return { ok, zip: Buffer.concat(chunks) };
}

interface Item {
  connectionId: bigint;
  consumerNo: string;
  discomId: bigint;
  discomCode: string;
  amount: bigint;
  rebate: bigint;
  advance: bigint;
  before: bigint;
}

describe(`payment receipts on ${engineName}`, () => {
  let database: Database;
  let eduOrg: bigint;
  let phedOrg: bigint;
  let seq = 0;
  let batchNo = 0;

  beforeAll(async () => {
    database = await freshDatabase();
    await seedDemo(database, { seed: 8, connections: 200, asOf: NOW });
    await tagDemoConnections(database);
    const org = (code: string) => database.db.selectFrom('organisations').select('id').where('department_code', '=', code).executeTakeFirstOrThrow();
    eduOrg = (await org('BR-EDU')).id;
    phedOrg = (await org('BR-PHED')).id;
  });
  afterAll(async () => {
    await database?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  /** A settled batch as the settlement writes it: batch, order, captured payment, receipts. */
  async function settledBatch(orgId: bigint, items: Item[], opts: { budgetHead?: string; sanctionRef?: string } = {}) {
    const db = database.db;
    const n = ++batchNo;
    const reference = `PBT${String(n).padStart(7, '0')}`;
    const total = items.reduce((s, i) => s + i.amount, 0n);
    const maker = await db.selectFrom('users').select('id').where('org_id', '=', orgId).orderBy('id').executeTakeFirstOrThrow();
    const batch = await db
      .insertInto('payment_batches')
      .values({
        org_id: orgId, reference, status: 'paid', created_by: maker.id, created_by_key: null, created_by_label: 'test',
        item_count: items.length, total_paise: total, outstanding_paise: total, rebate_paise: items.reduce((s, i) => s + i.rebate, 0n),
        budget_head: opts.budgetHead ?? null, sanction_ref: opts.sanctionRef ?? null, requires_approval: false, paid_paise: total, settled_at: CAPTURED,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const attempt = await db
      .insertInto('payment_attempts')
      .values({ batch_id: batch.id, org_id: orgId, gateway: 'sandbox', order_id: `order_T${n}`, receipt: `${reference}-t`, amount_paise: total, status: 'paid' })
      .returning('id')
      .executeTakeFirstOrThrow();
    const payment = await db
      .insertInto('payments')
      .values({
        org_id: orgId, batch_id: batch.id, attempt_id: attempt.id, gateway: 'sandbox', gateway_payment_id: `pay_T${n}`, amount_paise: total, method: 'upi',
        status: 'captured', captured_at: CAPTURED, confirmed_by: 'webhook', settled_at: CAPTURED,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const receipts = [];
    for (const i of items) {
      const s = BigInt(++seq);
      const receiptNo = `${i.discomCode}/2026-27/${s.toString().padStart(8, '0')}`;
      const r = await db
        .insertInto('receipts')
        .values({
          discom_id: i.discomId, fy: '2026-27', seq: s, receipt_no: receiptNo, payment_id: payment.id, batch_id: batch.id, org_id: orgId,
          connection_id: i.connectionId, consumer_no: i.consumerNo, amount_paise: i.amount, advance_paise: i.advance, rebate_paise: i.rebate,
          balance_before_paise: i.before, balance_after_paise: i.before - i.amount - i.rebate, issued_at: CAPTURED,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      receipts.push({ id: r.id, receiptNo, item: i });
    }
    return { batchId: batch.id, reference, paymentId: payment.id, gatewayPaymentId: `pay_T${n}`, receipts, total };
  }

  async function itemsOf(orgId: bigint, count: number): Promise<Item[]> {
    const rows = await database.db
      .selectFrom('tags as t')
      .innerJoin('connections as c', 'c.id', 't.connection_id')
      .innerJoin('discoms as d', 'd.id', 'c.discom_id')
      .select(['c.id', 'c.consumer_no', 'c.discom_id', 'd.code'])
      .where('t.org_id', '=', orgId)
      .where('t.status', '=', 'active')
      .orderBy('c.id')
      .limit(count)
      .execute();
    expect(rows.length).toBe(count);
    return rows.map((r, k) => ({
      connectionId: r.id, consumerNo: r.consumer_no, discomId: r.discom_id, discomCode: r.code,
      amount: k === 0 ? 12_345_678n : 10_000n * BigInt(k + 1) + 7n, rebate: k === 0 ? 25_050n : 0n, advance: k === 2 ? 5_000n : 0n,
      before: k === 0 ? 12_370_728n : 10_000n * BigInt(k + 1) + 7n - (k === 2 ? 5_000n : 0n),
    }));
  }

  let small: Awaited<ReturnType<typeof settledBatch>>;

  beforeAll(async () => {
    small = await settledBatch(eduOrg, await itemsOf(eduOrg, 4), { budgetHead: '2202-01-101-0001', sanctionRef: 'EDU/SAN/2026/117' });
    const [first, second, third] = small.receipts;
    // Postings in each state the billing system can leave them in.
    const posting = (r: { id: bigint; receiptNo: string; item: Item }, kind: 'payment' | 'rebate', amount: bigint, status: 'pending' | 'acknowledged' | 'rejected', billingNo: string | null) =>
      database.db
        .insertInto('postings')
        .values({
          payment_id: small.paymentId, receipt_id: r.id, batch_id: small.batchId, org_id: eduOrg, connection_id: r.item.connectionId, discom_id: r.item.discomId,
          consumer_no: r.item.consumerNo, kind, amount_paise: amount, paid_at: CAPTURED, reference: r.receiptNo, status, billing_receipt_no: billingNo,
          acknowledged_at: status === 'acknowledged' ? CAPTURED : null, applied_at: status === 'acknowledged' ? CAPTURED : null,
        })
        .execute();
    await posting(first!, 'payment', first!.item.amount, 'acknowledged', 'BR-778812');
    await posting(first!, 'rebate', first!.item.rebate, 'acknowledged', 'BR-778813');
    await posting(second!, 'payment', second!.item.amount, 'pending', null);
    await posting(third!, 'payment', third!.item.amount, 'rejected', null);
  });

  it('writes the consolidated receipt, in English and Hindi, with totals that are the payment', async () => {
    const sum = await sql<{ amount: bigint; rebate: bigint }>`
      SELECT sum(amount_paise)::bigint AS amount, sum(rebate_paise)::bigint AS rebate FROM receipts WHERE batch_id = ${small.batchId}`.execute(database.db);
    expect(sum.rows[0]!.amount).toBe(small.total);
    for (const lang of ['en', 'hi'] as const) {
      const pdf = await consolidatedReceiptPdf(database.db, eduOrg, small.batchId, lang);
      expect(pdf).not.toBeNull();
      expect(pdf!.subarray(0, 5).toString('latin1')).toBe('%PDF-');
      const text = pdfText(pdf!);
      for (const r of small.receipts) {
        expect(text).toContain(r.receiptNo);
        expect(text).toContain(r.item.consumerNo);
      }
      expect(text).toContain('₹1,23,456.78');
      expect(text).toContain(small.reference);
      expect(text).toContain(small.gatewayPaymentId);
      expect(text).toContain('2202-01-101-0001');
      expect(text).toContain('EDU/SAN/2026/117');
      expect(text).toContain(formatPaise(small.total, lang));
      expect(text).toContain(formatPaise(sum.rows[0]!.rebate, lang));
      if (lang === 'en') {
        expect(text).toContain('Consolidated payment receipt');
        expect(text).toContain('Page 1 of 1');
        expect(text).toMatch(/20 Nov 2026, 2:45\s?pm IST/i);
        expect(text).toContain(`Amount received from the gateway: ${formatPaise(small.total, 'en')}`);
      }
    }
  });

  it('shows money of the payment that no receipt took as held in suspense', async () => {
    const b = await settledBatch(eduOrg, (await itemsOf(eduOrg, 6)).slice(5));
    await database.db.updateTable('payments').set({ amount_paise: b.total + 1_000n }).where('id', '=', b.paymentId).execute();
    const text = pdfText((await consolidatedReceiptPdf(database.db, eduOrg, b.batchId, 'en'))!);
    expect(text).toMatch(new RegExp(`Total \\(1\\)\\s+${formatPaise(b.total, 'en').replace(/[.$]/g, '\\$&')}`));
    expect(text).toContain(`Amount received from the gateway: ${formatPaise(b.total + 1_000n, 'en')}`);
    expect(text).toContain('Held in suspense (not applied to any connection): ₹10.00');
  });

  it('writes a connection’s receipt with its balances and the billing system’s posting status', async () => {
    const [first, second, third, fourth] = small.receipts;
    const conn = await database.db.selectFrom('connections').select('name').where('id', '=', first!.item.connectionId).executeTakeFirstOrThrow();
    for (const lang of ['en', 'hi'] as const) {
      const pdf = await connectionReceiptPdf(database.db, { orgId: eduOrg, officePath: null }, first!.id, lang);
      expect(pdf!.subarray(0, 5).toString('latin1')).toBe('%PDF-');
      const text = pdfText(pdf!);
      expect(text).toContain(first!.receiptNo);
      expect(text).toContain(first!.item.consumerNo);
      expect(text).toContain('₹1,23,456.78');
      expect(text).toContain('₹250.50'); // the rebate
      expect(text).toContain('₹1,23,707.28'); // the balance before
      expect(text).toContain('BR-778812');
      expect(text).toContain(small.gatewayPaymentId);
      expect(text).toContain(small.reference);
      expect(text).toContain('order_T');
      if (lang === 'en') {
        expect(text).toContain(conn.name);
        expect(text).toContain('Acknowledged: the billing system has applied this payment.');
        expect(text).toMatch(/20 Nov 2026, 2:45\s?pm IST/i);
      }
    }
    const textOf = async (id: bigint) => pdfText((await connectionReceiptPdf(database.db, { orgId: eduOrg, officePath: null }, id, 'en'))!);
    expect(await textOf(second!.id)).toContain('Pending: sent, or waiting to be sent');
    const rejected = await textOf(third!.id);
    expect(rejected).toContain('Rejected by the billing system');
    expect(rejected).toContain(`of which advance credit`);
    expect(rejected).toContain('₹50.00');
    expect(await textOf(fourth!.id)).toContain('Not yet sent to the billing system.');
  });

  it('gives another organisation nothing', async () => {
    expect(await consolidatedReceiptPdf(database.db, phedOrg, small.batchId, 'en')).toBeNull();
    expect(await connectionReceiptPdf(database.db, { orgId: phedOrg, officePath: null }, small.receipts[0]!.id, 'hi')).toBeNull();
    const other = await zipOf((out) => receiptsZip(database.db, phedOrg, small.batchId, 'en', out));
    expect(other.ok).toBe(false);
    expect(other.zip.length).toBe(0);
    expect(await consolidatedReceiptPdf(database.db, eduOrg, 987_654_321n, 'en')).toBeNull();
    expect(await connectionReceiptPdf(database.db, { orgId: eduOrg, officePath: null }, 987_654_321n, 'en')).toBeNull();
    // A PHED batch is PHED's alone, and the receipts of an uncaptured payment are nobody's.
    const phedBatch = await settledBatch(phedOrg, await itemsOf(phedOrg, 1));
    expect(await consolidatedReceiptPdf(database.db, eduOrg, phedBatch.batchId, 'en')).toBeNull();
    expect(await consolidatedReceiptPdf(database.db, phedOrg, phedBatch.batchId, 'en')).not.toBeNull();
    expect(await connectionReceiptPdf(database.db, { orgId: eduOrg, officePath: null }, phedBatch.receipts[0]!.id, 'en')).toBeNull();
  });

  it('zips the consolidated receipt and one PDF per connection', async () => {
    const { ok, zip } = await zipOf((out) => receiptsZip(database.db, eduOrg, small.batchId, 'hi', out));
    expect(ok).toBe(true);
    const file = tmpFile(zip, 'zip');
    const names = execFileSync('zipinfo', ['-1', file], { encoding: 'utf8' }).trim().split('\n');
    expect(names).toHaveLength(small.receipts.length + 1);
    expect(names).toEqual([`${small.reference}-consolidated-receipt.pdf`, ...small.receipts.map((r) => `receipts/${r.receiptNo.replaceAll('/', '-')}.pdf`)]);
    expect(names[1]).toMatch(/^receipts\/[A-Z]+-2026-27-\d{8}\.pdf$/);
    execFileSync('unzip', ['-tq', file]);
    const inner = execFileSync('unzip', ['-p', file, names[1]!], { maxBuffer: 64 * 1024 * 1024 });
    expect(pdfText(inner)).toContain(small.receipts[0]!.receiptNo);
    const consolidated = execFileSync('unzip', ['-p', file, names[0]!], { maxBuffer: 64 * 1024 * 1024 });
    expect(pdfText(consolidated)).toContain(formatPaise(small.total, 'hi'));
  });

  it('pages a batch of 6,001 receipts (more than one page of rows from the database) and totals it in SQL', async () => {
    const items = await itemsOf(eduOrg, 1);
    const big = await settledBatch(eduOrg, items);
    // The rest straight in SQL; connection ids need not exist for the consolidated receipt.
    const item = items[0]!;
    await sql`
      INSERT INTO receipts (discom_id, fy, seq, receipt_no, payment_id, batch_id, org_id, connection_id, consumer_no, amount_paise, advance_paise, rebate_paise,
                            balance_before_paise, balance_after_paise, issued_at)
      SELECT ${item.discomId}, '2026-27', 100000 + g, ${item.discomCode} || '/2026-27/' || lpad((100000 + g)::text, 8, '0'), ${big.paymentId}, ${big.batchId}, ${eduOrg},
             900000000 + g, 'X' || g, 100000 + g, 0, g % 3, 100000 + g + g % 3 + 11, 11, ${CAPTURED}
        FROM generate_series(1, 6000) g`.execute(database.db);
    const { rows } = await sql<{ n: bigint; amount: bigint; rebate: bigint; last: string }>`
      SELECT count(*) AS n, sum(amount_paise)::bigint AS amount, sum(rebate_paise)::bigint AS rebate, max(receipt_no) AS last FROM receipts WHERE batch_id = ${big.batchId}`.execute(database.db);
    const expected = rows[0]!;
    expect(expected.n).toBe(6001n);
    await database.db.updateTable('payments').set({ amount_paise: expected.amount }).where('id', '=', big.paymentId).execute();

    const started = Date.now();
    const pdf = (await consolidatedReceiptPdf(database.db, eduOrg, big.batchId, 'en'))!;
    const ms = Date.now() - started;
    const pages = pdfPages(pdf);
    const text = pdfText(pdf);
    expect(pages).toBeGreaterThan(100);
    expect(text).toContain(`Page ${pages} of ${pages}`);
    expect(text).not.toContain(`Page ${pages + 1}`);
    expect(text).toContain(expected.last);
    expect(text).toMatch(new RegExp(`\\b6,001\\s+${expected.last.replaceAll('/', '\\/')}`));
    expect(text).toMatch(new RegExp(`Total \\(6,001\\)\\s+${formatPaise(expected.amount, 'en').replace(/[.$]/g, '\\$&')}\\s+${formatPaise(expected.rebate, 'en').replace(/[.$]/g, '\\$&')}`));
    expect(text).toContain(`Amount received from the gateway: ${formatPaise(expected.amount, 'en')}`);
    // Every page but the last holds a header row, so every receipt is listed exactly once.
    expect(text.match(/\bX\d+\b/g)?.length).toBe(6000);
    console.log(`consolidated receipt of 6,001 rows: ${pages} pages, ${(pdf.length / 1024).toFixed(0)} KiB, ${ms} ms`);
  });
});

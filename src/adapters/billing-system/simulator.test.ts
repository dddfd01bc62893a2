import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineName, freshDatabase } from '../../../test/helpers/db.ts';
import { syncFromBillingSystem } from '../../modules/connections/index.ts';
import { seedDemo } from '../../modules/demo/seed.ts';
import type { Database } from '../../platform/db/database.ts';
import { BillingSimulator } from './simulator.ts';
import { BillingSystemDown, type ChangeCursor, type PaymentPosting } from './types.ts';

describe(`billing-system simulator on ${engineName}`, () => {
  let database: Database;
  let sim: BillingSimulator;
  let consumer: { discom: string; no: string; balance: bigint };
  let posting: PaymentPosting;

  beforeAll(async () => {
    database = await freshDatabase();
    await seedDemo(database, { seed: 3, connections: 250, asOf: new Date('2026-11-26T12:00:00Z') });
    sim = new BillingSimulator(database);
    const r = await sql<{ discom_code: string; consumer_no: string; balance_paise: bigint }>`
      SELECT discom_code, consumer_no, balance_paise FROM billing_sim.consumers WHERE balance_paise > 100000 ORDER BY consumer_no LIMIT 1`.execute(database.db);
    consumer = { discom: r.rows[0]!.discom_code, no: r.rows[0]!.consumer_no, balance: r.rows[0]!.balance_paise };
    posting = {
      postingId: 'PST-0001',
      discomCode: consumer.discom,
      consumerNo: consumer.no,
      amountPaise: 50_000n,
      paidAt: new Date('2026-11-20T10:00:00Z'),
      mode: 'gateway',
      reference: 'pay_ABC',
    };
  });
  afterAll(async () => {
    await database.close();
  });

  const balance = async (table: 'sim' | 'mirror') => {
    const q =
      table === 'sim'
        ? sql<{ b: bigint }>`SELECT balance_paise AS b FROM billing_sim.consumers WHERE discom_code = ${consumer.discom} AND consumer_no = ${consumer.no}`
        : sql<{ b: bigint }>`SELECT c.balance_paise AS b FROM connections c JOIN discoms d ON d.id = c.discom_id WHERE d.code = ${consumer.discom} AND c.consumer_no = ${consumer.no}`;
    return (await q.execute(database.db)).rows[0]!.b;
  };

  it('pages through every change, connections before bills, without repeats', async () => {
    const seenConnections = new Set<string>();
    const seenBills = new Set<string>();
    let cursor: ChangeCursor | null = null;
    let pages = 0;
    let sawBill = false;
    do {
      const page = await sim.fetchChanges(null, cursor, 70);
      for (const c of page.connections) {
        expect(sawBill).toBe(false);
        const key = `${c.discomCode}|${c.consumerNo}`;
        expect(seenConnections.has(key)).toBe(false);
        seenConnections.add(key);
      }
      for (const b of page.bills) {
        sawBill = true;
        const key = `${b.discomCode}|${b.consumerNo}|${b.billMonth}`;
        expect(seenBills.has(key)).toBe(false);
        seenBills.add(key);
      }
      cursor = page.next;
      pages++;
    } while (cursor);
    expect(seenConnections.size).toBe(250);
    expect(seenBills.size).toBe(3000);
    expect(pages).toBeGreaterThan(40);
  });

  it('applies a posting once, acknowledges a replay with the same receipt, refuses a reused id', async () => {
    const before = await balance('sim');
    const p = posting;
    const [first] = await sim.postPayments([p]);
    expect(first).toMatchObject({ postingId: 'PST-0001', status: 'accepted' });
    const receipt = first!.status === 'accepted' ? first!.billingReceiptNo : '';
    const appliedAt = first!.status === 'accepted' ? first!.appliedAt : '';
    expect(await balance('sim')).toBe(before - 50_000n);
    // The consumer's change is stamped with the time the posting reports as applied.
    const page = await sim.fetchChanges(new Date(Date.parse(appliedAt) - 1).toISOString(), null, 1000);
    expect(page.connections.find((c) => c.consumerNo === p.consumerNo)?.changedAt).toBe(appliedAt);

    const [again] = await sim.postPayments([p]);
    expect(again).toEqual({ postingId: 'PST-0001', status: 'duplicate', billingReceiptNo: receipt, appliedAt });
    expect(await balance('sim')).toBe(before - 50_000n);

    const [reused] = await sim.postPayments([{ ...p, amountPaise: 1n }]);
    expect(reused).toMatchObject({ status: 'rejected', reason: 'posting id already used for a different payment' });
    const [unknown] = await sim.postPayments([{ ...p, postingId: 'PST-0002', consumerNo: '0999999999' }]);
    expect(unknown).toMatchObject({ status: 'rejected', reason: 'unknown consumer' });
    const [otherRef] = await sim.postPayments([{ ...p, reference: 'pay_OTHER' }]);
    expect(otherRef).toMatchObject({ status: 'rejected', reason: 'posting id already used for a different payment' });
    expect(await balance('sim')).toBe(before - 50_000n);
  });

  it('refuses bad postings one by one and still applies the good ones in the same call', async () => {
    const before = await balance('sim');
    const acks = await sim.postPayments([
      { ...posting, postingId: 'PST-ZERO', amountPaise: 0n },
      { ...posting, postingId: 'PST-TWICE', amountPaise: 100n },
      { ...posting, postingId: 'PST-TWICE', amountPaise: 200n },
      { ...posting, postingId: 'PST-GOOD', amountPaise: 300n },
    ]);
    expect(acks.map((a) => [a.postingId, a.status])).toEqual([
      ['PST-ZERO', 'rejected'],
      ['PST-TWICE', 'rejected'],
      ['PST-TWICE', 'rejected'],
      ['PST-GOOD', 'accepted'],
    ]);
    expect(acks[0]).toMatchObject({ reason: 'amount must be positive' });
    expect(acks[1]).toMatchObject({ reason: 'posting id repeated within one call' });
    expect(await balance('sim')).toBe(before - 300n);
  });

  it('refuses calls while down, and works again after', async () => {
    await sim.setDown(new Date(Date.now() + 60_000));
    await expect(sim.postPayments([])).rejects.toBeInstanceOf(BillingSystemDown);
    await expect(sim.fetchChanges(null, null, 10)).rejects.toBeInstanceOf(BillingSystemDown);
    await sim.setDown(null);
    await expect(sim.fetchChanges(null, null, 1)).resolves.toBeTruthy();
  });

  it('syncs exactly what changed, and a second sync writes nothing', async () => {
    expect(await balance('mirror')).not.toBe(await balance('sim'));
    const r = await syncFromBillingSystem(database, sim, { pageSize: 100 });
    // the posting changed one consumer and its latest bill
    expect(r).toMatchObject({ ran: true, connections: 1, bills: 1, rejected: 0 });
    expect(await balance('mirror')).toBe(await balance('sim'));
    const latest = await sql<{ status: string }>`
      SELECT b.status FROM bills b JOIN connections c ON c.id = b.connection_id
       WHERE c.consumer_no = ${consumer.no} ORDER BY b.bill_month DESC LIMIT 1`.execute(database.db);
    expect(['paid', 'part_paid']).toContain(latest.rows[0]!.status);

    const synced = sql<{ h: string }>`SELECT md5(string_agg(concat_ws('|', id, balance_paise, synced_at), ',' ORDER BY id)) AS h FROM connections`;
    const before = (await synced.execute(database.db)).rows[0]!.h;
    const again = await syncFromBillingSystem(database, sim, { pageSize: 100 });
    expect(again).toMatchObject({ ran: true, connections: 0, bills: 0 });
    expect((await synced.execute(database.db)).rows[0]!.h).toBe(before);
    const state = await database.db.selectFrom('billing_sync_state').selectAll().where('source', '=', 'simulator').executeTakeFirstOrThrow();
    expect(state.last_error).toBeNull();
    expect(state.watermark).toBeInstanceOf(Date);
  });

  it('does not lose a change made to a connection while the sync is reading bills', async () => {
    // A billing system whose connection changes while the sync is on its bills phase.
    let posted = false;
    const racing = Object.create(sim) as BillingSimulator;
    racing.fetchChanges = async (since, cursor, limit) => {
      if (cursor?.phase === 'bills' && !posted) {
        posted = true;
        await sim.postPayments([{ ...posting, postingId: 'PST-RACE', amountPaise: 12_345n }]);
      }
      return sim.fetchChanges(since, cursor, limit);
    };
    // make the run see at least one bill so it enters the bills phase
    await sql`UPDATE billing_sim.bills SET changed_at = clock_timestamp() WHERE consumer_no = (SELECT consumer_no FROM billing_sim.bills ORDER BY consumer_no DESC LIMIT 1)`.execute(database.db);
    // No overlap: only the anchoring of the watermark on the run's start keeps the change.
    await syncFromBillingSystem(database, racing, { pageSize: 5, overlapMs: 0 });
    expect(posted).toBe(true);
    expect(await balance('mirror')).not.toBe(await balance('sim'));
    await syncFromBillingSystem(database, sim, { pageSize: 5, overlapMs: 0 });
    expect(await balance('mirror')).toBe(await balance('sim'));
  });

  it('quarantines a row it cannot apply, goes on, and releases it once a good copy arrives', async () => {
    await sql`UPDATE billing_sim.consumers SET subdivision_code = '999', changed_at = clock_timestamp()
               WHERE consumer_no = ${consumer.no}`.execute(database.db);
    await sql`UPDATE billing_sim.consumers SET name = 'Renamed by the discom', changed_at = clock_timestamp()
               WHERE consumer_no = (SELECT min(consumer_no) FROM billing_sim.consumers WHERE consumer_no <> ${consumer.no})`.execute(database.db);
    const r = await syncFromBillingSystem(database, sim);
    expect(r).toMatchObject({ ran: true, connections: 1, rejected: 1 });
    const q = await database.db.selectFrom('billing_sync_rejects').selectAll().execute();
    expect(q).toHaveLength(1);
    expect(q[0]).toMatchObject({ kind: 'connections', key: `${consumer.discom}|${consumer.no}`, problem: 'unknown_subdivision', detail: '999' });
    expect((q[0]!.payload as { consumerNo: string }).consumerNo).toBe(consumer.no);

    const sub = await sql<{ code: string }>`SELECT sd.code FROM connections c JOIN subdivisions sd ON sd.id = c.subdivision_id WHERE c.consumer_no = ${consumer.no}`.execute(database.db);
    await sql`UPDATE billing_sim.consumers SET subdivision_code = ${sub.rows[0]!.code}, changed_at = clock_timestamp() WHERE consumer_no = ${consumer.no}`.execute(database.db);
    const fixed = await syncFromBillingSystem(database, sim);
    expect(fixed.rejected).toBe(0);
    expect(await database.db.selectFrom('billing_sync_rejects').selectAll().execute()).toEqual([]);
  });

  it('lets one sync run at a time', async () => {
    const [a, b] = await Promise.all([syncFromBillingSystem(database, sim), syncFromBillingSystem(database, sim)]);
    expect([a.ran, b.ran].sort()).toEqual([false, true]);
  });

  it('records a failed sync and leaves the watermark where it was', async () => {
    const before = await database.db.selectFrom('billing_sync_state').selectAll().where('source', '=', 'simulator').executeTakeFirstOrThrow();
    await sim.setDown(new Date(Date.now() + 60_000));
    await expect(syncFromBillingSystem(database, sim)).rejects.toBeInstanceOf(BillingSystemDown);
    await sim.setDown(null);
    const after = await database.db.selectFrom('billing_sync_state').selectAll().where('source', '=', 'simulator').executeTakeFirstOrThrow();
    expect(after.last_error).toMatch(/unavailable/);
    expect(after.watermark).toEqual(before.watermark);
  });
});

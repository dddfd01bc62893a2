import { sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig } from '../../../test/helpers/config.ts';
import { engineName, freshDatabase } from '../../../test/helpers/db.ts';
import { Client } from '../../../test/helpers/http.ts';
import { BillingSimulator } from '../../adapters/billing-system/simulator.ts';
import type { App } from '../../platform/context.ts';
import type { Database } from '../../platform/db/database.ts';
import type { DB } from '../../platform/db/schema.ts';
import { buildApp } from '../../server.ts';
import { DEMO_PASSWORD } from '../demo/people.ts';
import { seedDemo, tagDemoConnections } from '../demo/seed.ts';
import { buildGateway, SANDBOX_KEY_ID } from './gateway.ts';
import { checkInvariants } from './invariants.ts';

/**
 * verify-money catches each class of money error on a database that has it: each test breaks a
 * healthy database in one way, inside a transaction rolled back afterwards, and expects the
 * check to fail naming the invariant.
 */

class Undo extends Error {}

describe(`verify-money on a broken database (${engineName})`, () => {
  let database: Database;
  let app: App;

  async function broken(breakIt: (trx: Kysely<DB>) => Promise<void>, invariant: string | RegExp): Promise<void> {
    await checkInvariants(database.db);
    await database.db
      .transaction()
      .execute(async (trx) => {
        await breakIt(trx);
        await expect(checkInvariants(trx)).rejects.toThrow(invariant);
        throw new Undo();
      })
      .catch((e: unknown) => {
        if (!(e instanceof Undo)) throw e;
      });
    await checkInvariants(database.db);
  }

  beforeAll(async () => {
    database = await freshDatabase();
    await seedDemo(database, { seed: 5, connections: 300, asOf: new Date() });
    await tagDemoConnections(database);
    const config = testConfig({ devTools: true });
    const payments = await buildGateway(config, database.db);
    const sandbox = payments.sandbox!;
    await sandbox.merchant(SANDBOX_KEY_ID, { webhookUrl: 'http://portal.test/api/v1/webhooks/razorpay' });
    app = await buildApp({ config, database, billing: new BillingSimulator(database), clock: () => new Date(), payments });
    await app.ready();
    // A paid batch (online), so that there are receipts to break.
    const maker = await new Client(app, '10.0.7.1').login('edu.admin', DEMO_PASSWORD);
    const org = (await database.db.selectFrom('organisations').select('id').where('department_code', '=', 'BR-EDU').executeTakeFirstOrThrow()).id;
    await database.db.updateTable('organisations').set({ approval_threshold_paise: null }).where('id', '=', org).execute();
    const ids = await database.db.selectFrom('connection_dues').select('connection_id').where('org_id', '=', org).where('balance_paise', '>', 10_000n).orderBy('connection_id').limit(2).execute();
    const b = await maker.req('POST', '/api/v1/org/payments/batches', { items: ids.map((i) => ({ connectionId: i.connection_id.toString() })) }, { 'idempotency-key': 'inv-batch-1' });
    expect(b.statusCode, b.body).toBe(201);
    const { fields } = (await maker.post(`/api/v1/org/payments/batches/${b.json().id}/checkout`)).json<{ fields: Record<string, string> }>();
    await sandbox.pay(fields.key_id!, fields.order_id!, 'success', 'upi');
    await sandbox.pump(async (d) => (await app.inject({ method: 'POST', url: new URL(d.url).pathname, headers: d.headers, payload: d.body })).statusCode);
    expect((await maker.get(`/api/v1/org/payments/batches/${b.json().id}`)).json().status).toBe('paid');
  });
  afterAll(async () => {
    await app?.close();
    await database?.close();
  });

  it('fails when a credit the bank reported is neither a payment nor an exception', async () => {
    await broken(async (trx) => {
      await sql`INSERT INTO bank_credits (utr, amount_paise, credited_at, source, sources, status) VALUES ('LOSTCREDIT000001', 100000, now(), 'va_notification', ARRAY['va_notification'], 'received')`.execute(trx);
    }, 'every credit the bank reported ends as a payment or an exception');
  });

  it('fails when a captured gateway payment has no batch and no exception', async () => {
    await broken(async (trx) => {
      await sql`INSERT INTO webhook_events (provider, event_id, event_type, order_id, gateway_payment_id, raw_body, headers, verified, status, outcome)
                VALUES ('sandbox', 'evt_lost_0001', 'payment.captured', 'order_NotOurs0001', 'pay_LostMoney0001', '\\x7b7d'::bytea, '{}'::jsonb, true, 'ignored', 'order unknown to the portal')`.execute(trx);
    }, 'every captured gateway payment is a batch’s payment or an unmatched capture');
  });

  it('fails when a settled batch leaves a connection owing what it paid for', async () => {
    const r = await database.db.selectFrom('receipts').select(['id']).orderBy('id').executeTakeFirst();
    expect(r, 'a receipt to break').toBeDefined();
    await broken(async (trx) => {
      // As the RTGS rebate bug left it: money as planned, the connection still owing (the
      // receipt's own arithmetic check is dropped for this rolled-back transaction only).
      await sql`ALTER TABLE receipts DROP CONSTRAINT receipts_check`.execute(trx);
      await trx.updateTable('receipts').set({ balance_after_paise: 2_500n }).where('id', '=', r!.id).execute();
    }, 'a settled batch leaves no connection owing what it paid for');
  });

  it('fails when a paid batch misstates the rebate it credited', async () => {
    await broken(async (trx) => {
      await trx.updateTable('payment_batches').set({ rebate_credited_paise: sql`rebate_credited_paise + 1` }).where('status', '=', 'paid').execute();
    }, 'a paid batch records the rebate its receipts credited');
  });
});

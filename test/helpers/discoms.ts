import { sql } from 'kysely';
import { expect } from 'vitest';
import { BillingSimulator } from '../../src/adapters/billing-system/simulator.ts';
import type { SandboxGateway } from '../../src/adapters/gateway/sandbox.ts';
import { DEMO_LOGINS, DEMO_PASSWORD } from '../../src/modules/demo/people.ts';
import { buildGateway } from '../../src/modules/payments/gateway.ts';
import type { App } from '../../src/platform/context.ts';
import type { Database } from '../../src/platform/db/database.ts';
import { buildApp } from '../../src/server.ts';
import { testConfig } from './config.ts';
import { Client } from './http.ts';

/**
 * Money of one discom for the discom-scope tests: batches of one discom's connections, paid by
 * RTGS/NEFT through the sandbox bank (exactly, short, to an unknown virtual account) or online
 * through the sandbox gateway, and the collection account's statement imported.
 */

export async function appWithSandbox(database: Database): Promise<{ app: App; sandbox: SandboxGateway }> {
  const config = testConfig({ devTools: true, loginMaxFailures: 1000, loginMaxFailuresPerIp: 10000 });
  const payments = await buildGateway(config, database.db);
  const app = await buildApp({ config, database, billing: new BillingSimulator(database), clock: () => new Date(), payments });
  await app.ready();
  return { app, sandbox: payments.sandbox! };
}

/** A demo user's session; users with a second factor finish it with their published secret. */
export async function loginAs(app: App, loginId: string, ip = '10.7.0.1'): Promise<Client> {
  return new Client(app, ip).login(loginId, DEMO_PASSWORD, DEMO_LOGINS.find((l) => l.loginId === loginId)?.totpSecret);
}

export const COLLECTION_ACCOUNT = { NBPDCL: '50200011112221', SBPDCL: '50200011113331' } as const;
export type DiscomCode = keyof typeof COLLECTION_ACCOUNT;

export const todayIst = () => new Date(Date.now() + 5.5 * 3_600_000).toISOString().slice(0, 10);

let keys = 0;

export class Payer {
  constructor(
    readonly app: App,
    readonly database: Database,
    readonly client: Client,
    readonly orgId: bigint,
  ) {}

  /** Connections of the organisation's, of one discom, with something due and in no open batch. */
  async payable(n: number, discom: DiscomCode, skip = 0): Promise<string[]> {
    const { rows } = await sql<{ connection_id: bigint }>`
      SELECT d.connection_id FROM connection_dues d JOIN connections c ON c.id = d.connection_id JOIN discoms dc ON dc.id = c.discom_id
       WHERE d.org_id = ${this.orgId} AND d.balance_paise > 100000 AND dc.code = ${discom}
         AND NOT EXISTS (SELECT 1 FROM payment_batch_items i WHERE i.connection_id = d.connection_id AND i.open)
       ORDER BY d.connection_id OFFSET ${skip} LIMIT ${n}`.execute(this.database.db);
    expect(rows.length, `${n} payable ${discom} connections`).toBe(n);
    return rows.map((r) => r.connection_id.toString());
  }

  async batch(ids: string[]): Promise<{ id: string; reference: string; totalPaise: string }> {
    const r = await this.client.req('POST', '/api/v1/org/payments/batches', { items: ids.map((connectionId) => ({ connectionId })) }, { 'idempotency-key': `discom-scope-${++keys}-${Date.now()}` });
    expect(r.statusCode, r.body).toBe(201);
    return r.json();
  }

  async challan(batchId: string): Promise<{ vaNumber: string; amountPaise: string }> {
    const r = await this.client.post(`/api/v1/org/payments/batches/${batchId}/challan`);
    expect(r.statusCode, r.body).toBe(200);
    return r.json();
  }

  /** A transfer to a virtual account through the sandbox bank: e-collect (applied at once) or only in the statement. */
  async transfer(vaNumber: string, amountPaise: bigint | string, channel: 'ecollect' | 'statement', payerName = 'DDO'): Promise<string> {
    const r = await this.app.inject({ method: 'POST', url: '/sandbox/bank/transfers', payload: { vaNumber, amountPaise: String(amountPaise), channel, mode: 'NEFT', payerName } });
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json<{ status: string }>().status).toBe('booked');
    return r.json<{ utr: string }>().utr;
  }

  /** A batch paid online through the sandbox gateway's checkout. */
  async payOnline(sandbox: SandboxGateway, batchId: string): Promise<void> {
    const co = await this.client.post(`/api/v1/org/payments/batches/${batchId}/checkout`);
    expect(co.statusCode, co.body).toBe(200);
    const { fields } = co.json<{ fields: Record<string, string> }>();
    const back = await sandbox.pay(fields.key_id!, fields.order_id!, 'success', 'upi');
    const cb = await this.app.inject({ method: 'POST', url: new URL(fields.callback_url!, 'http://x').pathname, payload: new URLSearchParams(back).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(cb.statusCode).toBe(303);
  }
}

/** The collection account's statement of today, from the sandbox bank. */
export async function statementOf(app: App, account: string, format: 'mt940' | 'camt053' | 'csv' = 'mt940'): Promise<Buffer> {
  const r = await app.inject({ method: 'GET', url: `/sandbox/bank/statement?account=${account}&from=${todayIst()}&to=${todayIst()}&format=${format}` });
  expect(r.statusCode, r.body).toBe(200);
  return r.rawPayload;
}

export async function importStatement(who: Client, data: Buffer, format: 'mt940' | 'camt053' | 'csv' = 'mt940', account?: string) {
  const q = new URLSearchParams({ fileName: `statement.${format}`, format, ...(account ? { account } : {}) });
  return who.raw('POST', `/api/v1/discom/recon/statements?${q.toString()}`, data);
}

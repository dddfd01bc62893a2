import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineName, freshDatabase } from '../../../test/helpers/db.ts';
import type { Database } from '../../platform/db/database.ts';
import { SeedRefused, seedDemo } from './seed.ts';

const AS_OF = new Date('2026-11-26T12:00:00Z');

async function digest(database: Database): Promise<{ connections: string; bills: string }> {
  const r = await sql<{ connections: string; bills: string }>`
    SELECT (SELECT md5(string_agg(concat_ws('|', d.code, c.consumer_no, c.name, c.category, c.balance_paise, c.owner_pan, c.owner_dept_code), ',' ORDER BY d.code, c.consumer_no))
              FROM connections c JOIN discoms d ON d.id = c.discom_id) AS connections,
           (SELECT md5(string_agg(concat_ws('|', d.code, b.bill_no, b.units, b.current_demand_paise, b.net_payable_paise, b.dps_paise, b.status), ',' ORDER BY d.code, b.bill_no))
              FROM bills b JOIN discoms d ON d.id = b.discom_id) AS bills`.execute(database.db);
  return r.rows[0]!;
}

describe(`demo seed on ${engineName}`, () => {
  let a: Database;
  let b: Database;
  beforeAll(async () => {
    [a, b] = await Promise.all([freshDatabase(), freshDatabase()]);
  });
  afterAll(async () => {
    await Promise.all([a.close(), b.close()]);
  });

  it('is deterministic: the same seed gives the same data, inline or from the worker thread', async () => {
    const ra = await seedDemo(a, { seed: 7, connections: 600, asOf: AS_OF, chunkSize: 250, worker: false });
    const rb = await seedDemo(b, { seed: 7, connections: 600, asOf: AS_OF, chunkSize: 100, worker: true });
    expect(ra.connections).toBe(600);
    expect(ra.bills).toBe(600 * 12);
    expect(rb.bills).toBe(ra.bills);
    expect(await digest(b)).toEqual(await digest(a));
  });

  it('refuses to seed a database that already has connections', async () => {
    await expect(seedDemo(a, { seed: 8, connections: 10, asOf: AS_OF })).rejects.toBeInstanceOf(SeedRefused);
  });

  it('produces Bihar-like consumers: 9–11 digit numbers, both discoms, owner identifiers', async () => {
    const r = await sql<{ code: string; n: bigint; min_len: number; max_len: number; with_owner: bigint }>`
      SELECT d.code, count(*) AS n, min(length(c.consumer_no)) AS min_len, max(length(c.consumer_no)) AS max_len,
             count(*) FILTER (WHERE c.owner_pan IS NOT NULL OR c.owner_dept_code IS NOT NULL) AS with_owner
        FROM connections c JOIN discoms d ON d.id = c.discom_id GROUP BY d.code ORDER BY d.code`.execute(a.db);
    expect(r.rows.map((x) => x.code)).toEqual(['NBPDCL', 'SBPDCL']);
    for (const row of r.rows) {
      expect(row.n).toBeGreaterThan(200n);
      expect(row.min_len).toBeGreaterThanOrEqual(9);
      expect(row.max_len).toBeLessThanOrEqual(11);
      expect(row.with_owner).toBeGreaterThan(0n);
    }
    const edu = await sql<{ n: bigint }>`SELECT count(*) AS n FROM connections WHERE owner_dept_code = 'BR-EDU'`.execute(a.db);
    expect(edu.rows[0]!.n).toBeGreaterThan(30n);
    const orgs = await sql<{ type: string }>`SELECT DISTINCT type FROM organisations ORDER BY type`.execute(a.db);
    expect(orgs.rows.map((o) => o.type)).toEqual(['central_psu', 'large_consumer', 'private', 'state_department', 'state_psu']);
  });

  it('gives every connection 12 consecutive monthly bills whose figures add up', async () => {
    const months = await sql<{ bad: bigint }>`
      SELECT count(*) AS bad FROM (
        SELECT connection_id, count(*) AS n, max(bill_month) - min(bill_month) AS span
          FROM bills GROUP BY connection_id) x
       WHERE n <> 12 OR span NOT BETWEEN 330 AND 340`.execute(a.db);
    expect(months.rows[0]!.bad).toBe(0n);
    const sums = await sql<{ bad: bigint }>`
      SELECT count(*) AS bad FROM bills
       WHERE net_payable_paise + rebate_paise <> greatest(arrears_paise + current_demand_paise + dps_paise - advance_credit_paise, 0)
          OR (arrears_paise > 0 AND advance_credit_paise > 0)
          OR payable_after_due_paise < net_payable_paise`.execute(a.db);
    expect(sums.rows[0]!.bad).toBe(0n);
  });

  it('includes arrears, DPS, rebates, advance credit and anomalies', async () => {
    const r = await sql<Record<string, bigint>>`
      SELECT count(*) FILTER (WHERE arrears_paise > 0) AS arrears,
             count(*) FILTER (WHERE dps_paise > 0) AS dps,
             count(*) FILTER (WHERE rebate_paise > 0) AS rebate,
             count(*) FILTER (WHERE advance_credit_paise > 0) AS advance,
             count(*) FILTER (WHERE units = 0) AS zero_units,
             count(*) FILTER (WHERE bill_basis = 'average') AS average,
             count(*) FILTER (WHERE bill_basis = 'provisional') AS provisional
        FROM bills`.execute(a.db);
    for (const [k, v] of Object.entries(r.rows[0]!)) expect(v, k).toBeGreaterThan(0n);
    const bal = await sql<{ due: bigint; adv: bigint }>`
      SELECT count(*) FILTER (WHERE balance_paise > 0) AS due, count(*) FILTER (WHERE balance_paise < 0) AS adv FROM connections`.execute(a.db);
    expect(bal.rows[0]!.due).toBeGreaterThan(0n);
    expect(bal.rows[0]!.adv).toBeGreaterThan(0n);
  });

  it('writes the same master into the billing simulator as into the portal mirror', async () => {
    const r = await sql<{ diff: bigint }>`
      SELECT count(*) AS diff FROM connections c JOIN discoms d ON d.id = c.discom_id
        FULL JOIN billing_sim.consumers k ON k.discom_code = d.code AND k.consumer_no = c.consumer_no
       WHERE k.consumer_no IS NULL OR c.id IS NULL OR k.balance_paise <> c.balance_paise`.execute(a.db);
    expect(r.rows[0]!.diff).toBe(0n);
  });
});

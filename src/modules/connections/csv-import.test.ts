import { Readable } from 'node:stream';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineName, freshDatabase } from '../../../test/helpers/db.ts';
import type { Database } from '../../platform/db/database.ts';
import { seedReferenceData } from '../demo/seed.ts';
import { importBillingCsv } from './csv-import.ts';

const CONN_HEADER =
  'discom_code,consumer_no,subdivision_code,name,address,category,supply_type,sanctioned_load_kw,meter_no,registered_mobile,owner_pan,owner_dept_code,status,balance';
const BILL_HEADER =
  'discom_code,bill_no,consumer_no,bill_month,bill_date,due_date,prev_reading,curr_reading,units,bill_basis,energy_charge,fixed_charge,fuel_surcharge,electricity_duty,meter_rent,current_demand,arrears,dps,rebate,advance_credit,net_payable,payable_after_due,last_payment,last_payment_date,status';

const goodConnections = [
  CONN_HEADER,
  'NBPDCL,0101000001,101,Govt. Middle School,"Ward 3, Brahmpura, Muzaffarpur",NDS-II,LT,5,BR12345678,9431012345,,BR-EDU,active,"1,234.50"',
  'sbpdcl,11330000001,133,Ram Kumar,"Ward 9, Arrah",DS-II,LT,2.5,,8012345678,ABCPK1234D,,active,-200',
  '',
  'SBPDCL,913300001,133,PHED Pump House,Koilwar,PWW,LT,15,,,,BR-PHED,disconnected,0',
].join('\n');

const goodBills = [
  `\uFEFF${BILL_HEADER}`,
  'NBPDCL,26100101000001,0101000001,2026-10-01,2026-10-05,20-10-2026,100,350,250,actual,1950,1000,37.50,177,50,3214.50,0,0,48.22,0,3166.28,3262.72,,,unpaid',
  'SBPDCL,261011330000001,11330000001,2026-10-01,2026-10-05,2026-10-20,,,120,average,840,100,18,56.40,20,1034.40,0,0,15.52,200,818.88,834.40,500,2026-09-18,paid',
].join('\r\n');

const stream = (s: string) => Readable.from([Buffer.from(s)]);
const at = { extractedAt: new Date('2026-11-20T10:00:00Z') };

describe(`CSV import of consumer master and bills on ${engineName}`, () => {
  let database: Database;
  beforeAll(async () => {
    database = await freshDatabase();
    await seedReferenceData(database);
  });
  afterAll(async () => {
    await database.close();
  });

  const counts = async () =>
    (
      await sql<{ c: bigint; b: bigint }>`SELECT (SELECT count(*) FROM connections) AS c, (SELECT count(*) FROM bills) AS b`.execute(database.db)
    ).rows[0]!;

  it('imports valid files: BOM, CRLF, blank lines, Indian grouping, lower-case codes, DD-MM-YYYY dates', async () => {
    const r = await importBillingCsv(database, { connections: stream(goodConnections), bills: stream(goodBills) }, at);
    expect(r.problems).toEqual([]);
    expect(r.connections).toBe(3);
    expect(r.bills).toBe(2);
    const c = await database.db
      .selectFrom('connections')
      .select(['consumer_no', 'balance_paise', 'sanctioned_load_va', 'owner_dept_code'])
      .orderBy('id')
      .execute();
    expect(c).toEqual([
      { consumer_no: '0101000001', balance_paise: 123450n, sanctioned_load_va: 5000, owner_dept_code: 'BR-EDU' },
      { consumer_no: '11330000001', balance_paise: -20000n, sanctioned_load_va: 2500, owner_dept_code: null },
      { consumer_no: '913300001', balance_paise: 0n, sanctioned_load_va: 15000, owner_dept_code: 'BR-PHED' },
    ]);
    const b = await database.db.selectFrom('bills').select(['bill_no', 'due_date', 'electricity_duty_paise', 'net_payable_paise']).orderBy('id').execute();
    expect(b).toEqual([
      { bill_no: '26100101000001', due_date: '2026-10-20', electricity_duty_paise: 17700n, net_payable_paise: 316628n },
      { bill_no: '261011330000001', due_date: '2026-10-20', electricity_duty_paise: 5640n, net_payable_paise: 81888n },
    ]);
  });

  it('writes nothing when the same files are imported again, even as of a later time', async () => {
    const before = await database.db.selectFrom('bills').selectAll().orderBy('id').execute();
    const r = await importBillingCsv(database, { connections: stream(goodConnections), bills: stream(goodBills) }, { extractedAt: new Date('2026-11-21T10:00:00Z') });
    expect(r.problemCount).toBe(0);
    expect(r.staged).toEqual({ connections: 3, bills: 2 });
    expect([r.connections, r.bills]).toEqual([0, 0]);
    expect(await counts()).toEqual({ c: 3n, b: 2n });
    expect(await database.db.selectFrom('bills').selectAll().orderBy('id').execute()).toEqual(before);
  });

  it('does not let an older file overwrite newer data, and applies a newer one', async () => {
    const changed = goodConnections.replace('"1,234.50"', '999.00');
    const older = await importBillingCsv(database, { connections: stream(changed) }, { extractedAt: new Date('2026-11-19T10:00:00Z') });
    expect(older.problemCount).toBe(0);
    expect(older.connections).toBe(0);
    const bal = () =>
      database.db.selectFrom('connections').select('balance_paise').where('consumer_no', '=', '0101000001').executeTakeFirstOrThrow();
    expect((await bal()).balance_paise).toBe(123450n);
    const newer = await importBillingCsv(database, { connections: stream(changed) }, { extractedAt: new Date('2026-11-22T10:00:00Z') });
    expect(newer.connections).toBe(1);
    expect((await bal()).balance_paise).toBe(99900n);
  });

  it('reports by line the rows that break the tables’ rules, instead of failing on a constraint', async () => {
    const rows = [
      BILL_HEADER,
      // negative charge; due before bill date; after-due below net; zero last payment; a number too big for paise
      'NBPDCL,B1,0101000001,2026-09-01,2026-09-05,2026-09-20,,,1,actual,-1,1,1,1,1,3,0,0,0,0,5,5,,,unpaid',
      'NBPDCL,B2,0101000001,2026-08-01,2026-08-05,2026-08-01,,,1,actual,1,1,1,1,1,5,0,0,0,0,5,5,,,unpaid',
      'NBPDCL,B3,0101000001,2026-07-01,2026-07-05,2026-07-20,,,1,actual,1,1,1,1,1,5,0,0,0,0,5,4,,,unpaid',
      'NBPDCL,B4,0101000001,2026-06-01,2026-06-05,2026-06-20,,,1,actual,1,1,1,1,1,5,0,0,0,0,5,5,0,2026-05-30,paid',
      'NBPDCL,B5,0101000001,2026-05-01,2026-05-05,2026-05-20,,,1,actual,1,1,1,1,1,5,0,0,0,0,5,99999999999999999999,,,unpaid',
    ].join('\n');
    const r = await importBillingCsv(database, { bills: stream(rows) }, at);
    const byLine = (line: number) => r.problems.filter((p) => p.row === line).map((p) => p.message.en);
    expect(byLine(2)).toContain('energy_charge: must not be negative');
    expect(byLine(3)).toContain('due_date: is before the bill date');
    expect(byLine(4)).toContain('payable_after_due: is less than the net payable by the due date');
    expect(byLine(5)).toContain('last_payment: must be more than zero');
    expect(byLine(6)).toContain('payable_after_due: must be an amount in rupees, such as 1234.50');
    expect(r.bills).toBe(0);
    expect(await counts()).toEqual({ c: 3n, b: 2n });
  });

  it('rejects a file with bad rows, reports each by line, and imports none of it', async () => {
    const bad = [
      CONN_HEADER,
      'NBPDCL,0101000002,101,Good Row,Somewhere,DS-II,LT,1,,,,,active,10', // line 2: fine on its own
      'NBPDCL,1.02345E+11,101,Excel damage,Somewhere,DS-II,LT,1,,,,,active,10', // line 3
      'NBPDCL,0101000003,999,Unknown subdivision,Somewhere,DS-II,LT,1,,,,,active,10', // line 4
      'NBPDCL,0101000004,101,,Somewhere,XX-9,LT,1,,12345,abc,,paid,1.234', // line 5: many problems
      'NBPDCL,0101000002,101,Duplicate,Somewhere,DS-II,LT,1,,,,,active,10', // line 6
      'NBPDCL,12345,101,Too short,Somewhere,DS-II,LT,1,,,,,active,10', // line 7
      'BSEB,0101000005,101,Unknown discom,Somewhere,DS-II,LT,1,,,,,active,10', // line 8
    ].join('\n');
    const badBills = [
      BILL_HEADER,
      'NBPDCL,X1,0109999999,2026-10-01,2026-10-05,2026-10-20,,,1,actual,1,1,1,1,1,5,0,0,0,0,5,5,,,unpaid', // unknown connection
      'NBPDCL,X2,0101000001,2026-10-15,2026-10-05,2026-13-20,,,1,actual,1,1,1,1,1,9,0,0,0,0,5,5,,,unpaid', // mid-month, bad date, bad sum
    ].join('\n');
    const r = await importBillingCsv(database, { connections: stream(bad), bills: stream(badBills) }, at);
    expect(r.connections).toBe(0);
    const lines = (file: string) => [...new Set(r.problems.filter((p) => p.file === file).map((p) => p.row))];
    expect(lines('connections')).toEqual([3, 4, 5, 6, 7, 8]);
    expect(lines('bills')).toEqual([2, 3]);
    const line5 = r.problems.filter((p) => p.file === 'connections' && p.row === 5).map((p) => p.message.en);
    expect(line5).toEqual(
      expect.arrayContaining([
        'name: is required',
        'registered_mobile: must be a 10-digit mobile number starting with 6 to 9',
        'owner_pan: must be a PAN such as ABCDE1234F',
        'status: must be one of active, disconnected, closed',
        'balance: must be an amount in rupees, such as 1234.50',
      ]),
    );
    expect(r.problems.find((p) => p.row === 3)!.message.en).toContain('consumer_no: must be digits only');
    expect(r.problems.find((p) => p.row === 4)!.problem).toBe('unknown_subdivision');
    expect(r.problems.find((p) => p.row === 6)!.problem).toBe('duplicate_in_file');
    expect(r.problems.find((p) => p.row === 8)!.problem).toBe('unknown_discom');
    expect(r.problems.find((p) => p.file === 'bills' && p.row === 2)!.problem).toBe('unknown_connection');
    expect(r.problems.filter((p) => p.file === 'bills' && p.row === 3).map((p) => p.message.en)).toEqual(
      expect.arrayContaining(['bill_month: must be the first day of a month', 'due_date: must be a date, YYYY-MM-DD or DD-MM-YYYY', 'current_demand: does not equal the sum of the charges']),
    );
    for (const p of r.problems) expect(p.message.hi).toMatch(/[\u0900-\u097F]/);
    expect(await counts()).toEqual({ c: 3n, b: 2n });
  });

  it('names missing columns', async () => {
    const r = await importBillingCsv(database, { connections: stream('discom_code,consumer_no\nNBPDCL,0101000009\n') }, at);
    expect(r.problems[0]!.message.en).toContain('missing columns: subdivision_code, name, address');
    expect(await counts()).toEqual({ c: 3n, b: 2n });
  });
});

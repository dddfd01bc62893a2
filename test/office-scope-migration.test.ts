import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo, tagDemoConnections } from '../src/modules/demo/seed.ts';
import { openDatabase, type Database } from '../src/platform/db/database.ts';
import { migrate, readMigrations } from '../src/platform/db/migrate.ts';
import { engineName } from './helpers/db.ts';
import { scratchDatabase } from './helpers/pg.ts';

/**
 * Migration 0013 backfills the office of batches, uploads and selections made before it
 * (decision 0011): a batch takes the nearest common office of its items' offices, each the
 * office of the organisation's tag that was active when the batch was made (else the most recent
 * one, else the head office); an upload and a selection take their maker's office, else the head
 * office. The database is migrated without 0013, given such rows, then migrated to the end.
 */

describe(`migration 0013 (office scope) backfills existing rows on ${engineName}`, () => {
  let database: Database;
  const office: Record<string, bigint> = {};
  const batches: Record<string, bigint> = {};
  const jobs: Record<string, bigint> = {};
  const selections: Record<string, bigint> = {};
  let phedHq: bigint;

  beforeAll(async () => {
    const url = process.env.DATABASE_URL;
    database = url ? await scratchDatabase(url, { prefix: 'sangrahan_m' }) : await openDatabase({});
    // Every migration but 0013 (later ones are independent of it: 0014 is needed by the demo seed).
    await migrate(database, readMigrations().filter((m) => m.version !== '0013'));
    await seedDemo(database, { seed: 3, connections: 400, asOf: new Date('2026-11-26T12:00:00Z') });
    await tagDemoConnections(database);
    const { db } = database;
    const edu = (await db.selectFrom('organisations').select('id').where('department_code', '=', 'BR-EDU').executeTakeFirstOrThrow()).id;
    const phed = (await db.selectFrom('organisations').select('id').where('department_code', '=', 'BR-PHED').executeTakeFirstOrThrow()).id;
    for (const o of await db.selectFrom('offices').select(['id', 'code']).where('org_id', '=', edu).execute()) office[o.code] = o.id;
    phedHq = (await db.selectFrom('offices').select('id').where('org_id', '=', phed).where('kind', '=', 'hq').executeTakeFirstOrThrow()).id;
    const user = async (login: string) => (await db.selectFrom('users').select('id').where('login_id', '=', login).executeTakeFirstOrThrow()).id;
    const [admin, maker, patna, phedAdmin] = [await user('edu.admin'), await user('edu.maker'), await user('edu.patna.admin'), await user('phed.admin')];

    // Connections of each office (the demo spreads an organisation's tags over its offices).
    const taggedIn = async (code: string, n: number) => {
      const { rows } = await sql<{ id: bigint }>`
        SELECT t.connection_id AS id FROM tags t JOIN offices f ON f.id = t.office_id
         WHERE t.org_id = ${edu} AND t.status = 'active' AND f.code = ${code} ORDER BY t.connection_id LIMIT ${n}`.execute(db);
      expect(rows.length, code).toBe(n);
      return rows.map((r) => r.id);
    };
    const [deo1, deo2, deo3] = await taggedIn('PATNA-DEO', 3);
    const [danapur] = await taggedIn('PATNA-DANAPUR', 1);
    const [gaya] = await taggedIn('GAYA', 1);
    const [gayaDeo1, gayaDeo2] = await taggedIn('GAYA-DEO', 2);
    // A tag without an office (counts as the head office).
    await db.updateTable('tags').set({ office_id: null }).where('connection_id', '=', gayaDeo2!).where('status', '=', 'active').execute();
    // A connection tagged at Patna Sadar when its batch was made, moved to Gaya since.
    await sql`UPDATE tags SET activated_at = now() - interval '10 days', status = 'untagged', ended_at = now() - interval '1 hour'
               WHERE connection_id = ${deo3} AND status = 'active'`.execute(db);
    await sql`INSERT INTO tags (org_id, connection_id, office_id, status, method, source, requested_at, activated_at)
              VALUES (${edu}, ${deo3}, ${office.GAYA}, 'active', 'owner_match', 'single', now() - interval '1 hour', now() - interval '1 hour')`.execute(db);
    // A connection the organisation never tagged.
    const untagged = (await sql<{ id: bigint }>`
      SELECT c.id FROM connections c WHERE NOT EXISTS (SELECT 1 FROM tags t WHERE t.connection_id = c.id) ORDER BY c.id LIMIT 1`.execute(db)).rows[0]!.id;
    const phedConn = (await sql<{ id: bigint }>`SELECT connection_id AS id FROM tags WHERE org_id = ${phed} AND status = 'active' ORDER BY id LIMIT 1`.execute(db)).rows[0]!.id;

    // Batches as 0009–0012 wrote them: office_id was the maker's office.
    let n = 0;
    const batch = async (org: bigint, by: bigint, makerOffice: bigint | null, items: bigint[], createdAgo = '0 days') => {
      const ref = `PBM${String(++n).padStart(7, '0')}`;
      const { rows } = await sql<{ id: bigint }>`
        INSERT INTO payment_batches (org_id, reference, status, office_id, created_by, created_by_label, item_count, total_paise, outstanding_paise, requires_approval, created_at)
        VALUES (${org}, ${ref}, 'cancelled', ${makerOffice}, ${by}, 'test', ${Math.max(items.length, 1)}, 1000, 1000, false, now() - ${createdAgo}::interval)
        RETURNING id`.execute(db);
      const id = rows[0]!.id;
      for (const c of items) {
        await sql`INSERT INTO payment_batch_items (batch_id, connection_id, org_id, discom_id, consumer_no, outstanding_paise, amount_paise, open)
                  SELECT ${id}, c.id, ${org}, c.discom_id, c.consumer_no, 1000, 1000, false FROM connections c WHERE c.id = ${c}`.execute(db);
      }
      return id;
    };
    batches.sadarAndDanapur = await batch(edu, patna, office.PATNA!, [deo1!, danapur!]);
    batches.sadarOnly = await batch(edu, admin, null, [deo1!, deo2!]);
    batches.patnaAndGaya = await batch(edu, maker, office['PATNA-DEO']!, [deo1!, gaya!]);
    batches.gayaAndGayaDeo = await batch(edu, admin, null, [gaya!, gayaDeo1!]);
    batches.withoutOffice = await batch(edu, maker, office['PATNA-DEO']!, [gayaDeo1!, gayaDeo2!]);
    batches.movedSince = await batch(edu, maker, office['PATNA-DEO']!, [deo3!, deo2!], '2 days');
    batches.neverTagged = await batch(edu, maker, office['PATNA-DEO']!, [untagged]);
    batches.noItems = await batch(edu, maker, office['PATNA-DEO']!, []);
    batches.phed = await batch(phed, phedAdmin, null, [phedConn]);

    const job = async (org: bigint, by: bigint) =>
      (await db.insertInto('tag_jobs').values({ org_id: org, kind: 'tag', file_name: 'x.csv', file_sha256: 'x', file_size: 1, status: 'cancelled', created_by: by }).returning('id').executeTakeFirstOrThrow()).id;
    jobs.maker = await job(edu, maker);
    jobs.admin = await job(edu, admin);
    const selection = async (org: bigint, by: bigint) =>
      (await db.insertInto('dues_selections').values({ org_id: org, created_by: by, filters: '{}', count: 0, outstanding_paise: 0n, expires_at: new Date(Date.now() + 86_400_000) }).returning('id').executeTakeFirstOrThrow()).id;
    selections.patna = await selection(edu, patna);
    selections.admin = await selection(edu, admin);

    expect(await migrate(database, readMigrations().filter((m) => m.version <= '0013'))).toEqual(['0013_office_scope']);
  }, 300_000);
  afterAll(async () => {
    await database?.close();
  });

  const officeOf = async (table: 'payment_batches' | 'tag_jobs' | 'dues_selections', id: bigint) =>
    (await database.db.selectFrom(table).select('office_id').where('id', '=', id).executeTakeFirstOrThrow()).office_id;

  it('gives each existing batch the nearest common office of its items, from the tags active when it was made', async () => {
    const got: Record<string, bigint | null> = {};
    for (const [k, id] of Object.entries(batches)) got[k] = await officeOf('payment_batches', id);
    expect(got).toEqual({
      sadarAndDanapur: office.PATNA,
      sadarOnly: office['PATNA-DEO'],
      patnaAndGaya: office.HQ,
      gayaAndGayaDeo: office.GAYA,
      withoutOffice: office.HQ, // one of its connections is tagged without an office
      movedSince: office['PATNA-DEO'], // the tag of the day it was made, not today's (Gaya)
      neverTagged: office.HQ,
      noItems: office.HQ,
      phed: phedHq,
    });
  });

  it('gives existing uploads and selections their maker’s office, else the head office', async () => {
    expect([await officeOf('tag_jobs', jobs.maker!), await officeOf('tag_jobs', jobs.admin!)]).toEqual([office['PATNA-DEO'], office.HQ]);
    expect([await officeOf('dues_selections', selections.patna!), await officeOf('dues_selections', selections.admin!)]).toEqual([office.PATNA, office.HQ]);
  });

  it('finds the nearest common office of any set of offices', async () => {
    const edu = (await database.db.selectFrom('offices').select('org_id').where('id', '=', office.HQ!).executeTakeFirstOrThrow()).org_id;
    const nco = async (ids: (bigint | null)[]) =>
      (await sql<{ id: bigint | null }>`SELECT nearest_common_office(${edu}::bigint, ${`{${ids.map((i) => i ?? 'NULL').join(',')}}`}::bigint[]) AS id`.execute(database.db)).rows[0]!.id;
    expect(await nco([office['PATNA-DEO']!])).toBe(office['PATNA-DEO']);
    expect(await nco([office['PATNA-DEO']!, office['PATNA-DANAPUR']!])).toBe(office.PATNA);
    expect(await nco([office['PATNA-DEO']!, office.PATNA!])).toBe(office.PATNA);
    expect(await nco([office.GAYA!, office['GAYA-DEO']!, office['GAYA-DEO']!])).toBe(office.GAYA);
    expect(await nco([office['GAYA-DEO']!, office['PATNA-DEO']!])).toBe(office.HQ);
    expect(await nco([office['PATNA-DEO']!, null])).toBe(office.HQ);
    expect(await nco([null])).toBe(office.HQ);
    expect(await nco([phedHq])).toBe(office.HQ); // another organisation's office counts as unknown: the head office
    expect(await nco([])).toBeNull();
  });
});

import { sql, type Kysely } from 'kysely';
import type { DB } from '../../platform/db/schema.ts';

export interface DiscomCounts {
  id: bigint;
  code: string;
  name: string;
  name_hi: string;
  state: string;
  circles: bigint;
  divisions: bigint;
  subdivisions: bigint;
  connections: bigint;
  active_connections: bigint;
  connections_due: bigint;
  dues_paise: bigint;
  advance_paise: bigint;
}

export async function discomCounts(db: Kysely<DB>): Promise<DiscomCounts[]> {
  const { rows } = await sql<DiscomCounts>`
    WITH c AS (
      SELECT discom_id,
             count(*) AS connections,
             count(*) FILTER (WHERE status = 'active') AS active_connections,
             count(*) FILTER (WHERE balance_paise > 0) AS connections_due,
             coalesce(sum(balance_paise) FILTER (WHERE balance_paise > 0), 0)::bigint AS dues_paise,
             coalesce(-sum(balance_paise) FILTER (WHERE balance_paise < 0), 0)::bigint AS advance_paise
        FROM connections GROUP BY discom_id)
    SELECT d.id, d.code, d.name, d.name_hi, d.state,
           (SELECT count(*) FROM circles x WHERE x.discom_id = d.id) AS circles,
           (SELECT count(*) FROM divisions x WHERE x.discom_id = d.id) AS divisions,
           (SELECT count(*) FROM subdivisions x WHERE x.discom_id = d.id) AS subdivisions,
           coalesce(c.connections, 0) AS connections,
           coalesce(c.active_connections, 0) AS active_connections,
           coalesce(c.connections_due, 0) AS connections_due,
           coalesce(c.dues_paise, 0) AS dues_paise,
           coalesce(c.advance_paise, 0) AS advance_paise
      FROM discoms d LEFT JOIN c ON c.discom_id = d.id
     ORDER BY d.code`.execute(db);
  return rows;
}

export async function organisationCounts(db: Kysely<DB>): Promise<{ type: string; n: bigint }[]> {
  return db
    .selectFrom('organisations')
    .select(['type', sql<bigint>`count(*)`.as('n')])
    .where('status', '=', 'approved')
    .groupBy('type')
    .execute();
}

export async function lastSync(db: Kysely<DB>): Promise<{ source: string; last_finished_at: Date | null } | undefined> {
  return db
    .selectFrom('billing_sync_state')
    .select(['source', 'last_finished_at'])
    .orderBy('last_finished_at', (ob) => ob.desc().nullsLast())
    .executeTakeFirst();
}

export async function findDiscom(db: Kysely<DB>, code: string) {
  return db.selectFrom('discoms').selectAll().where('code', '=', code).executeTakeFirst();
}

export async function hierarchy(db: Kysely<DB>, discomId: bigint) {
  const [circles, divisions, subdivisions] = await Promise.all([
    db.selectFrom('circles').select(['id', 'code', 'name', 'name_hi']).where('discom_id', '=', discomId).orderBy('code').execute(),
    db.selectFrom('divisions').select(['id', 'circle_id', 'code', 'name', 'name_hi']).where('discom_id', '=', discomId).orderBy('code').execute(),
    db.selectFrom('subdivisions').select(['id', 'division_id', 'code', 'name', 'name_hi']).where('discom_id', '=', discomId).orderBy('code').execute(),
  ]);
  return { circles, divisions, subdivisions };
}

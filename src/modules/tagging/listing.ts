import type { Readable } from 'node:stream';
import { sql, type Kysely } from 'kysely';
import type { DB } from '../../platform/db/schema.ts';
import { officeInScope } from '../../platform/office-scope.ts';
import { money, sheetStream, type Cell } from '../../platform/spreadsheet.ts';

/**
 * The organisation's tagged connections, within the caller's office subtree, and exports of
 * them. Exports stream page by page (an organisation may have 100,000 connections), and every
 * text cell that a spreadsheet would run as a formula (= + - @, tab, CR) is neutralised with a
 * leading apostrophe.
 */

export interface ConnectionFilter {
  status: 'active' | 'requested' | 'all';
  officeId: bigint | null;
  q: string | null;
}

export function connectionsQuery(db: Kysely<DB>, orgId: bigint, officePath: string | null, f: ConnectionFilter) {
  let q = db
    .selectFrom('tags as t')
    .innerJoin('connections as c', 'c.id', 't.connection_id')
    .innerJoin('discoms as d', 'd.id', 'c.discom_id')
    .leftJoin('offices as f', 'f.id', 't.office_id')
    .select([
      't.id as tag_id', 't.connection_id', 'd.code as discom', 'c.consumer_no', 'c.name', 'c.address', 'c.category', 't.status', 't.method',
      'f.id as office_id', 'f.code as office_code', 'f.name as office_name', 'c.balance_paise', 't.activated_at', 't.requested_at',
    ])
    .where('t.org_id', '=', orgId)
    .where('t.status', 'in', f.status === 'all' ? ['active', 'requested'] : [f.status]);
  // A tag without an office counts as the head office's (decision 0011).
  if (officePath) q = q.where(officeInScope({ orgId, officePath }, sql.ref('t.office_id')));
  if (f.officeId) {
    // The office and everything under it.
    q = q.where(sql<boolean>`f.path LIKE (SELECT o.path || '%' FROM offices o WHERE o.id = ${f.officeId} AND o.org_id = ${orgId})`);
  }
  if (f.q) {
    const like = `%${f.q.toLowerCase().replace(/[%_\\]/g, '\\$&')}%`;
    q = q.where((eb) => eb.or([eb('c.consumer_no', 'like', `${f.q!.replace(/[%_\\]/g, '\\$&')}%`), eb(eb.fn('lower', ['c.name']), 'like', like)]));
  }
  return q;
}

const HEADER = ['discom', 'consumer_no', 'name', 'address', 'category', 'status', 'office_code', 'office', 'balance_rupees', 'tagged_at'];

async function* pages(db: Kysely<DB>, orgId: bigint, officePath: string | null, f: ConnectionFilter) {
  let after = 0n;
  for (;;) {
    const rows = await connectionsQuery(db, orgId, officePath, f).where('t.id', '>', after).orderBy('t.id').limit(5000).execute();
    if (!rows.length) return;
    yield rows.map((r): Cell[] => [
      r.discom, r.consumer_no, r.name, r.address, r.category, r.status, r.office_code, r.office_name, money(r.balance_paise),
      (r.activated_at ?? r.requested_at).toISOString(),
    ]);
    after = rows[rows.length - 1]!.tag_id;
  }
}

export function exportConnections(db: Kysely<DB>, orgId: bigint, officePath: string | null, f: ConnectionFilter, format: 'csv' | 'xlsx'): Readable {
  return sheetStream({ sheet: 'Connections', header: HEADER, pages: pages(db, orgId, officePath, f) }, format);
}

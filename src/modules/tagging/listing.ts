import { PassThrough, Readable } from 'node:stream';
import ExcelJS from 'exceljs';
import { sql, type Kysely } from 'kysely';
import { csvLine } from '../../platform/csv.ts';
import type { DB } from '../../platform/db/schema.ts';
import { paiseToRupeeString } from '../../platform/money.ts';

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
  if (officePath) q = q.where('f.path', 'like', `${officePath}%`);
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

export function neutralise(v: string | null | undefined): string | null {
  if (v === null || v === undefined) return null;
  return /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
}

const HEADER = ['discom', 'consumer_no', 'name', 'address', 'category', 'status', 'office_code', 'office', 'balance_rupees', 'tagged_at'];

async function* pages(db: Kysely<DB>, orgId: bigint, officePath: string | null, f: ConnectionFilter) {
  let after = 0n;
  for (;;) {
    const rows = await connectionsQuery(db, orgId, officePath, f).where('t.id', '>', after).orderBy('t.id').limit(5000).execute();
    if (!rows.length) return;
    yield rows.map((r) => [
      r.discom, r.consumer_no, neutralise(r.name), neutralise(r.address), r.category, r.status, neutralise(r.office_code), neutralise(r.office_name),
      paiseToRupeeString(r.balance_paise), (r.activated_at ?? r.requested_at).toISOString(),
    ]);
    after = rows[rows.length - 1]!.tag_id;
  }
}

export async function exportConnections(db: Kysely<DB>, orgId: bigint, officePath: string | null, f: ConnectionFilter, format: 'csv' | 'xlsx'): Promise<Readable> {
  if (format === 'csv') {
    return Readable.from(
      (async function* () {
        yield `\uFEFF${csvLine(HEADER)}`;
        for await (const page of pages(db, orgId, officePath, f)) yield page.map((r) => csvLine(r)).join('');
      })(),
    );
  }
  const out = new PassThrough();
  const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: out, useSharedStrings: false, useStyles: false });
  const ws = wb.addWorksheet('Connections');
  ws.addRow(HEADER).commit();
  void (async () => {
    try {
      for await (const page of pages(db, orgId, officePath, f)) for (const r of page) ws.addRow(r).commit();
      ws.commit();
      await wb.commit();
    } catch (e) {
      out.destroy(e as Error);
    }
  })();
  return out;
}

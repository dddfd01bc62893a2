import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { send, type Office } from '../api';
import { Async, OfficeOptions, TableWrap } from '../components';
import { Field, FormError, SelectField, formValues } from '../forms';
import { formatDate, formatDateTime, formatMonth, formatNumber, formatPaise } from '../format';
import { useDiscoms } from '../discoms';
import { hasRole, useSession } from '../session';
import { useApi } from '../useApi';
import type { DuesRow, Figures } from '../../../src/shared/dues.ts';

interface Page {
  day: string;
  rows: DuesRow[];
  next: string | null;
  total: { count: number; outstandingPaise: string } | null;
}

interface SummaryLite {
  byDivision: (Figures & { id: string; name: string; nameHi: string })[];
  byCategory: (Figures & { code: string; name: string; nameHi: string })[];
}

/** A connection chosen in the table for a payment (what the payment page shows before its quote). */
export interface PickedRow {
  connectionId: string;
  /** The discom's code: a payment by challan (RTGS/NEFT) takes one discom's connections. */
  discom?: string;
  consumerNo: string;
  name: string;
  balancePaise: string;
}

const FILTERS = ['officeId', 'discom', 'status', 'dueFrom', 'dueTo', 'minRupees', 'maxRupees', 'category', 'divisionId', 'anomaly', 'q'] as const;
const PAGE = 50;

/**
 * The dues table: filters, sort and paging all on the server (keyset), 50 rows at a time, so an
 * organisation with 1,00,000 connections pages as fast as one with 100. "Select all N matching"
 * stores the selection on the server for a payment.
 */
export function DuesTable() {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const { session } = useSession();
  const canSelect = hasRole(session, 'org_admin', 'maker', 'approver');
  const [params, setParams] = useSearchParams();
  // Page cursors belong to one filter and order: another one (a new filter, Back) starts at page 1.
  const [paging, setPaging] = useState<{ query: string; cursors: string[] }>({ query: '', cursors: [] });
  const [selection, setSelection] = useState<{ id: string; count: number; outstandingPaise: string; expiresAt: string; inOpenBatch: number } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  // Rows chosen for a payment: kept across pages and filters until cleared.
  const [picked, setPicked] = useState<ReadonlyMap<string, PickedRow>>(new Map());
  const navigate = useNavigate();
  const pick = (rows: DuesRow[], on: boolean) =>
    setPicked((m) => {
      const next = new Map(m);
      for (const r of rows) {
        // A row an open payment holds cannot be chosen: it would only be refused.
        if (on && !r.openBatch) next.set(r.connectionId, { connectionId: r.connectionId, discom: r.discom, consumerNo: r.consumerNo, name: r.name, balancePaise: r.balancePaise });
        else next.delete(r.connectionId);
      }
      return next;
    });
  const paySelected = () => void navigate('/payments/new', { state: { rows: [...picked.values()] } });

  const filter = new URLSearchParams();
  for (const k of FILTERS) {
    const v = params.get(k);
    if (v) filter.set(k, v);
  }
  const sort = params.get('sort') ?? 'due';
  const desc = params.get('desc') === 'true';
  const query = `${filter.toString()}&sort=${sort}&desc=${desc}`;
  const cursors = paging.query === query ? paging.cursors : [];
  const setCursors = (f: (c: string[]) => string[]) => setPaging({ query, cursors: f(cursors) });
  const after = cursors[cursors.length - 1];
  // The count of matching rows is asked for with the first page only, and kept while paging.
  const path = `/api/v1/org/dues?limit=${PAGE}&${query}${after ? `&after=${encodeURIComponent(after)}` : '&total=true'}`;
  const [page, reload] = useApi<Page>(path);
  const [totals, setTotals] = useState<{ query: string; total: Page['total'] }>({ query: '', total: null });
  // Only an answer to this very request counts (the previous filter's answer shows until the new one comes).
  if (page.state === 'ready' && page.path === path && page.data.total && (totals.query !== query || totals.total !== page.data.total)) {
    setTotals({ query, total: page.data.total });
  }
  const total = totals.query === query ? totals.total : null;
  const [summary] = useApi<SummaryLite>('/api/v1/org/dues/summary');
  const [offices] = useApi<{ offices: Office[] }>('/api/v1/org/offices');
  const discoms = useDiscoms();

  const apply = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const v = formValues(e.currentTarget);
    const p = new URLSearchParams();
    for (const k of [...FILTERS, 'sort', 'desc']) if (v[k]?.trim()) p.set(k, v[k].trim());
    setSelection(null);
    setParams(p);
  };
  const clear = () => {
    setSelection(null);
    setParams(new URLSearchParams());
  };
  const selectAll = () => {
    setBusy(true);
    setError(null);
    const body: Record<string, string> = {};
    filter.forEach((v, k) => (body[k] = v));
    send<{ id: string; count: number; outstandingPaise: string; expiresAt: string; inOpenBatch: number }>('POST', '/api/v1/org/dues/selections', body)
      .then(setSelection, setError)
      .finally(() => setBusy(false));
  };
  const exportHref = (format: string) => `/api/v1/org/dues/export?${query}&format=${format}&lang=${lang === 'hi' ? 'hi' : 'en'}`;
  const hi = lang === 'hi';

  return (
    <>
      <h1>{t('duesTable.title')}</h1>
      <p className="actions">
        <Link to="/org/dues">{t('duesTable.backToSummary')}</Link>
      </p>
      <form className="grid-form" role="search" aria-label={t('duesTable.filters')} onSubmit={apply} key={params.toString()}>
        <Field label={t('connections.search')} name="q" hint={t('connections.searchHint')} defaultValue={params.get('q') ?? ''} maxLength={60} />
        <SelectField label={t('duesTable.status')} name="status" defaultValue={params.get('status') ?? ''}>
          <option value="">{t('duesTable.any')}</option>
          {['overdue', 'due7', 'due', 'clear', 'credit'].map((s) => (
            <option key={s} value={s}>
              {t(`dueStatus.${s}`)}
            </option>
          ))}
        </SelectField>
        <SelectField label={t('tag.office')} name="officeId" defaultValue={params.get('officeId') ?? ''}>
          <option value="">{t('connections.allOffices')}</option>
          <OfficeOptions offices={offices.state === 'ready' ? offices.data.offices : null} />
        </SelectField>
        <SelectField label={t('duesTable.discom')} name="discom" defaultValue={params.get('discom') ?? ''}>
          <option value="">{t('duesTable.any')}</option>
          {discoms.map((d) => (
            <option key={d.code} value={d.code}>
              {d.code} · {hi ? d.nameHi : d.name}
            </option>
          ))}
        </SelectField>
        <SelectField label={t('duesTable.division')} name="divisionId" defaultValue={params.get('divisionId') ?? ''}>
          <option value="">{t('duesTable.any')}</option>
          {summary.state === 'ready' &&
            [...summary.data.byDivision].sort((a, b) => a.name.localeCompare(b.name)).map((d) => (
              <option key={d.id} value={d.id}>
                {hi ? d.nameHi : d.name}
              </option>
            ))}
        </SelectField>
        <SelectField label={t('tag.category')} name="category" defaultValue={params.get('category') ?? ''}>
          <option value="">{t('duesTable.any')}</option>
          {summary.state === 'ready' &&
            summary.data.byCategory.map((c) => (
              <option key={c.code} value={c.code}>
                {c.code} · {hi ? c.nameHi : c.name}
              </option>
            ))}
        </SelectField>
        <SelectField label={t('duesTable.anomaly')} name="anomaly" defaultValue={params.get('anomaly') ?? ''}>
          <option value="">{t('duesTable.any')}</option>
          {['any', 'deviation', 'zero', 'estimated', 'reading_break'].map((a) => (
            <option key={a} value={a}>
              {t(`flag.${a}`)}
            </option>
          ))}
        </SelectField>
        <Field label={t('duesTable.dueFrom')} name="dueFrom" type="date" defaultValue={params.get('dueFrom') ?? ''} />
        <Field label={t('duesTable.dueTo')} name="dueTo" type="date" defaultValue={params.get('dueTo') ?? ''} />
        <Field label={t('duesTable.minRupees')} name="minRupees" hint={t('duesTable.rupeesHint')} inputMode="decimal" pattern="[0-9]{1,12}(\.[0-9]{1,2})?" defaultValue={params.get('minRupees') ?? ''} />
        <Field label={t('duesTable.maxRupees')} name="maxRupees" hint={t('duesTable.rupeesHint')} inputMode="decimal" pattern="[0-9]{1,12}(\.[0-9]{1,2})?" defaultValue={params.get('maxRupees') ?? ''} />
        <SelectField label={t('duesTable.sort')} name="sort" defaultValue={sort}>
          <option value="due">{t('duesTable.sortDue')}</option>
          <option value="amount">{t('duesTable.sortAmount')}</option>
          <option value="consumer">{t('duesTable.sortConsumer')}</option>
        </SelectField>
        <SelectField label={t('duesTable.order')} name="desc" defaultValue={desc ? 'true' : ''}>
          <option value="">{t('duesTable.natural')}</option>
          <option value="true">{t('duesTable.reversed')}</option>
        </SelectField>
        <div className="actions">
          <button type="submit" className="primary">
            {t('duesTable.apply')}
          </button>
          <button type="button" onClick={clear}>
            {t('duesTable.clear')}
          </button>
        </div>
      </form>
      <FormError error={error} />
      <Async value={page} retry={reload}>
        {(d) => (
          <>
            <div className="table-head">
              <p role="status">
                {total && t('duesTable.matching', { count: total.count, n: formatNumber(total.count, lang), amount: formatPaise(total.outstandingPaise, lang) })}
              </p>
              <p className="actions">
                {canSelect && (total?.count ?? 0) > 0 && (
                  <button type="button" onClick={selectAll} disabled={busy}>
                    {t('duesTable.selectAll', { n: formatNumber(total?.count ?? 0, lang) })}
                  </button>
                )}
                <a href={exportHref('csv')} download>CSV</a>
                <a href={exportHref('xlsx')} download>XLSX</a>
                {(total?.count ?? 0) <= 5000 && (
                  <a href={exportHref('pdf')} download>PDF</a>
                )}
              </p>
            </div>
            {selection && (
              <div className="state state-ok">
                <p role="status">
                  {t('duesTable.selected', { id: selection.id, n: formatNumber(selection.count, lang), amount: formatPaise(selection.outstandingPaise, lang), until: formatDateTime(selection.expiresAt, lang) })}
                  {selection.inOpenBatch > 0 && ` ${t('duesTable.selectedHeld', { count: selection.inOpenBatch, n: formatNumber(selection.inOpenBatch, lang) })}`}
                </p>
                <p className="actions">
                  <Link to={`/payments/new?selection=${selection.id}`} className="button primary">
                    {t('duesTable.payAll', { n: formatNumber(selection.count, lang) })}
                  </Link>
                </p>
              </div>
            )}
            {canSelect && picked.size > 0 && (
              <div className="pick-bar">
                <p role="status">{t('duesTable.chosen', { count: picked.size, n: formatNumber(picked.size, lang) })}</p>
                <button type="button" className="primary" onClick={paySelected}>
                  {t('duesTable.paySelected')}
                </button>
                <button type="button" onClick={() => setPicked(new Map())}>
                  {t('duesTable.clearChoice')}
                </button>
              </div>
            )}
            {canSelect && d.rows.some((r) => r.openBatch) && <p className="muted small">{t('duesTable.heldNote')}</p>}
            {d.rows.length === 0 ? (
              <p className="empty">{filter.size ? t('duesTable.noneMatch') : t('dues.noConnections')}</p>
            ) : (
              <TableWrap label={t('duesTable.title')}>
                <table className="data">
                  <thead>
                    <tr>
                      {canSelect && (
                        <th scope="col" className="pick">
                          <span className="visually-hidden">{t('duesTable.choose')}</span>
                          <input
                            type="checkbox"
                            aria-label={t('duesTable.choosePage')}
                            disabled={d.rows.every((r) => r.openBatch)}
                            checked={d.rows.some((r) => !r.openBatch) && d.rows.every((r) => r.openBatch || picked.has(r.connectionId))}
                            onChange={(e) => pick(d.rows, e.target.checked)}
                          />
                        </th>
                      )}
                      <th scope="col">{t('tag.consumerNo')}</th>
                      <th scope="col">{t('duesTable.discom')}</th>
                      <th scope="col">{t('tag.name')}</th>
                      <th scope="col">{t('tag.office')}</th>
                      <th scope="col">{t('tag.category')}</th>
                      <th scope="col">{t('duesTable.billMonth')}</th>
                      <th scope="col">{t('duesTable.dueDate')}</th>
                      <th scope="col" className="num">{t('dues.outstanding')}</th>
                      <th scope="col">{t('duesTable.status')}</th>
                      <th scope="col">{t('duesTable.flags')}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {d.rows.map((r) => (
                      <tr key={r.connectionId} className={picked.has(r.connectionId) ? 'picked' : undefined}>
                        {canSelect && (
                          <td className="pick">
                            <input
                              type="checkbox"
                              aria-label={t('duesTable.chooseRow', { consumerNo: r.consumerNo })}
                              aria-describedby={r.openBatch ? `held-${r.connectionId}` : undefined}
                              disabled={!!r.openBatch}
                              checked={picked.has(r.connectionId)}
                              onChange={(e) => pick([r], e.target.checked)}
                            />
                          </td>
                        )}
                        <td className="nowrap">
                          <Link to={`/org/dues/connections/${r.connectionId}`}>{r.consumerNo}</Link>
                        </td>
                        <td>{r.discom}</td>
                        <td>{r.name}</td>
                        <td>{r.office ? r.office.code : '—'}</td>
                        <td>{r.category}</td>
                        <td className="nowrap">{r.billMonth ? formatMonth(r.billMonth, lang) : '—'}</td>
                        <td className="nowrap">{r.dueDate ? formatDate(r.dueDate, lang) : '—'}</td>
                        <td className="num nowrap">{formatPaise(r.balancePaise, lang)}</td>
                        <td>
                          <span className={`badge badge-${r.status}`}>{t(`dueStatus.${r.status}`)}</span>
                          {r.openBatch && <HeldMark id={`held-${r.connectionId}`} mark={r.openBatch} />}
                        </td>
                        <td>
                          {r.flags.length === 0
                            ? ''
                            : r.flags.map((f) => (
                                <span key={f} className="badge badge-flag">
                                  {t(`flag.${f}`)}
                                </span>
                              ))}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </TableWrap>
            )}
            <nav className="pager" aria-label={t('duesTable.pages')}>
              <button type="button" disabled={!cursors.length} onClick={() => setCursors((c) => c.slice(0, -1))}>
                {t('connections.previous')}
              </button>
              <span className="muted">{t('duesTable.pageOf', { page: formatNumber(cursors.length + 1, lang), pages: formatNumber(Math.max(1, Math.ceil((total?.count ?? 0) / PAGE)), lang) })}</span>
              <button type="button" disabled={!d.next} onClick={() => d.next && setCursors((c) => [...c, d.next!])}>
                {t('connections.next')}
              </button>
            </nav>
          </>
        )}
      </Async>
    </>
  );
}

/** "In payment PB…" (linked) for a row an open payment holds; only the fact for a payment of an office above the user's. */
export function HeldMark({ id, mark }: { id?: string; mark: NonNullable<DuesRow['openBatch']> }) {
  const { t } = useTranslation();
  return (
    <span id={id} className="block held-mark">
      {mark.id && mark.reference ? (
        <Link to={`/payments/${mark.id}`}>{t('duesTable.inPayment', { reference: mark.reference })}</Link>
      ) : (
        t('duesTable.inPaymentAbove')
      )}
      {mark.status && <span className="block muted small">{t(`paymentStatus.${mark.status}`)}</span>}
    </span>
  );
}

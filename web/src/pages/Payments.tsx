import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useSearchParams } from 'react-router';
import { BATCH_STATUSES, getJson, type Batch } from '../api';
import { Async, TableWrap } from '../components';
import { FormError, SelectField, formValues } from '../forms';
import { formatDateTime, formatNumber, formatPaise } from '../format';
import { hasRole, useSession } from '../session';
import { useApi } from '../useApi';
import { ResultBanner, StatusBadge, actorName, batchStatus } from './PaymentStatus';

interface Page {
  items: Batch[];
  next: string | null;
}

const PAGE = 25;

function BatchTable({ label, items }: { label: string; items: Batch[] }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  return (
    <TableWrap label={label}>
      <table className="data">
        <thead>
          <tr>
            <th scope="col">{t('payments.reference')}</th>
            <th scope="col">{t('payments.created')}</th>
            <th scope="col">{t('payments.createdBy')}</th>
            <th scope="col" className="num">{t('payments.connections')}</th>
            <th scope="col" className="num">{t('payments.total')}</th>
            <th scope="col">{t('payments.status')}</th>
            <th scope="col" className="num">{t('payments.paid')}</th>
          </tr>
        </thead>
        <tbody>
          {items.map((b) => (
            <tr key={b.id}>
              <th scope="row" className="nowrap">
                <Link to={`/payments/${b.id}`}>{b.reference}</Link>
              </th>
              <td className="nowrap">{formatDateTime(b.createdAt, lang)}</td>
              <td>{actorName(b.createdBy)}</td>
              <td className="num">{formatNumber(b.itemCount, lang)}</td>
              <td className="num nowrap">{formatPaise(b.totalPaise, lang)}</td>
              <td>
                <StatusBadge status={batchStatus(b)} />
              </td>
              <td className="num nowrap">{b.status === 'paid' ? formatPaise(b.paidPaise, lang) : '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableWrap>
  );
}

/** Payment history, newest first, by status, with "load more"; approvers see what awaits them first. */
export function Payments() {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const { session } = useSession();
  const canMake = hasRole(session, 'org_admin', 'maker', 'approver');
  const canDecide = hasRole(session, 'approver', 'org_admin');
  const [params, setParams] = useSearchParams();
  const status = params.get('status') ?? '';
  const path = `/api/v1/org/payments/batches?limit=${PAGE}${status ? `&status=${encodeURIComponent(status)}` : ''}`;
  const [first, reload] = useApi<Page>(path);
  const [awaiting, reloadAwaiting] = useApi<Page>(canDecide ? '/api/v1/org/payments/batches?status=awaiting_approval&limit=100' : null);
  // Pages after the first, for this filter only.
  const [more, setMore] = useState<{ path: string; items: Batch[]; next: string | null } | null>(null);
  const [moreError, setMoreError] = useState<unknown>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const extra = more?.path === path ? more : null;

  const apply = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const v = formValues(e.currentTarget);
    const p = new URLSearchParams();
    if (v.status) p.set('status', v.status);
    setParams(p);
  };
  const loadMore = (next: string) => {
    setLoadingMore(true);
    setMoreError(null);
    getJson<Page>(`${path}&before=${next}`).then(
      (pg) => setMore({ path, items: [...(extra?.items ?? []), ...pg.items], next: pg.next }),
      setMoreError,
    ).finally(() => setLoadingMore(false));
  };

  return (
    <>
      <h1>{t('payments.title')}</h1>
      <ResultBanner result={params.get('result')} />
      <p className="lead">{t('payments.intro')}</p>
      {canMake && (
        <p className="actions">
          <Link to="/org/dues/list" className="button primary">
            {t('payments.make')}
          </Link>
          <span className="muted">{t('payments.makeText')}</span>
        </p>
      )}

      {canDecide && (
        <section>
          <h2 id="awaiting-h">{t('payments.awaiting')}</h2>
          <Async value={awaiting} retry={reloadAwaiting}>
            {(d) => (d.items.length === 0 ? <p className="empty">{t('payments.awaitingNone')}</p> : <BatchTable label={t('payments.awaiting')} items={d.items} />)}
          </Async>
        </section>
      )}

      <section>
        <h2 id="history-h">{t('payments.history')}</h2>
        <form className="grid-form filter-form" role="search" aria-label={t('payments.filter')} onSubmit={apply} key={status}>
          <SelectField label={t('payments.status')} name="status" defaultValue={status}>
            <option value="">{t('payments.all')}</option>
            {BATCH_STATUSES.map((s) => (
              <option key={s} value={s}>
                {t(`paymentStatus.${s}`)}
              </option>
            ))}
          </SelectField>
          <div className="actions">
            <button type="submit" className="primary">
              {t('payments.apply')}
            </button>
          </div>
        </form>
        <Async value={first} retry={reload}>
          {(d) => {
            const items = [...d.items, ...(extra?.items ?? [])];
            const next = extra ? extra.next : d.next;
            if (items.length === 0) return <p className="empty">{status ? t('payments.noneWithStatus') : t('payments.none')}</p>;
            return (
              <>
                <BatchTable label={t('payments.history')} items={items} />
                <div className="pager">
                  <p className="muted" role="status">
                    {t('payments.shown', { count: items.length, n: formatNumber(items.length, lang) })}
                  </p>
                  {next && (
                    <button type="button" disabled={loadingMore} onClick={() => loadMore(next)}>
                      {t('payments.loadMore')}
                    </button>
                  )}
                </div>
                <FormError error={moreError} />
              </>
            );
          }}
        </Async>
      </section>
    </>
  );
}

import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { send } from '../api';
import { Async, TableWrap } from '../components';
import { FormError } from '../forms';
import { formatDateTime, formatNumber, formatPaise } from '../format';
import { hasRole, useSession } from '../session';
import { useApi } from '../useApi';

interface Posting {
  id: string;
  postingId: string;
  status: string;
  consumerNo: string;
  organisation: string;
  amountPaise: string;
  kind: string;
  attempts: number;
  lastError: string | null;
  nextAttemptAt: string;
  reference: string;
}

interface PostingsView {
  counts: { pending: number; retrying: number; rejected: number; acknowledged: number };
  items: Posting[];
}

/** The discom's view of payments posted to its billing system: what is retrying or refused, and a retry. */
export function Postings() {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const { session } = useSession();
  const canRetry = hasRole(session, 'collection_officer', 'accounts', 'discom_admin');
  const [view, reload] = useApi<PostingsView>('/api/v1/discom/postings');
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState<string | null>(null);

  const retry = (ids: string[]) => {
    setError(null);
    send<{ retried: number }>('POST', '/api/v1/discom/postings/retry', { ids })
      .then((r) => {
        setNotice(t('postings.retried', { count: r.retried }));
        setSelected(new Set());
        reload();
      })
      .catch(setError);
  };

  return (
    <>
      <h1>{t('postings.title')}</h1>
      <p className="muted">{t('postings.intro')}</p>
      <p role="status" aria-live="polite">
        {notice}
      </p>
      <FormError error={error} />
      <Async value={view} retry={reload}>
        {(v) => (
          <>
            <dl className="policy">
              <dt>{t('postings.waiting')}</dt>
              <dd>{formatNumber(v.counts.pending, lang)}</dd>
              <dt>{t('postings.retrying')}</dt>
              <dd>{formatNumber(v.counts.retrying, lang)}</dd>
              <dt>{t('postings.rejected')}</dt>
              <dd>{formatNumber(v.counts.rejected, lang)}</dd>
              <dt>{t('postings.acknowledged')}</dt>
              <dd>{formatNumber(v.counts.acknowledged, lang)}</dd>
            </dl>
            {v.items.length === 0 ? (
              <p>{t('postings.none')}</p>
            ) : (
              <section aria-labelledby="postings-problems">
                <h2 id="postings-problems">{t('postings.attention')}</h2>
                {canRetry && (
                  <p>
                    <button type="button" disabled={selected.size === 0} onClick={() => retry([...selected])}>
                      {t('postings.retrySelected', { count: selected.size })}
                    </button>{' '}
                    <button type="button" onClick={() => retry(v.items.map((p) => p.id))}>
                      {t('postings.retryAll', { count: v.items.length })}
                    </button>
                  </p>
                )}
                <TableWrap label={t('postings.title')}>
                  <table>
                    <thead>
                      <tr>
                        {canRetry && <th scope="col">{t('postings.choose')}</th>}
                        <th scope="col">{t('postings.postingId')}</th>
                        <th scope="col">{t('postings.consumer')}</th>
                        <th scope="col">{t('postings.organisation')}</th>
                        <th scope="col" className="num">{t('postings.amount')}</th>
                        <th scope="col">{t('postings.status')}</th>
                        <th scope="col">{t('postings.problem')}</th>
                        <th scope="col">{t('postings.next')}</th>
                      </tr>
                    </thead>
                    <tbody>
                      {v.items.map((p) => (
                        <tr key={p.id}>
                          {canRetry && (
                            <td>
                              <input
                                type="checkbox"
                                aria-label={t('postings.chooseOne', { id: p.postingId })}
                                checked={selected.has(p.id)}
                                onChange={(e) => {
                                  const next = new Set(selected);
                                  if (e.target.checked) next.add(p.id);
                                  else next.delete(p.id);
                                  setSelected(next);
                                }}
                              />
                            </td>
                          )}
                          <td>
                            {p.postingId}
                            <br />
                            <span className="muted">{p.reference}</span>
                          </td>
                          <td>{p.consumerNo}</td>
                          <td>{p.organisation}</td>
                          <td className="num">
                            {formatPaise(p.amountPaise, lang)}
                            <br />
                            <span className="muted">{t(`postings.kind.${p.kind}`)}</span>
                          </td>
                          <td>{p.status === 'rejected' ? t('postings.statusRejected') : t('postings.statusRetrying', { attempts: p.attempts })}</td>
                          <td>{p.lastError ?? '—'}</td>
                          <td>{p.status === 'rejected' ? '—' : formatDateTime(p.nextAttemptAt, lang)}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </TableWrap>
              </section>
            )}
          </>
        )}
      </Async>
    </>
  );
}

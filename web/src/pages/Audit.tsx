import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import type { AuditEntry } from '../api';
import { Async, TableWrap } from '../components';
import { Field, SelectField, formValues } from '../forms';
import { formatDateTime } from '../format';
import { useApi } from '../useApi';

/** Search of the audit log for the discom's auditors and admins. */
export function Audit() {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const [query, setQuery] = useState('');
  const [pages, setPages] = useState<string[]>([]);
  const before = pages[pages.length - 1];
  const [result, retry] = useApi<{ entries: AuditEntry[]; next: string | null }>(`/api/v1/discom/audit?limit=50${query}${before ? `&before=${before}` : ''}`);

  const search = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const v = formValues(e.currentTarget);
    const p = new URLSearchParams();
    for (const k of ['actor', 'action', 'outcome', 'orgId']) if (v[k]?.trim()) p.set(k, v[k].trim());
    if (v.from) p.set('from', new Date(`${v.from}T00:00:00+05:30`).toISOString());
    if (v.to) p.set('to', new Date(`${v.to}T23:59:59.999+05:30`).toISOString());
    setPages([]);
    setQuery(p.size ? `&${p.toString()}` : '');
  };

  return (
    <>
      <h1>{t('audit.title')}</h1>
      <form className="grid-form" onSubmit={search} role="search" aria-label={t('audit.search')}>
        <Field label={t('audit.actor')} name="actor" hint={t('audit.actorHint')} />
        <Field label={t('audit.action')} name="action" hint={t('audit.actionHint')} />
        <SelectField label={t('audit.outcome')} name="outcome" defaultValue="">
          <option value="">{t('audit.any')}</option>
          <option value="success">{t('audit.success')}</option>
          <option value="failure">{t('audit.failure')}</option>
        </SelectField>
        <Field label={t('audit.orgId')} name="orgId" inputMode="numeric" />
        <Field label={t('audit.from')} name="from" type="date" />
        <Field label={t('audit.to')} name="to" type="date" />
        <div>
          <button type="submit" className="primary">
            {t('audit.search')}
          </button>
        </div>
      </form>
      <Async value={result} retry={retry}>
        {(d) =>
          d.entries.length === 0 ? (
            <p className="empty">{t('audit.none')}</p>
          ) : (
            <>
              <TableWrap label={t('audit.title')}>
                <table className="data">
                  <caption className="visually-hidden">{t('audit.title')}</caption>
                  <thead>
                    <tr>
                      <th scope="col">{t('audit.when')}</th>
                      <th scope="col">{t('audit.action')}</th>
                      <th scope="col">{t('audit.actor')}</th>
                      <th scope="col">{t('audit.organisation')}</th>
                      <th scope="col">{t('audit.target')}</th>
                      <th scope="col">{t('audit.from_where')}</th>
                      <th scope="col">{t('audit.details')}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {d.entries.map((e) => (
                      <tr key={e.id} className={e.outcome === 'failure' ? 'row-failure' : undefined}>
                        <td className="nowrap small">{formatDateTime(e.at, lang)}</td>
                        <td>
                          <code>{e.action}</code>
                          {e.outcome === 'failure' && <span className="badge badge-disabled">{t('audit.failure')}</span>}
                        </td>
                        <td>{e.actor}</td>
                        <td>{e.orgName ?? '—'}</td>
                        <td>{e.target ?? '—'}</td>
                        <td>
                          {e.ip ?? '—'}
                          <br />
                          <span className="muted small">{e.requestId}</span>
                        </td>
                        <td>
                          <code className="small">{Object.keys(e.details).length ? JSON.stringify(e.details) : '—'}</code>
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </TableWrap>
              <div className="pager">
                <button type="button" disabled={!pages.length} onClick={() => setPages((p) => p.slice(0, -1))}>
                  {t('audit.newer')}
                </button>
                <button type="button" disabled={!d.next} onClick={() => d.next && setPages((p) => [...p, d.next!])}>
                  {t('audit.older')}
                </button>
              </div>
            </>
          )
        }
      </Async>
    </>
  );
}

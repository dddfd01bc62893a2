import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { send, type Office, type TaggedConnection } from '../api';
import { Async, OfficeOptions, TableWrap } from '../components';
import { Field, FormError, SelectField, formValues } from '../forms';
import { formatDateTime, formatPaise } from '../format';
import { hasRole, useSession } from '../session';
import { useApi } from '../useApi';

/** The organisation's tagged connections (and open requests), with office and status; untag; export. */
export function MyConnections() {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const { session } = useSession();
  const canTag = hasRole(session, 'org_admin', 'maker');
  const [filter, setFilter] = useState('');
  const [pages, setPages] = useState<string[]>([]);
  const after = pages[pages.length - 1];
  const [list, reload] = useApi<{ items: TaggedConnection[]; next: string | null }>(`/api/v1/org/connections?limit=100${filter}${after ? `&after=${after}` : ''}`);
  const [offices] = useApi<{ offices: Office[] }>('/api/v1/org/offices');
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [untagging, setUntagging] = useState<TaggedConnection | null>(null);

  const search = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const v = formValues(e.currentTarget);
    const p = new URLSearchParams();
    for (const k of ['status', 'officeId', 'q']) if (v[k]?.trim()) p.set(k, v[k].trim());
    setPages([]);
    setFilter(p.size ? `&${p.toString()}` : '');
  };

  const untag = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const v = formValues(e.currentTarget);
    if (!untagging) return;
    setError(null);
    send('POST', `/api/v1/org/tags/${untagging.tagId}/untag`, { reason: v.reason ?? '' })
      .then(() => {
        setNotice(t('connections.untagged', { consumerNo: untagging.consumerNo }));
        setUntagging(null);
        reload();
      })
      .catch(setError);
  };

  return (
    <>
      <h1>{t('connections.title')}</h1>
      {canTag && (
        <p className="actions">
          <Link to="/org/tag">{t('nav.tag')}</Link> · <Link to="/org/upload">{t('nav.upload')}</Link>
        </p>
      )}
      <form className="grid-form" role="search" aria-label={t('connections.filter')} onSubmit={search}>
        <SelectField label={t('connections.status')} name="status" defaultValue="all">
          <option value="all">{t('connections.all')}</option>
          <option value="active">{t('tagStatus.active')}</option>
          <option value="requested">{t('tagStatus.requested')}</option>
        </SelectField>
        <SelectField label={t('tag.office')} name="officeId" defaultValue="">
          <option value="">{t('connections.allOffices')}</option>
          <OfficeOptions offices={offices.state === 'ready' ? offices.data.offices : null} />
        </SelectField>
        <Field label={t('connections.search')} name="q" hint={t('connections.searchHint')} />
        <div>
          <button type="submit" className="primary">
            {t('audit.search')}
          </button>
        </div>
      </form>
      <p className="actions">
        <a href={`/api/v1/org/connections/export?format=csv${filter}`} download>
          {t('connections.exportCsv')}
        </a>
        <a href={`/api/v1/org/connections/export?format=xlsx${filter}`} download>
          {t('connections.exportXlsx')}
        </a>
      </p>
      {notice && (
        <p className="state state-ok" role="status">
          {notice}
        </p>
      )}
      <FormError error={error} />
      {untagging && (
        <form className="card narrow" onSubmit={untag}>
          <h2>{t('connections.untagTitle', { consumerNo: untagging.consumerNo })}</h2>
          <Field label={t('upload.reason')} name="reason" required maxLength={500} />
          <div className="actions">
            <button type="submit" className="primary">
              {t('connections.untag')}
            </button>
            <button type="button" onClick={() => setUntagging(null)}>
              {t('connections.keep')}
            </button>
          </div>
        </form>
      )}
      <Async value={list} retry={reload}>
        {(d) =>
          d.items.length === 0 ? (
            <p className="empty">{filter ? t('connections.noneMatch') : t('connections.none')}</p>
          ) : (
            <>
              <TableWrap label={t('connections.title')}>
                <table className="data">
                  <thead>
                    <tr>
                      <th scope="col">{t('tag.consumerNo')}</th>
                      <th scope="col">{t('tag.name')}</th>
                      <th scope="col">{t('tag.category')}</th>
                      <th scope="col">{t('tag.office')}</th>
                      <th scope="col">{t('connections.status')}</th>
                      <th scope="col" className="num">
                        {t('connections.balance')}
                      </th>
                      <th scope="col">{t('connections.since')}</th>
                      {canTag && <th scope="col">{t('users.actions')}</th>}
                    </tr>
                  </thead>
                  <tbody>
                    {d.items.map((c) => (
                      <tr key={c.tagId}>
                        <td className="nowrap">
                          {c.discom} <code>{c.consumerNo}</code>
                        </td>
                        <td>{c.name}</td>
                        <td>{c.category}</td>
                        <td>{c.office?.name ?? '—'}</td>
                        <td>
                          <span className={`badge badge-${c.status === 'active' ? 'active' : 'invited'}`}>{t(`tagStatus.${c.status}`)}</span>
                        </td>
                        <td className="num nowrap">{formatPaise(c.balancePaise, lang)}</td>
                        <td className="nowrap small">{formatDateTime(c.taggedAt, lang)}</td>
                        {canTag && (
                          <td className="actions">
                            <button type="button" onClick={() => setUntagging(c)}>
                              {c.status === 'active' ? t('connections.untag') : t('connections.withdraw')}
                              <span className="visually-hidden"> {c.consumerNo}</span>
                            </button>
                          </td>
                        )}
                      </tr>
                    ))}
                  </tbody>
                </table>
              </TableWrap>
              <div className="pager">
                <button type="button" disabled={!pages.length} onClick={() => setPages((p) => p.slice(0, -1))}>
                  {t('connections.previous')}
                </button>
                <button type="button" disabled={!d.next} onClick={() => d.next && setPages((p) => [...p, d.next!])}>
                  {t('connections.next')}
                </button>
              </div>
            </>
          )
        }
      </Async>
    </>
  );
}

import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { send } from '../api';
import { Async, TableWrap } from '../components';
import { FormError } from '../forms';
import { formatDateTime } from '../format';
import { hasRole, useSession } from '../session';
import { useApi } from '../useApi';

interface Group {
  orgId: string;
  orgName: string;
  orgType: string;
  requests: number;
  transfers: number;
  oldest: string;
}

interface Request {
  tagId: string;
  discom: string;
  consumerNo: string;
  name: string;
  address: string;
  category: string;
  ownerPan: string | null;
  ownerDeptCode: string | null;
  holder: string | null;
  reason: string | null;
  requestedAt: string;
}

/** The discom's queue of tag requests and transfers, by organisation, decided in bulk. */
export function TagRequests() {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const { session } = useSession();
  const canDecide = hasRole(session, 'collection_officer', 'discom_admin');
  const [groups, reloadGroups] = useApi<{ groups: Group[] }>('/api/v1/discom/tag-requests');
  const [open, setOpen] = useState<{ orgId: string; kind: 'tag' | 'transfer' } | null>(null);
  const [list, reloadList] = useApi<{ organisation: { name: string; pan: string | null; departmentCode: string | null }; requests: Request[] }>(
    open ? `/api/v1/discom/tag-requests/${open.orgId}?kind=${open.kind}&limit=1000` : null,
  );
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [reason, setReason] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState<string | null>(null);

  const decide = (decision: 'approve' | 'reject', all: boolean) => {
    if (!open) return;
    setError(null);
    send<{ approved: number; rejected: number }>('POST', `/api/v1/discom/tag-requests/${open.orgId}/decide`, {
      kind: open.kind,
      decision,
      ...(all ? {} : { tagIds: [...selected] }),
      ...(decision === 'reject' ? { reason } : {}),
    })
      .then((r) => {
        setNotice(t('requests.decided', { approved: r.approved, rejected: r.rejected }));
        setSelected(new Set());
        setReason('');
        reloadGroups();
        reloadList();
      })
      .catch(setError);
  };

  return (
    <>
      <h1>{t('requests.title')}</h1>
      {notice && (
        <p className="state state-ok" role="status">
          {notice}
        </p>
      )}
      <FormError error={error} />
      <Async value={groups} retry={reloadGroups}>
        {(d) =>
          d.groups.length === 0 ? (
            <p className="empty">{t('requests.none')}</p>
          ) : (
            <TableWrap label={t('requests.byOrg')}>
              <table className="data">
                <thead>
                  <tr>
                    <th scope="col">{t('audit.organisation')}</th>
                    <th scope="col">{t('requests.requests')}</th>
                    <th scope="col">{t('requests.transfers')}</th>
                    <th scope="col">{t('requests.oldest')}</th>
                  </tr>
                </thead>
                <tbody>
                  {d.groups.map((g) => (
                    <tr key={g.orgId}>
                      <td>
                        {g.orgName}
                        <br />
                        <span className="muted small">{t(`orgType1.${g.orgType}`)}</span>
                      </td>
                      <td>
                        {g.requests > 0 ? (
                          <button type="button" onClick={() => { setOpen({ orgId: g.orgId, kind: 'tag' }); setSelected(new Set()); }}>
                            {t('requests.review', { count: g.requests })}
                            <span className="visually-hidden"> {g.orgName}</span>
                          </button>
                        ) : (
                          '—'
                        )}
                      </td>
                      <td>
                        {g.transfers > 0 ? (
                          <button type="button" onClick={() => { setOpen({ orgId: g.orgId, kind: 'transfer' }); setSelected(new Set()); }}>
                            {t('requests.review', { count: g.transfers })}
                            <span className="visually-hidden"> {g.orgName}</span>
                          </button>
                        ) : (
                          '—'
                        )}
                      </td>
                      <td className="small">{formatDateTime(g.oldest, lang)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableWrap>
          )
        }
      </Async>
      {open && (
        <section aria-labelledby="req-list">
          <Async value={list} retry={reloadList}>
            {(d) => (
              <>
                <h2 id="req-list">
                  {open.kind === 'tag' ? t('requests.listTitle', { name: d.organisation.name }) : t('requests.transferTitle', { name: d.organisation.name })}
                </h2>
                <p className="muted">{t('requests.identifiers', { id: d.organisation.departmentCode ?? d.organisation.pan ?? '—' })}</p>
                {canDecide && d.requests.length > 0 && (
                  <div className="actions">
                    <button type="button" className="primary" onClick={() => decide('approve', true)}>
                      {t('requests.approveAll', { count: d.requests.length })}
                    </button>
                    <button type="button" disabled={!selected.size} onClick={() => decide('approve', false)}>
                      {t('requests.approveSelected', { count: selected.size })}
                    </button>
                    <label htmlFor="reject-reason">{t('approvals.reasonLabel')}</label>
                    <input id="reject-reason" value={reason} onChange={(e) => setReason(e.target.value)} maxLength={500} />
                    <button type="button" disabled={!reason.trim()} onClick={() => decide('reject', selected.size === 0)}>
                      {selected.size ? t('requests.rejectSelected', { count: selected.size }) : t('requests.rejectAll')}
                    </button>
                  </div>
                )}
                <TableWrap label={t('requests.listLabel')}>
                  <table className="data">
                    <thead>
                      <tr>
                        {canDecide && <th scope="col">{t('requests.select')}</th>}
                        <th scope="col">{t('tag.consumerNo')}</th>
                        <th scope="col">{t('tag.name')}</th>
                        <th scope="col">{t('requests.owner')}</th>
                        {open.kind === 'transfer' && <th scope="col">{t('requests.holder')}</th>}
                        <th scope="col">{t('requests.requestedAt')}</th>
                      </tr>
                    </thead>
                    <tbody>
                      {d.requests.map((r) => (
                        <tr key={r.tagId}>
                          {canDecide && (
                            <td>
                              <input
                                type="checkbox"
                                aria-label={t('requests.selectOne', { consumerNo: r.consumerNo })}
                                checked={selected.has(r.tagId)}
                                onChange={(e) =>
                                  setSelected((s) => {
                                    const n = new Set(s);
                                    if (e.target.checked) n.add(r.tagId);
                                    else n.delete(r.tagId);
                                    return n;
                                  })
                                }
                              />
                            </td>
                          )}
                          <td className="nowrap">
                            {r.discom} <code>{r.consumerNo}</code>
                          </td>
                          <td>
                            {r.name}
                            <br />
                            <span className="muted small">
                              {r.address} · {r.category}
                            </span>
                          </td>
                          <td>{r.ownerDeptCode ?? r.ownerPan ?? t('requests.noOwner')}</td>
                          {open.kind === 'transfer' && (
                            <td>
                              {r.holder}
                              {r.reason && <p className="small">“{r.reason}”</p>}
                            </td>
                          )}
                          <td className="small nowrap">{formatDateTime(r.requestedAt, lang)}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </TableWrap>
              </>
            )}
          </Async>
        </section>
      )}
    </>
  );
}

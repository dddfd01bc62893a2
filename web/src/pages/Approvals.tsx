import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { send, type Organisation } from '../api';
import { Async } from '../components';
import { FormError } from '../forms';
import { formatDateTime } from '../format';
import { hasRole, useSession } from '../session';
import { useApi } from '../useApi';

const STATUSES = ['pending', 'approved', 'rejected'] as const;

/** The discom's queue of organisation registrations: approve, or reject with a reason. */
export function Approvals() {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const { session } = useSession();
  const [status, setStatus] = useState<(typeof STATUSES)[number]>('pending');
  const [list, reload] = useApi<{ organisations: Organisation[] }>(`/api/v1/discom/organisations?status=${status}`);
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [rejecting, setRejecting] = useState<string | null>(null);
  const [reason, setReason] = useState('');
  const canDecide = hasRole(session, 'collection_officer', 'discom_admin');

  const decide = async (o: Organisation, decision: 'approve' | 'reject') => {
    setError(null);
    setNotice(null);
    try {
      await send('POST', `/api/v1/discom/organisations/${o.id}/${decision}`, decision === 'reject' ? { reason } : {});
      setNotice(decision === 'approve' ? t('approvals.approved', { name: o.name }) : t('approvals.rejected', { name: o.name }));
      setRejecting(null);
      setReason('');
      reload();
    } catch (err) {
      setError(err);
    }
  };

  return (
    <>
      <h1>{t('approvals.title')}</h1>
      <div className="tabs" role="group" aria-label={t('approvals.filter')}>
        {STATUSES.map((s) => (
          <button key={s} type="button" aria-pressed={status === s} onClick={() => setStatus(s)}>
            {t(`orgStatus.${s}`)}
          </button>
        ))}
      </div>
      {notice && (
        <p className="state state-ok" role="status">
          {notice}
        </p>
      )}
      <FormError error={error} />
      <Async value={list} retry={reload}>
        {(d) =>
          d.organisations.length === 0 ? (
            <p className="empty">{t(`approvals.none.${status}`)}</p>
          ) : (
            <ul className="org-queue">
              {d.organisations.map((o) => (
                <li key={o.id} className="card">
                  <h2>{lang === 'hi' && o.nameHi ? o.nameHi : o.name}</h2>
                  <p className="muted">
                    {t(`orgType1.${o.type}`)} · {t('org.registered', { when: formatDateTime(o.createdAt, lang) })}
                  </p>
                  <dl className="policy">
                    <dt>{o.departmentCode ? t('register.departmentCode') : t('register.pan')}</dt>
                    <dd>{o.departmentCode ?? o.pan}</dd>
                    {o.gstin && (
                      <>
                        <dt>{t('register.gstin')}</dt>
                        <dd>{o.gstin}</dd>
                      </>
                    )}
                    <dt>{t('approvals.homeDiscom')}</dt>
                    <dd>{o.discomCode ?? '—'}</dd>
                    <dt>{t('register.address')}</dt>
                    <dd>{o.address}</dd>
                    <dt>{t('register.email')}</dt>
                    <dd>
                      {o.email} · {o.mobile}
                    </dd>
                    {o.decisionReason && (
                      <>
                        <dt>{t('approvals.reason')}</dt>
                        <dd>{o.decisionReason}</dd>
                      </>
                    )}
                  </dl>
                  {canDecide && o.status === 'pending' && (
                    <div className="actions">
                      <button type="button" className="primary" onClick={() => void decide(o, 'approve')}>
                        {t('approvals.approve')}
                        <span className="visually-hidden"> {o.name}</span>
                      </button>
                      {rejecting === o.id ? (
                        <form
                          onSubmit={(e) => {
                            e.preventDefault();
                            void decide(o, 'reject');
                          }}
                        >
                          <label htmlFor={`reason-${o.id}`}>{t('approvals.reasonLabel')}</label>
                          <input id={`reason-${o.id}`} value={reason} onChange={(e) => setReason(e.target.value)} required maxLength={500} />
                          <button type="submit">{t('approvals.confirmReject')}</button>
                        </form>
                      ) : (
                        <button type="button" onClick={() => setRejecting(o.id)}>
                          {t('approvals.reject')}
                          <span className="visually-hidden"> {o.name}</span>
                        </button>
                      )}
                    </div>
                  )}
                </li>
              ))}
            </ul>
          )
        }
      </Async>
    </>
  );
}

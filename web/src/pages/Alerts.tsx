import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { send } from '../api';
import { Async, TableWrap } from '../components';
import { Field, FormError, formValues } from '../forms';
import { formatDate, formatNumber } from '../format';
import { hasRole, useSession } from '../session';
import { useApi } from '../useApi';

interface Prefs {
  dueReminders: boolean;
  reminderDays: number;
  disconnectionAlerts: boolean;
  riskThresholdRupees: string | null;
  byEmail: boolean;
  bySms: boolean;
}
interface AlertPage {
  defaultRiskThresholdRupees: string;
  offices: { officeId: string; code: string; name: string; path: string; custom: boolean; prefs: Prefs }[];
  recent: { day: string; officeId: string; reason: string; alerts: number; messages: number }[];
}

/** Each office's due-date reminders and disconnection-risk alerts; the admin edits them. */
export function Alerts() {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const { session } = useSession();
  const admin = hasRole(session, 'org_admin');
  const [data, reload] = useApi<AlertPage>('/api/v1/org/alert-preferences');
  const [editing, setEditing] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState<string | null>(null);

  const save = (officeId: string, name: string) => (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const v = formValues(e.currentTarget);
    const form = e.currentTarget;
    const checked = (n: string) => (form.elements.namedItem(n) as HTMLInputElement).checked;
    setError(null);
    send('PUT', `/api/v1/org/alert-preferences/${officeId}`, {
      dueReminders: checked('dueReminders'),
      reminderDays: Number(v.reminderDays),
      disconnectionAlerts: checked('disconnectionAlerts'),
      riskThresholdRupees: v.riskThresholdRupees?.trim() ? v.riskThresholdRupees.trim() : null,
      byEmail: checked('byEmail'),
      bySms: checked('bySms'),
    })
      .then(() => {
        setNotice(t('alerts.saved', { office: name }));
        setEditing(null);
        reload();
      })
      .catch(setError);
  };

  return (
    <>
      <h1>{t('alerts.title')}</h1>
      <p className="lead">{t('alerts.lead')}</p>
      {notice && (
        <p className="state state-ok" role="status">
          {notice}
        </p>
      )}
      <FormError error={error} />
      <Async value={data} retry={reload}>
        {(d) => (
          <>
            <TableWrap label={t('alerts.title')}>
              <table className="data">
                <thead>
                  <tr>
                    <th scope="col">{t('tag.office')}</th>
                    <th scope="col">{t('alerts.dueReminders')}</th>
                    <th scope="col">{t('alerts.disconnection')}</th>
                    <th scope="col">{t('alerts.channels')}</th>
                    {admin && <th scope="col">{t('alerts.change')}</th>}
                  </tr>
                </thead>
                <tbody>
                  {d.offices.map((o) => (
                    <tr key={o.officeId}>
                      <th scope="row">
                        {o.name} ({o.code}){!o.custom && <span className="muted small"> · {t('alerts.defaults')}</span>}
                      </th>
                      <td>{o.prefs.dueReminders ? t('alerts.daysBefore', { count: o.prefs.reminderDays }) : t('alerts.off')}</td>
                      <td>
                        {o.prefs.disconnectionAlerts
                          ? t('alerts.above', { amount: `₹${formatNumber(Number(o.prefs.riskThresholdRupees ?? d.defaultRiskThresholdRupees), lang)}` })
                          : t('alerts.off')}
                      </td>
                      <td>{[o.prefs.byEmail && t('alerts.email'), o.prefs.bySms && t('alerts.sms')].filter(Boolean).join(', ') || t('alerts.off')}</td>
                      {admin && (
                        <td className="actions">
                          <button type="button" onClick={() => setEditing(editing === o.officeId ? null : o.officeId)} aria-expanded={editing === o.officeId}>
                            {t('alerts.edit', { office: o.code })}
                          </button>
                        </td>
                      )}
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableWrap>
            {d.offices
              .filter((o) => o.officeId === editing)
              .map((o) => (
                <form key={o.officeId} className="card medium" onSubmit={save(o.officeId, o.name)} aria-labelledby="edit-h">
                  <h2 id="edit-h">{t('alerts.editTitle', { office: `${o.name} (${o.code})` })}</h2>
                  <label className="check">
                    <input type="checkbox" name="dueReminders" defaultChecked={o.prefs.dueReminders} /> {t('alerts.dueReminders')}
                  </label>
                  <Field label={t('alerts.reminderDays')} name="reminderDays" type="number" min={1} max={15} required defaultValue={String(o.prefs.reminderDays)} />
                  <label className="check">
                    <input type="checkbox" name="disconnectionAlerts" defaultChecked={o.prefs.disconnectionAlerts} /> {t('alerts.disconnection')}
                  </label>
                  <Field
                    label={t('alerts.threshold')}
                    name="riskThresholdRupees"
                    inputMode="numeric"
                    pattern="[1-9][0-9]{0,11}"
                    hint={t('alerts.thresholdHint', { amount: `₹${formatNumber(Number(d.defaultRiskThresholdRupees), lang)}` })}
                    defaultValue={o.prefs.riskThresholdRupees ?? ''}
                  />
                  <fieldset>
                    <legend>{t('alerts.channels')}</legend>
                    <label className="check">
                      <input type="checkbox" name="byEmail" defaultChecked={o.prefs.byEmail} /> {t('alerts.email')}
                    </label>
                    <label className="check">
                      <input type="checkbox" name="bySms" defaultChecked={o.prefs.bySms} /> {t('alerts.sms')}
                    </label>
                  </fieldset>
                  <div className="actions">
                    <button type="submit" className="primary">
                      {t('alerts.save')}
                    </button>
                    <button type="button" onClick={() => setEditing(null)}>
                      {t('alerts.cancel')}
                    </button>
                  </div>
                </form>
              ))}
            <h2>{t('alerts.recent')}</h2>
            {d.recent.length === 0 ? (
              <p className="empty">{t('alerts.noneSent')}</p>
            ) : (
              <TableWrap label={t('alerts.recent')}>
                <table className="data">
                  <thead>
                    <tr>
                      <th scope="col">{t('alerts.day')}</th>
                      <th scope="col">{t('tag.office')}</th>
                      <th scope="col">{t('alerts.reason')}</th>
                      <th scope="col" className="num">{t('alerts.bills')}</th>
                      <th scope="col" className="num">{t('alerts.messages')}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {d.recent.map((r) => (
                      <tr key={`${r.day}-${r.officeId}-${r.reason}`}>
                        <td>{formatDate(r.day, lang)}</td>
                        <td>{d.offices.find((o) => o.officeId === r.officeId)?.code ?? r.officeId}</td>
                        <td>{t(`alertReason.${r.reason}`)}</td>
                        <td className="num">{formatNumber(r.alerts, lang)}</td>
                        <td className="num">{formatNumber(r.messages, lang)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </TableWrap>
            )}
          </>
        )}
      </Async>
    </>
  );
}

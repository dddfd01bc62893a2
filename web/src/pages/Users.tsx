import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { send, type Office, type Role, type User } from '../api';
import { Async, OfficeOptions, TableWrap } from '../components';
import { useDiscoms } from '../discoms';
import { Field, FormError, SelectField, fieldErrors, formValues } from '../forms';
import { formatDateTime } from '../format';
import { isHolding, useSession } from '../session';
import { useApi } from '../useApi';

const ORG_ROLES: Role[] = ['org_admin', 'maker', 'approver', 'viewer'];
const DISCOM_ROLES: Role[] = ['collection_officer', 'accounts', 'discom_admin', 'auditor'];

/**
 * Users of the organisation (or the discom's staff): invite, change role and office, disable,
 * reset. A discom's admin sees and invites the staff of that discom; the holding company's admin
 * sees all staff and chooses each new person's discom (or the holding company).
 */
export function Users({ scope }: { scope: 'org' | 'discom' }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const { session } = useSession();
  const base = scope === 'org' ? '/api/v1/org/users' : '/api/v1/discom/users';
  const [users, reload] = useApi<{ users: User[] }>(base);
  const [offices] = useApi<{ offices: Office[] }>(scope === 'org' ? '/api/v1/org/offices' : null);
  const officeList = offices.state === 'ready' ? offices.data.offices : [];
  const roles = scope === 'org' ? ORG_ROLES : DISCOM_ROLES;
  const canManage = session?.user?.role === (scope === 'org' ? 'org_admin' : 'discom_admin');
  const holding = scope === 'discom' && isHolding(session);
  const discoms = useDiscoms();
  const discomOf = (u: User) => (u.holding ? t('scope.holdingShort') : (u.discom ?? '—'));
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const errors = fieldErrors(error, lang);

  const act = async (fn: () => Promise<unknown>, msg: string) => {
    setError(null);
    setNotice(null);
    try {
      await fn();
      setNotice(msg);
      reload();
    } catch (err) {
      setError(err);
    }
  };

  const invite = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = e.currentTarget;
    const v = formValues(form);
    await act(async () => {
      await send('POST', base, {
        loginId: v.loginId ?? '',
        name: v.name ?? '',
        role: v.role as Role,
        ...(v.mobile?.trim() ? { mobile: v.mobile.trim() } : {}),
        ...(v.email?.trim() ? { email: v.email.trim() } : {}),
        ...(v.officeId ? { officeId: v.officeId } : {}),
        ...(holding && v.discom === 'holding' ? { holding: true } : {}),
        ...(holding && v.discom && v.discom !== 'holding' ? { discomCode: v.discom } : {}),
      });
      form.reset();
    }, t('users.invited'));
  };

  return (
    <>
      <h1>{scope === 'org' ? t('users.title') : t('users.staffTitle')}</h1>
      {notice && (
        <p className="state state-ok" role="status">
          {notice}
        </p>
      )}
      <FormError error={error} />
      <Async value={users} retry={reload}>
        {(d) =>
          d.users.length === 0 ? (
            <p className="empty">{t('users.none')}</p>
          ) : (
            <TableWrap label={t('users.title')}>
              <table className="data">
                <caption className="visually-hidden">{t('users.title')}</caption>
                <thead>
                  <tr>
                    <th scope="col">{t('users.user')}</th>
                    <th scope="col">{t('account.role')}</th>
                    {scope === 'org' && <th scope="col">{t('account.office')}</th>}
                    {scope === 'discom' && <th scope="col">{t('users.discom')}</th>}
                    <th scope="col">{t('users.status')}</th>
                    <th scope="col">{t('users.lastLogin')}</th>
                    {canManage && <th scope="col">{t('users.actions')}</th>}
                  </tr>
                </thead>
                <tbody>
                  {d.users.map((u) => {
                    const self = u.id === session?.user?.id;
                    return (
                      <tr key={u.id}>
                        <td>
                          <strong>{u.loginId}</strong>
                          <br />
                          <span className="muted small">{u.name}</span>
                        </td>
                        <td>
                          {canManage && !self ? (
                            <select
                              aria-label={t('users.roleOf', { login: u.loginId })}
                              value={u.role}
                              onChange={(e) => void act(() => send('PATCH', `${base}/${u.id}`, { role: e.target.value }), t('users.roleChanged'))}
                            >
                              {roles.map((r) => (
                                <option key={r} value={r}>
                                  {t(`role.${r}`)}
                                </option>
                              ))}
                            </select>
                          ) : (
                            t(`role.${u.role}`)
                          )}
                        </td>
                        {scope === 'org' && (
                          <td>
                            {canManage && !self ? (
                              <select
                                aria-label={t('users.officeOf', { login: u.loginId })}
                                value={u.office?.id ?? ''}
                                onChange={(e) => void act(() => send('PATCH', `${base}/${u.id}`, { officeId: e.target.value || null }), t('users.officeChanged'))}
                              >
                                <option value="">{t('users.wholeOrg')}</option>
                                <OfficeOptions offices={officeList} />
                              </select>
                            ) : (
                              (u.office?.name ?? t('users.wholeOrg'))
                            )}
                          </td>
                        )}
                        {scope === 'discom' && <td className="nowrap">{discomOf(u)}</td>}
                        <td>
                          <span className={`badge badge-${u.status}`}>{t(`userStatus.${u.status}`)}</span>
                          {u.totpEnabled && <span className="badge">{t('users.totp')}</span>}
                        </td>
                        <td className="nowrap small">{u.lastLoginAt ? formatDateTime(u.lastLoginAt, lang) : '—'}</td>
                        {canManage && (
                          <td className="actions">
                            {!self && u.status !== 'disabled' && (
                              <button type="button" onClick={() => void act(() => send('POST', `${base}/${u.id}/disable`), t('users.disabled'))}>
                                {t('users.disable')}
                                <span className="visually-hidden"> {u.loginId}</span>
                              </button>
                            )}
                            {u.status === 'disabled' && (
                              <button type="button" onClick={() => void act(() => send('POST', `${base}/${u.id}/enable`), t('users.enabled'))}>
                                {t('users.enable')}
                                <span className="visually-hidden"> {u.loginId}</span>
                              </button>
                            )}
                            {u.status !== 'disabled' && (
                              <button type="button" onClick={() => void act(() => send('POST', `${base}/${u.id}/reset`), t('users.resetSent'))}>
                                {u.status === 'invited' ? t('users.resendInvite') : t('users.reset')}
                                <span className="visually-hidden"> {u.loginId}</span>
                              </button>
                            )}
                          </td>
                        )}
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </TableWrap>
          )
        }
      </Async>
      {canManage && (
        <section aria-labelledby="invite-heading">
          <h2 id="invite-heading">{t('users.invite')}</h2>
          <p>{t('users.inviteText')}</p>
          {scope === 'discom' && !holding && session?.user?.discom && <p className="muted">{t('users.joinsDiscom', { discom: session.user.discom.code })}</p>}
          <form className="grid-form" onSubmit={(e) => void invite(e)} noValidate>
            <Field label={t('login.loginId')} name="loginId" errors={errors} hint={t('register.loginIdHint')} required />
            <Field label={t('account.name')} name="name" errors={errors} required />
            <Field label={t('register.adminMobile')} name="mobile" errors={errors} inputMode="numeric" maxLength={10} />
            <Field label={t('register.adminEmail')} name="email" type="email" errors={errors} />
            <SelectField label={t('account.role')} name="role" errors={errors} defaultValue={roles[1]}>
              {roles.map((r) => (
                <option key={r} value={r}>
                  {t(`role.${r}`)}
                </option>
              ))}
            </SelectField>
            {holding && (
              <SelectField label={t('users.discom')} name="discom" errors={{ discom: [...(errors.discomCode ?? []), ...(errors.holding ?? [])] }} hint={t('users.discomHint')} defaultValue="" required>
                <option value="" disabled>
                  {t('register.discomChoose')}
                </option>
                {discoms.map((d) => (
                  <option key={d.code} value={d.code}>
                    {d.code}
                  </option>
                ))}
                <option value="holding">{t('scope.holding')}</option>
              </SelectField>
            )}
            {scope === 'org' && (
              <SelectField label={t('account.office')} name="officeId" errors={errors} defaultValue="">
                <option value="">{t('users.wholeOrg')}</option>
                <OfficeOptions offices={officeList} />
              </SelectField>
            )}
            <div>
              <button type="submit" className="primary">
                {t('users.sendInvite')}
              </button>
            </div>
          </form>
        </section>
      )}
    </>
  );
}

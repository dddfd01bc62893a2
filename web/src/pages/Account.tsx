import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router';
import { send, setCsrfToken } from '../api';
import { Field, FormError, fieldErrors, formValues } from '../forms';
import { useSession } from '../session';
import { Enrol } from './Login';

/** The user's own account: password, second factor, sessions. */
export function Account() {
  const { t, i18n } = useTranslation();
  const { session, refresh } = useSession();
  const navigate = useNavigate();
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [enrolment, setEnrolment] = useState<{ secret: string; uri: string; qrSvg: string } | null>(null);
  const errors = fieldErrors(error, i18n.language);
  const user = session?.user;
  if (!user) return null;

  const run = (fn: (v: Record<string, string>, form: HTMLFormElement) => Promise<string | void>) => (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    setError(null);
    setNotice(null);
    const form = e.currentTarget;
    fn(formValues(form), form).then((msg) => {
      form.reset();
      if (msg) setNotice(msg);
    }, setError);
  };

  return (
    <>
      <h1>{t('account.title')}</h1>
      <dl className="policy">
        <dt>{t('account.name')}</dt>
        <dd>{user.name}</dd>
        <dt>{t('login.loginId')}</dt>
        <dd>{user.loginId}</dd>
        <dt>{t('account.role')}</dt>
        <dd>{t(`role.${user.role}`)}</dd>
        {user.org && (
          <>
            <dt>{t('account.organisation')}</dt>
            <dd>{user.org.name}</dd>
          </>
        )}
        {user.org === null && (
          <>
            <dt>{t('users.discom')}</dt>
            <dd>{user.holding ? t('scope.holding') : user.discom ? `${user.discom.code} · ${i18n.language === 'hi' ? user.discom.nameHi : user.discom.name}` : '—'}</dd>
          </>
        )}
        {user.office && (
          <>
            <dt>{t('account.office')}</dt>
            <dd>
              {user.office.name} ({user.office.code})
            </dd>
          </>
        )}
      </dl>
      {notice && (
        <p className="state state-ok" role="status">
          {notice}
        </p>
      )}
      <FormError error={error} />

      <section aria-labelledby="pw-heading">
        <h2 id="pw-heading">{t('account.changePassword')}</h2>
        <form
          className="narrow"
          onSubmit={run(async (v) => {
            const r = await send<{ csrfToken: string }>('POST', '/api/v1/auth/password', { currentPassword: v.currentPassword ?? '', newPassword: v.newPassword ?? '' });
            setCsrfToken(r.csrfToken);
            return t('account.passwordChanged');
          })}
          noValidate
        >
          <Field label={t('account.currentPassword')} name="currentPassword" type="password" errors={errors} autoComplete="current-password" required />
          <Field label={t('forgot.newPassword')} name="newPassword" type="password" errors={errors} hint={t('register.passwordHint')} autoComplete="new-password" required />
          <button type="submit" className="primary">
            {t('account.changePassword')}
          </button>
        </form>
      </section>

      <section aria-labelledby="totp-heading">
        <h2 id="totp-heading">{t('account.totp')}</h2>
        <p>{user.totpEnabled ? t('account.totpOn') : t('account.totpOff')}</p>
        {user.totpRequired && <p className="muted">{t('account.totpRequired')}</p>}
        {!user.totpEnabled && !enrolment && (
          <button type="button" onClick={() => void send<typeof enrolment>('POST', '/api/v1/auth/totp/enrolment').then(setEnrolment, setError)}>
            {t('account.totpEnable')}
          </button>
        )}
        {enrolment && (
          <form
            className="narrow"
            onSubmit={run(async (v) => {
              const r = await send<{ csrfToken: string }>('POST', '/api/v1/auth/totp/enrolment/confirm', { code: (v.code ?? '').trim() });
              setCsrfToken(r.csrfToken);
              setEnrolment(null);
              await refresh();
              return t('account.totpEnabled');
            })}
            noValidate
          >
            <p>{t('login.enrolPrompt')}</p>
            <Enrol enrolment={enrolment} />
            <Field label={t('login.code')} name="code" errors={errors} inputMode="numeric" maxLength={6} required />
            <button type="submit" className="primary">
              {t('login.verify')}
            </button>
          </form>
        )}
        {user.totpEnabled && !user.totpRequired && (
          <form
            className="narrow"
            onSubmit={run(async (v) => {
              await send('POST', '/api/v1/auth/totp/disable', { password: v.password ?? '' });
              await refresh();
              return t('account.totpDisabled');
            })}
            noValidate
          >
            <Field label={t('account.currentPassword')} name="password" type="password" errors={errors} autoComplete="current-password" required />
            <button type="submit">{t('account.totpDisable')}</button>
          </form>
        )}
      </section>

      <section aria-labelledby="sessions-heading">
        <h2 id="sessions-heading">{t('account.sessions')}</h2>
        <p>{t('account.sessionsText')}</p>
        <button
          type="button"
          onClick={() =>
            void send('POST', '/api/v1/auth/logout-everywhere').then(async () => {
              await refresh();
              await navigate('/login');
            }, setError)
          }
        >
          {t('account.logoutEverywhere')}
        </button>
      </section>
    </>
  );
}

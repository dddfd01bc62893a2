import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate } from 'react-router';
import { send, setCsrfToken, type Stage } from '../api';
import { Field, FormError, fieldErrors, formValues } from '../forms';
import { useSession } from '../session';

interface Enrolment {
  secret: string;
  uri: string;
  qrSvg: string;
}

/** Login: password, then the authenticator code, or setting an authenticator up where the role needs one. */
export function Login() {
  const { t, i18n } = useTranslation();
  const { refresh } = useSession();
  const navigate = useNavigate();
  const [stage, setStage] = useState<Stage | 'password'>('password');
  const [enrolment, setEnrolment] = useState<Enrolment | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const errors = fieldErrors(error, i18n.language);

  const finish = async () => {
    const s = await refresh();
    void navigate(s.user?.org ? '/org' : '/discom/organisations');
  };

  const after = async (next: Stage, csrf: string) => {
    setCsrfToken(csrf);
    if (next === 'full') return finish();
    if (next === 'totp_enrol') setEnrolment(await send<Enrolment>('POST', '/api/v1/auth/totp/enrolment'));
    setStage(next);
  };

  const submit = (fn: (v: Record<string, string>) => Promise<void>) => (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const values = formValues(e.currentTarget);
    setBusy(true);
    setError(null);
    fn(values)
      .catch(setError)
      .finally(() => setBusy(false));
  };

  return (
    <section className="narrow" aria-labelledby="login-heading">
      <h1 id="login-heading">{t('login.title')}</h1>
      <FormError error={error} />
      {stage === 'password' && (
        <form
          onSubmit={submit(async (v) => {
            const r = await send<{ stage: Stage; csrfToken: string }>('POST', '/api/v1/auth/login', { loginId: v.loginId, password: v.password });
            await after(r.stage, r.csrfToken);
          })}
          noValidate
        >
          <Field label={t('login.loginId')} name="loginId" errors={errors} autoComplete="username" required autoFocus />
          <Field label={t('login.password')} name="password" type="password" errors={errors} autoComplete="current-password" required />
          <button type="submit" className="primary" disabled={busy}>
            {t('login.submit')}
          </button>
          <p>
            <Link to="/forgot-password">{t('login.forgot')}</Link> · <Link to="/register">{t('login.register')}</Link>
          </p>
        </form>
      )}
      {stage === 'totp' && (
        <form
          onSubmit={submit(async (v) => {
            const r = await send<{ stage: Stage; csrfToken: string }>('POST', '/api/v1/auth/totp', { code: v.code?.trim() });
            await after(r.stage, r.csrfToken);
          })}
          noValidate
        >
          <p>{t('login.totpPrompt')}</p>
          <Field label={t('login.code')} name="code" errors={errors} inputMode="numeric" autoComplete="one-time-code" pattern="[0-9]{6}" maxLength={6} required autoFocus />
          <button type="submit" className="primary" disabled={busy}>
            {t('login.verify')}
          </button>
        </form>
      )}
      {stage === 'totp_enrol' && enrolment && (
        <form
          onSubmit={submit(async (v) => {
            const r = await send<{ stage: Stage; csrfToken: string }>('POST', '/api/v1/auth/totp/enrolment/confirm', { code: v.code?.trim() });
            await after(r.stage, r.csrfToken);
          })}
          noValidate
        >
          <p>{t('login.enrolPrompt')}</p>
          <Enrol enrolment={enrolment} />
          <Field label={t('login.code')} name="code" errors={errors} inputMode="numeric" autoComplete="one-time-code" maxLength={6} required />
          <button type="submit" className="primary" disabled={busy}>
            {t('login.verify')}
          </button>
        </form>
      )}
    </section>
  );
}

export function Enrol({ enrolment }: { enrolment: Enrolment }) {
  const { t } = useTranslation();
  return (
    <div className="enrol">
      <img src={`data:image/svg+xml;utf8,${encodeURIComponent(enrolment.qrSvg)}`} alt={t('login.qrAlt')} width="180" height="180" />
      <p>
        {t('login.secret')} <code className="secret">{enrolment.secret.replace(/(.{4})/g, '$1 ').trim()}</code>
      </p>
    </div>
  );
}

import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { send } from '../api';
import { Field, FormError, fieldErrors, formValues } from '../forms';

/** Forgot password (and invitation acceptance): ask for a code, then set a new password with it. */
export function ForgotPassword() {
  const { t, i18n } = useTranslation();
  const [loginId, setLoginId] = useState('');
  const [step, setStep] = useState<'ask' | 'code' | 'done'>('ask');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const errors = fieldErrors(error, i18n.language);

  const run = (fn: (v: Record<string, string>) => Promise<void>) => (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const values = formValues(e.currentTarget);
    setBusy(true);
    setError(null);
    fn(values)
      .catch(setError)
      .finally(() => setBusy(false));
  };

  return (
    <section className="narrow" aria-labelledby="fp-heading">
      <h1 id="fp-heading">{t('forgot.title')}</h1>
      <FormError error={error} />
      {step === 'ask' && (
        <form
          onSubmit={run(async (v) => {
            await send('POST', '/api/v1/auth/password-reset', { loginId: v.loginId ?? '' });
            setLoginId(v.loginId ?? '');
            setStep('code');
          })}
          noValidate
        >
          <p>{t('forgot.intro')}</p>
          <Field label={t('login.loginId')} name="loginId" errors={errors} autoComplete="username" required />
          <button type="submit" className="primary" disabled={busy}>
            {t('forgot.send')}
          </button>
          <p>
            <button type="button" className="link" onClick={() => setStep('code')}>
              {t('forgot.haveCode')}
            </button>
          </p>
        </form>
      )}
      {step === 'code' && (
        <form
          onSubmit={run(async (v) => {
            await send('POST', '/api/v1/auth/password-reset/confirm', { loginId: v.loginId ?? '', code: (v.code ?? '').trim(), newPassword: v.newPassword ?? '' });
            setStep('done');
          })}
          noValidate
        >
          <p role="status">{t('forgot.sent')}</p>
          <Field label={t('login.loginId')} name="loginId" errors={errors} defaultValue={loginId} autoComplete="username" required />
          <Field label={t('login.code')} name="code" errors={errors} inputMode="numeric" autoComplete="one-time-code" maxLength={6} required />
          <Field label={t('forgot.newPassword')} name="newPassword" type="password" errors={errors} hint={t('register.passwordHint')} autoComplete="new-password" required />
          <button type="submit" className="primary" disabled={busy}>
            {t('forgot.set')}
          </button>
        </form>
      )}
      {step === 'done' && (
        <>
          <p role="status">{t('forgot.done')}</p>
          <p>
            <Link to="/login">{t('register.toLogin')}</Link>
          </p>
        </>
      )}
    </section>
  );
}

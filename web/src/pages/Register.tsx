import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { send } from '../api';
import { useDiscoms } from '../discoms';
import { Field, FormError, SelectField, fieldErrors, formValues } from '../forms';

const TYPES = ['state_department', 'central_psu', 'state_psu', 'private', 'large_consumer'] as const;

/** Registration of an organisation and its first admin; the discom approves it later. */
export function Register() {
  const { t, i18n } = useTranslation();
  const [type, setType] = useState<(typeof TYPES)[number]>('state_department');
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState(false);
  const [busy, setBusy] = useState(false);
  const errors = fieldErrors(error, i18n.language);
  const dept = type === 'state_department';
  const discoms = useDiscoms();

  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const v = formValues(e.currentTarget);
    const opt = (s: string | undefined) => (s?.trim() ? s.trim() : undefined);
    setBusy(true);
    setError(null);
    try {
      await send('POST', '/api/v1/organisations/register', {
        type,
        name: v.name ?? '',
        nameHi: opt(v.nameHi),
        pan: opt(v.pan),
        tan: opt(v.tan),
        gstin: opt(v.gstin),
        departmentCode: opt(v.departmentCode),
        address: v.address ?? '',
        email: v.email ?? '',
        mobile: v.mobile ?? '',
        discomCode: v.discomCode ?? '',
        admin: { loginId: v['admin.loginId'] ?? '', name: v['admin.name'] ?? '', email: opt(v['admin.email']), mobile: opt(v['admin.mobile']), password: v['admin.password'] ?? '' },
      });
      setDone(true);
    } catch (err) {
      setError(err);
      window.scrollTo({ top: 0 });
    } finally {
      setBusy(false);
    }
  };

  if (done) {
    return (
      <section className="narrow" aria-labelledby="reg-done">
        <h1 id="reg-done">{t('register.doneTitle')}</h1>
        <p role="status">{t('register.doneText')}</p>
        <p>
          <Link to="/login">{t('register.toLogin')}</Link>
        </p>
      </section>
    );
  }

  return (
    <section className="medium" aria-labelledby="reg-heading">
      <h1 id="reg-heading">{t('register.title')}</h1>
      <p>{t('register.intro')}</p>
      <FormError error={error} />
      <form onSubmit={(e) => void submit(e)} noValidate>
        <fieldset>
          <legend>{t('register.organisation')}</legend>
          <SelectField label={t('register.type')} name="type" value={type} onChange={(e) => setType(e.target.value as typeof type)} errors={errors}>
            {TYPES.map((ty) => (
              <option key={ty} value={ty}>
                {t(`orgType1.${ty}`)}
              </option>
            ))}
          </SelectField>
          <Field label={t('register.name')} name="name" errors={errors} required maxLength={200} />
          <Field label={t('register.nameHi')} name="nameHi" errors={errors} maxLength={200} lang="hi" />
          {dept ? (
            <Field label={t('register.departmentCode')} name="departmentCode" errors={errors} hint={t('register.departmentCodeHint')} required maxLength={20} />
          ) : (
            <Field label={t('register.pan')} name="pan" errors={errors} hint={t('register.panHint')} required maxLength={10} />
          )}
          <Field label={t('register.tan')} name="tan" errors={errors} maxLength={10} />
          <Field label={t('register.gstin')} name="gstin" errors={errors} hint={t('register.gstinHint')} maxLength={15} />
          <Field label={t('register.address')} name="address" errors={errors} required maxLength={500} />
          <Field label={t('register.email')} name="email" type="email" errors={errors} required autoComplete="email" />
          <Field label={t('register.mobile')} name="mobile" errors={errors} required inputMode="numeric" maxLength={10} autoComplete="tel" />
          <SelectField label={t('register.discom')} name="discomCode" errors={errors} hint={t('register.discomHint')} required defaultValue="">
            <option value="" disabled>
              {t('register.discomChoose')}
            </option>
            {discoms.map((d) => (
              <option key={d.code} value={d.code}>
                {d.code} · {i18n.language === 'hi' ? d.nameHi : d.name}
              </option>
            ))}
          </SelectField>
        </fieldset>
        <fieldset>
          <legend>{t('register.admin')}</legend>
          <Field label={t('register.loginId')} name="admin.loginId" errors={errors} hint={t('register.loginIdHint')} required autoComplete="username" />
          <Field label={t('register.adminName')} name="admin.name" errors={errors} required />
          <Field label={t('register.adminEmail')} name="admin.email" type="email" errors={errors} />
          <Field label={t('register.adminMobile')} name="admin.mobile" errors={errors} inputMode="numeric" maxLength={10} />
          <Field label={t('register.password')} name="admin.password" type="password" errors={errors} hint={t('register.passwordHint')} required autoComplete="new-password" />
        </fieldset>
        <button type="submit" className="primary" disabled={busy}>
          {t('register.submit')}
        </button>
      </form>
    </section>
  );
}

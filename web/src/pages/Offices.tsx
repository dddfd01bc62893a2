import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { send, type Office } from '../api';
import { Async } from '../components';
import { Field, FormError, SelectField, fieldErrors, formValues } from '../forms';
import { useApi } from '../useApi';

/** The organisation's offices as a tree (HQ → district → office), and adding one. */
export function Offices() {
  const { t, i18n } = useTranslation();
  const [offices, reload] = useApi<{ offices: Office[] }>('/api/v1/org/offices');
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const errors = fieldErrors(error, i18n.language);

  const add = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = e.currentTarget;
    const v = formValues(form);
    setError(null);
    setNotice(null);
    try {
      await send('POST', '/api/v1/org/offices', { parentId: v.parentId ?? '', kind: v.kind as 'district' | 'office', code: v.code ?? '', name: v.name ?? '' });
      form.reset();
      setNotice(t('offices.added'));
      reload();
    } catch (err) {
      setError(err);
    }
  };

  return (
    <>
      <h1>{t('offices.title')}</h1>
      {notice && (
        <p className="state state-ok" role="status">
          {notice}
        </p>
      )}
      <FormError error={error} />
      <Async value={offices} retry={reload}>
        {(d) => (
          <>
            <ul className="tree" aria-label={t('offices.title')}>
              {d.offices.map((o) => (
                <li key={o.id} style={{ marginInlineStart: `${o.depth * 1.5}rem` }}>
                  <strong>{o.name}</strong> <span className="muted">({o.code})</span> · {t(`officeKind.${o.kind}`)} · {t('offices.users', { count: o.users })}
                </li>
              ))}
            </ul>
            <section aria-labelledby="add-office">
              <h2 id="add-office">{t('offices.add')}</h2>
              <form className="grid-form" onSubmit={(e) => void add(e)} noValidate>
                <SelectField label={t('offices.parent')} name="parentId" errors={errors}>
                  {d.offices
                    .filter((o) => o.kind !== 'office')
                    .map((o) => (
                      <option key={o.id} value={o.id}>
                        {o.name} ({o.code})
                      </option>
                    ))}
                </SelectField>
                <SelectField label={t('offices.kind')} name="kind" errors={errors} defaultValue="office">
                  <option value="district">{t('officeKind.district')}</option>
                  <option value="office">{t('officeKind.office')}</option>
                </SelectField>
                <Field label={t('offices.code')} name="code" errors={errors} hint={t('offices.codeHint')} required maxLength={20} />
                <Field label={t('account.name')} name="name" errors={errors} required maxLength={120} />
                <div>
                  <button type="submit" className="primary">
                    {t('offices.add')}
                  </button>
                </div>
              </form>
            </section>
          </>
        )}
      </Async>
    </>
  );
}

import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { send, type ApiKey } from '../api';
import { Async, TableWrap } from '../components';
import { Field, FormError, fieldErrors, formValues } from '../forms';
import { formatDateTime } from '../format';
import { useApi } from '../useApi';

/** API keys for the organisation's ERP: create (the key is shown once), list, revoke. */
export function ApiKeys() {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const [keys, reload] = useApi<{ apiKeys: ApiKey[] }>('/api/v1/org/api-keys');
  const [error, setError] = useState<unknown>(null);
  const [created, setCreated] = useState<string | null>(null);
  const errors = fieldErrors(error, lang);

  const create = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = e.currentTarget;
    const v = formValues(form);
    const scopes = (['read', 'pay'] as const).filter((s) => v[`scope-${s}`] === 'on');
    setError(null);
    try {
      const r = await send<{ key: string }>('POST', '/api/v1/org/api-keys', { name: v.name ?? '', scopes });
      setCreated(r.key);
      form.reset();
      reload();
    } catch (err) {
      setError(err);
    }
  };

  return (
    <>
      <h1>{t('keys.title')}</h1>
      <p>{t('keys.intro')}</p>
      <FormError error={error} />
      {created && (
        <div className="state state-ok" role="status">
          <p>{t('keys.shownOnce')}</p>
          <p>
            <code className="secret">{created}</code>
          </p>
        </div>
      )}
      <Async value={keys} retry={reload}>
        {(d) =>
          d.apiKeys.length === 0 ? (
            <p className="empty">{t('keys.none')}</p>
          ) : (
            <TableWrap label={t('keys.title')}>
              <table className="data">
                <caption className="visually-hidden">{t('keys.title')}</caption>
                <thead>
                  <tr>
                    <th scope="col">{t('account.name')}</th>
                    <th scope="col">{t('keys.prefix')}</th>
                    <th scope="col">{t('keys.scopes')}</th>
                    <th scope="col">{t('keys.created')}</th>
                    <th scope="col">{t('keys.lastUsed')}</th>
                    <th scope="col">{t('users.actions')}</th>
                  </tr>
                </thead>
                <tbody>
                  {d.apiKeys.map((k) => (
                    <tr key={k.id}>
                      <td>{k.name}</td>
                      <td>
                        <code>{k.prefix}_…</code>
                      </td>
                      <td>{k.scopes.map((s) => t(`keys.scope.${s}`)).join(', ')}</td>
                      <td>
                        {formatDateTime(k.createdAt, lang)} · {k.createdBy}
                      </td>
                      <td>{k.lastUsedAt ? formatDateTime(k.lastUsedAt, lang) : t('keys.never')}</td>
                      <td>
                        {k.revokedAt ? (
                          <span className="badge badge-disabled">{t('keys.revoked')}</span>
                        ) : (
                          <button type="button" onClick={() => void send('POST', `/api/v1/org/api-keys/${k.id}/revoke`).then(reload, setError)}>
                            {t('keys.revoke')}
                            <span className="visually-hidden"> {k.name}</span>
                          </button>
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableWrap>
          )
        }
      </Async>
      <section aria-labelledby="new-key">
        <h2 id="new-key">{t('keys.create')}</h2>
        <form className="narrow" onSubmit={(e) => void create(e)} noValidate>
          <Field label={t('account.name')} name="name" errors={errors} required maxLength={80} />
          <fieldset className={errors.scopes ? 'has-error' : undefined}>
            <legend>{t('keys.scopes')}</legend>
            <label className="check">
              <input type="checkbox" name="scope-read" defaultChecked /> {t('keys.scope.read')}
            </label>
            <label className="check">
              <input type="checkbox" name="scope-pay" /> {t('keys.scope.pay')}
            </label>
            {errors.scopes && <p className="field-error">{errors.scopes.join('; ')}</p>}
          </fieldset>
          <button type="submit" className="primary">
            {t('keys.create')}
          </button>
        </form>
      </section>
    </>
  );
}

import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { send, type LookupConnection, type Office } from '../api';
import { Field, FormError, SelectField, fieldErrors, formValues } from '../forms';
import { OfficeOptions } from '../components';
import { useApi } from '../useApi';

type ProofType = 'bill_number' | 'bill_amount' | 'otp';

/** Tag one connection: find it, see it masked, prove it (bill number, bill amount or a code to its mobile), pick the office. */
export function TagConnection() {
  const { t, i18n } = useTranslation();
  const [found, setFound] = useState<LookupConnection[] | null>(null);
  const [chosen, setChosen] = useState<LookupConnection | null>(null);
  const [proof, setProof] = useState<ProofType>('bill_number');
  const [otpSentTo, setOtpSentTo] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<string | null>(null);
  const [offices] = useApi<{ offices: Office[] }>('/api/v1/org/offices');
  const errors = fieldErrors(error, i18n.language);

  const run = (fn: (v: Record<string, string>) => Promise<void>) => (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const v = formValues(e.currentTarget);
    setError(null);
    fn(v).catch(setError);
  };

  const officeSelect = (
    <SelectField label={t('tag.office')} name="officeId" errors={errors} defaultValue="">
      <option value="">{t('tag.myOffice')}</option>
      <OfficeOptions offices={offices.state === 'ready' ? offices.data.offices : null} />
    </SelectField>
  );

  return (
    <>
      <h1>{t('tag.title')}</h1>
      <p>{t('tag.intro')}</p>
      {done && (
        <div className="state state-ok" role="status">
          <p>{done}</p>
          <p>
            <Link to="/org/connections">{t('tag.toList')}</Link>
          </p>
        </div>
      )}
      <FormError error={error} />
      <form
        className="grid-form"
        role="search"
        aria-label={t('tag.find')}
        onSubmit={run(async (v) => {
          setDone(null);
          setChosen(null);
          setOtpSentTo(null);
          const r = await send<{ connections: LookupConnection[] }>('POST', '/api/v1/org/tags/lookup', { consumerNo: (v.consumerNo ?? '').trim(), ...(v.discom ? { discom: v.discom } : {}) });
          setFound(r.connections);
          if (r.connections.length === 1) setChosen(r.connections[0]!);
        })}
        noValidate
      >
        <Field label={t('tag.consumerNo')} name="consumerNo" errors={errors} inputMode="numeric" required maxLength={16} />
        <SelectField label={t('tag.discom')} name="discom" defaultValue="">
          <option value="">{t('tag.anyDiscom')}</option>
          <option value="NBPDCL">NBPDCL</option>
          <option value="SBPDCL">SBPDCL</option>
        </SelectField>
        <div>
          <button type="submit" className="primary">
            {t('tag.find')}
          </button>
        </div>
      </form>

      {found && found.length === 0 && <p className="empty">{t('tag.notFound')}</p>}
      {found && found.length > 1 && !chosen && (
        <ul className="choices">
          {found.map((c) => (
            <li key={c.connectionId}>
              <button type="button" onClick={() => setChosen(c)}>
                {c.discom} · {c.consumerNo} · {c.name}
              </button>
            </li>
          ))}
        </ul>
      )}

      {chosen && (
        <section className="card" aria-labelledby="chosen-heading">
          <h2 id="chosen-heading">
            {chosen.discom} · {chosen.consumerNo}
          </h2>
          <dl className="policy">
            <dt>{t('tag.name')}</dt>
            <dd>{chosen.name}</dd>
            <dt>{t('register.address')}</dt>
            <dd>{chosen.address}</dd>
            <dt>{t('tag.category')}</dt>
            <dd>
              {chosen.category} ({chosen.supplyType})
            </dd>
          </dl>
          <p className="muted">{t('tag.masked')}</p>
          {chosen.tag === 'yours' && <p className="state state-ok">{t('tag.alreadyYours')}</p>}
          {chosen.tag === 'another_organisation' && (
            <form
              onSubmit={run(async (v) => {
                await send('POST', '/api/v1/org/tags/transfer', { connectionId: chosen.connectionId, reason: v.reason ?? '', ...(v.officeId ? { officeId: v.officeId } : {}) });
                setDone(t('tag.transferSent'));
                setChosen(null);
              })}
              noValidate
            >
              <p className="state state-warn">{t('tag.taggedElsewhere')}</p>
              <Field label={t('tag.transferReason')} name="reason" errors={errors} required maxLength={500} />
              {officeSelect}
              <button type="submit" className="primary">
                {t('tag.askTransfer')}
              </button>
            </form>
          )}
          {(chosen.tag === null || chosen.tag === 'requested_by_you') && (
            <form
              onSubmit={run(async (v) => {
                const p = proof === 'otp' ? { type: 'otp', code: (v.code ?? '').trim() } : { type: proof, value: (v.value ?? '').trim() };
                await send('POST', '/api/v1/org/tags', { connectionId: chosen.connectionId, proof: p, ...(v.officeId ? { officeId: v.officeId } : {}) });
                setDone(t('tag.tagged', { consumerNo: chosen.consumerNo }));
                setChosen(null);
                setFound(null);
              })}
              noValidate
            >
              {chosen.tag === 'requested_by_you' && <p className="muted">{t('tag.requestedByYou')}</p>}
              <fieldset>
                <legend>{t('tag.proof')}</legend>
                {chosen.proofs.map((p) => (
                  <label key={p} className="check">
                    <input type="radio" name="proofType" value={p} checked={proof === p} onChange={() => setProof(p)} /> {t(`tag.proofs.${p}`)}
                  </label>
                ))}
              </fieldset>
              {proof === 'otp' ? (
                <>
                  <button
                    type="button"
                    onClick={() => void send<{ sentTo: string }>('POST', `/api/v1/org/connections/${chosen.connectionId}/otp`).then((r) => setOtpSentTo(r.sentTo), setError)}
                  >
                    {t('tag.sendCode', { mobile: chosen.mobile })}
                  </button>
                  {otpSentTo && <p role="status">{t('tag.codeSent', { mobile: otpSentTo })}</p>}
                  <Field label={t('login.code')} name="code" errors={errors} inputMode="numeric" maxLength={6} />
                </>
              ) : (
                <Field
                  label={proof === 'bill_number' ? t('tag.billNumber') : t('tag.billAmount')}
                  name="value"
                  errors={errors}
                  hint={proof === 'bill_amount' ? t('tag.billAmountHint') : t('tag.billNumberHint')}
                  required
                />
              )}
              {officeSelect}
              <button type="submit" className="primary">
                {t('tag.submit')}
              </button>
            </form>
          )}
        </section>
      )}
    </>
  );
}

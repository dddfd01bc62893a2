import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useSearchParams } from 'react-router';
import { ApiError, send } from '../api';
import { Field, FormError, SelectField, fieldErrors } from '../forms';
import { rupeesToPaise } from '../money';
import { returnReason } from '../recon';

/** The demo's collection accounts at the sandbox bank (src/modules/demo/seed.ts). */
const DEMO_ACCOUNTS = [
  { discom: 'NBPDCL', account: '50200011112221' },
  { discom: 'SBPDCL', account: '50200011113331' },
] as const;
const MODES = ['NEFT', 'RTGS', 'IMPS', 'UPI'] as const;
const CHANNELS = ['notification', 'ecollect', 'statement'] as const;
const FORMATS = ['mt940', 'camt053', 'csv'] as const;

type Channel = (typeof CHANNELS)[number];

interface TransferResult {
  utr: string;
  status: 'booked' | 'returned';
  reason: string | null;
}

/** Today in IST as YYYY-MM-DD (the bank's statement days are IST days). */
const istToday = () => new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Kolkata', year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());

/**
 * The embedded sandbox bank, for testers and demonstrations: a payer's RTGS/NEFT/IMPS transfer to
 * a virtual account (the bank tells the portal by Smart Collect notification, by e-collect, or only
 * in its statement), and the collection accounts' statements to download. Public: no login.
 * A challan's page links here with ?va=…&amount=… (rupees) filled in.
 */
export function SandboxBank() {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const [params] = useSearchParams();
  const back = params.get('back');
  const backTo = back && /^\/payments\/\d{1,18}$/.test(back) ? back : null;
  const backRef = params.get('ref');
  const [va, setVa] = useState(params.get('va') ?? '');
  const [amount, setAmount] = useState(params.get('amount') ?? '');
  const [mode, setMode] = useState<string>('NEFT');
  const [channel, setChannel] = useState<Channel>('notification');
  const [payerName, setPayerName] = useState('');
  const [payerAccount, setPayerAccount] = useState('');
  const [errs, setErrs] = useState<Record<string, string[]>>({});
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [result, setResult] = useState<TransferResult | null>(null);
  const today = istToday();
  const [from, setFrom] = useState(today);
  const [to, setTo] = useState(today);
  const [dateErr, setDateErr] = useState<Record<string, string[]>>({});

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const vaNumber = va.replace(/\s+/g, '').toUpperCase();
    const paise = rupeesToPaise(amount);
    const found: Record<string, string[]> = {};
    if (!vaNumber) found.vaNumber = [t('sandboxBank.vaRequired')];
    if (paise === null || /^0*$/.test(paise)) found.amountPaise = [t('sandboxBank.amountInvalid')];
    setErrs(found);
    setResult(null);
    setError(null);
    if (Object.keys(found).length || paise === null) return;
    setBusy(true);
    send<TransferResult>('POST', '/sandbox/bank/transfers', {
      vaNumber,
      amountPaise: paise,
      mode,
      channel,
      ...(payerName.trim() ? { payerName: payerName.trim() } : {}),
      ...(payerAccount.trim() ? { payerAccount: payerAccount.trim() } : {}),
    })
      .then(setResult, setError)
      .finally(() => setBusy(false));
  };

  const notAvailable = error instanceof ApiError && error.status === 404;
  const errors = { ...fieldErrors(error, lang), ...errs };

  return (
    <>
      {backTo && (
        <p className="actions">
          <Link to={backTo}>{t('sandboxBank.back', { reference: backRef ?? '' })}</Link>
        </p>
      )}
      <h1>{t('sandboxBank.title')}</h1>
      <p className="state state-warn sandbox-banner">
        <span className="badge">{t('sandboxBank.badge')}</span> <span>{t('sandboxBank.banner')}</span>
      </p>
      <p className="lead">{t('sandboxBank.intro')}</p>
      <div className="bank-forms">
        <section className="card" aria-labelledby="transfer-h">
          <h2 id="transfer-h">{t('sandboxBank.transfer')}</h2>
          <form onSubmit={submit} noValidate>
            <Field
              label={t('sandboxBank.va')}
              hint={t('sandboxBank.vaHint')}
              name="vaNumber"
              value={va}
              onChange={(e) => setVa(e.target.value)}
              autoComplete="off"
              spellCheck={false}
              maxLength={40}
              errors={errors}
            />
            <Field
              label={t('sandboxBank.amount')}
              hint={t('sandboxBank.amountHint')}
              name="amountPaise"
              inputMode="decimal"
              value={amount}
              onChange={(e) => setAmount(e.target.value)}
              autoComplete="off"
              maxLength={20}
              errors={errors}
            />
            <SelectField label={t('sandboxBank.mode')} name="mode" value={mode} onChange={(e) => setMode(e.target.value)}>
              {MODES.map((m) => (
                <option key={m} value={m}>
                  {m}
                </option>
              ))}
            </SelectField>
            <fieldset className="radios">
              <legend>{t('sandboxBank.channel')}</legend>
              {CHANNELS.map((c) => (
                <label key={c} className="check">
                  <input type="radio" name="channel" value={c} checked={channel === c} onChange={() => setChannel(c)} /> {t(`sandboxBank.channels.${c}`)}
                </label>
              ))}
            </fieldset>
            <Field label={t('sandboxBank.payerName')} name="payerName" value={payerName} onChange={(e) => setPayerName(e.target.value)} maxLength={100} autoComplete="organization" />
            <Field label={t('sandboxBank.payerAccount')} name="payerAccount" value={payerAccount} onChange={(e) => setPayerAccount(e.target.value)} maxLength={35} inputMode="numeric" autoComplete="off" />
            <button type="submit" className="primary" disabled={busy}>
              {busy ? t('sandboxBank.sending') : t('sandboxBank.send')}
            </button>
          </form>
          {notAvailable ? (
            <p className="state state-error result-card" role="alert">
              {t('sandboxBank.notAvailable')}
            </p>
          ) : (
            <FormError error={error} />
          )}
          <div role="status" aria-live="polite">
            {result && (
              <div className={`state result-card ${result.status === 'booked' ? 'state-ok' : 'state-error'}`} data-testid="transfer-result">
                <h3>{t('sandboxBank.result')}</h3>
                <p>{result.status === 'booked' ? t('sandboxBank.booked') : t('sandboxBank.returned')}</p>
                <dl className="counts-list result-list">
                  <dt>{t('sandboxBank.utr')}</dt>
                  <dd>
                    <code data-testid="transfer-utr">{result.utr}</code>
                  </dd>
                  {result.reason && (
                    <>
                      <dt>{t('sandboxBank.reason')}</dt>
                      <dd>{returnReason(result.reason, lang, t)}</dd>
                    </>
                  )}
                </dl>
                {backTo && result.status === 'booked' && (
                  <p>
                    <Link to={backTo}>{t('sandboxBank.back', { reference: backRef ?? '' })}</Link>
                  </p>
                )}
              </div>
            )}
          </div>
        </section>

        <section className="card" aria-labelledby="statement-h">
          <h2 id="statement-h">{t('sandboxBank.statement')}</h2>
          <p className="muted">{t('sandboxBank.statementIntro')}</p>
          {/* A plain GET form: the bank answers with the file as an attachment, so the page stays. */}
          <form
            method="get"
            action="/sandbox/bank/statement"
            noValidate
            onSubmit={(e) => {
              const bad = !from || !to || from > to;
              setDateErr(bad ? { to: [t('sandboxBank.datesInvalid')] } : {});
              if (bad) e.preventDefault();
            }}
          >
            <SelectField label={t('sandboxBank.account')} name="account" defaultValue={DEMO_ACCOUNTS[0].account}>
              {DEMO_ACCOUNTS.map((a) => (
                <option key={a.account} value={a.account}>
                  {t('sandboxBank.accountOption', { discom: a.discom, account: a.account })}
                </option>
              ))}
            </SelectField>
            <Field label={t('sandboxBank.from')} name="from" type="date" value={from} onChange={(e) => setFrom(e.target.value)} required />
            <Field label={t('sandboxBank.to')} name="to" type="date" value={to} onChange={(e) => setTo(e.target.value)} required errors={dateErr} />
            <SelectField label={t('sandboxBank.format')} name="format" defaultValue="mt940">
              {FORMATS.map((f) => (
                <option key={f} value={f}>
                  {t(`statements.${f}`)}
                </option>
              ))}
            </SelectField>
            <button type="submit" className="primary">
              {t('sandboxBank.download')}
            </button>
          </form>
        </section>
      </div>
    </>
  );
}

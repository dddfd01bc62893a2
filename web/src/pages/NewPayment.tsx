import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useLocation, useNavigate, useSearchParams } from 'react-router';
import { ApiError, send, type Batch, type Quote } from '../api';
import { TableWrap } from '../components';
import { StatusBadge } from './PaymentStatus';
import { Field, FormError, fieldErrors } from '../forms';
import { formatDate, formatList, formatMonth, formatNumber, formatPaise } from '../format';
import { paiseToRupees, rupeesToPaise } from '../money';
import { useApi } from '../useApi';
import type { PickedRow } from './DuesTable';

interface SelectionInfo {
  id: string;
  count: number;
  outstandingPaise: string;
  expiresAt: string;
}

type QuoteState = { state: 'idle' } | { state: 'loading'; key: string } | { state: 'ready'; key: string; quote: Quote } | { state: 'error'; key: string; error: unknown };

/** A fresh Idempotency-Key; randomUUID needs a secure context, getRandomValues does not. */
function newKey(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  return [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, '0')).join('');
}

const QUOTE_DELAY_MS = 400;

/** What creating one discom's part of a split payment came to. */
interface SplitOutcome {
  discom: string;
  batch: Batch | null;
  error: unknown;
}

/** A bill as its due date, with its month under it and its anomaly flags. */
export function BillCell({ billMonth, dueDate, flags }: { billMonth: string | null; dueDate: string | null; flags: readonly string[] }) {
  const { t, i18n } = useTranslation();
  return (
    <>
      {dueDate ? t('newPayment.dueOn', { date: formatDate(dueDate, i18n.language) }) : '—'}
      {billMonth && <span className="block muted small">{t('newPayment.billOf', { month: formatMonth(billMonth, i18n.language) })}</span>}
      {flags.length > 0 && (
        <span className="block flags">
          {flags.map((f) => (
            <span key={f} className="badge badge-flag">
              {t(`flag.${f}`)}
            </span>
          ))}
        </span>
      )}
    </>
  );
}

/**
 * A new payment: the rows chosen in the dues table (router state) or a stored "all matching"
 * selection (?selection=), priced by the server's quote as the amounts change; then created
 * with an Idempotency-Key kept while the same submission is retried.
 */
export function NewPayment() {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const hi = lang === 'hi';
  const navigate = useNavigate();
  const location = useLocation();
  const [params] = useSearchParams();
  const selectionId = params.get('selection');
  const [rows, setRows] = useState<PickedRow[]>(() => (location.state as { rows?: PickedRow[] } | null)?.rows ?? []);
  const [amounts, setAmounts] = useState<Record<string, string>>({});
  const [budgetHead, setBudgetHead] = useState('');
  const [sanctionRef, setSanctionRef] = useState('');
  const [quote, setQuote] = useState<QuoteState>({ state: 'idle' });
  const [lastGood, setLastGood] = useState<Quote | null>(null);
  const [creating, setCreating] = useState(false);
  const [createError, setCreateError] = useState<unknown>(null);
  const submission = useRef<{ key: string; body: string } | null>(null);
  // Split into one payment per discom: each part has its own Idempotency-Key, kept while its body is the same.
  const splitKeys = useRef(new Map<string, { key: string; body: string }>());
  const [splitting, setSplitting] = useState<string | null>(null);
  const [splitDone, setSplitDone] = useState<SplitOutcome[] | null>(null);
  const seq = useRef(0);
  const [selection] = useApi<SelectionInfo>(selectionId && /^\d{1,18}$/.test(selectionId) ? `/api/v1/org/dues/selections/${selectionId}` : null);

  // Amounts as typed: invalid ones are caught here and not sent.
  const localErrors: Record<string, string> = {};
  const items = rows.map((r) => {
    const typed = amounts[r.connectionId];
    if (typed === undefined) return { connectionId: r.connectionId };
    const paise = rupeesToPaise(typed);
    if (paise === null) {
      localErrors[r.connectionId] = t('newPayment.amountInvalid');
      return { connectionId: r.connectionId };
    }
    return { connectionId: r.connectionId, amountPaise: paise };
  });
  const hasSource = selectionId !== null || rows.length > 0;
  const quoteBody = selectionId !== null ? { selectionId } : { items };
  const quoteKey = JSON.stringify(quoteBody);
  const blocked = Object.keys(localErrors).length > 0;

  useEffect(() => {
    if (!hasSource || blocked) return;
    setCreateError(null);
    const my = ++seq.current;
    const first = seq.current === 1;
    const timer = setTimeout(() => {
      setQuote({ state: 'loading', key: quoteKey });
      send<Quote>('POST', '/api/v1/org/payments/quote', JSON.parse(quoteKey)).then(
        (q) => {
          if (my !== seq.current) return;
          setQuote({ state: 'ready', key: quoteKey, quote: q });
          setLastGood(q);
        },
        (error: unknown) => {
          if (my === seq.current) setQuote({ state: 'error', key: quoteKey, error });
        },
      );
    }, first ? 0 : QUOTE_DELAY_MS);
    return () => clearTimeout(timer);
  }, [quoteKey, hasSource, blocked]);

  // An amount still being typed wrong leaves no current quote: nothing to create yet.
  const current = !blocked && quote.state !== 'idle' && quote.key === quoteKey ? quote : null;
  const ready = current?.state === 'ready' ? current.quote : null;
  const quoteError = current?.state === 'error' ? current.error : null;
  // Problems the server found, by row: 'body.items.3' is the fourth row sent.
  const rowErrors: Record<string, string[]> = {};
  const otherProblems: string[] = [];
  const problemsOf = (error: unknown) => (error instanceof ApiError && error.body ? error.body.error.details : []);
  for (const d of [...problemsOf(quoteError), ...problemsOf(createError)]) {
    const m = /^body\.items\.(\d+)/.exec(d.path);
    const row = m && selectionId === null ? rows[Number(m[1])] : undefined;
    const text = hi ? d.message.hi : d.message.en;
    if (row) {
      const list = (rowErrors[row.connectionId] ??= []);
      if (!list.includes(text)) list.push(text);
    } else if (d.path !== 'body' && d.path !== '' && !d.path.startsWith('body.budgetHead') && !d.path.startsWith('body.sanctionRef')) otherProblems.push(text);
  }
  const fieldErrs = fieldErrors(createError, lang);
  const quoteRows = new Map((ready ?? lastGood)?.rows.map((r) => [r.connectionId, r]) ?? []);

  const create = async (e: FormEvent) => {
    e.preventDefault();
    if (!ready || creating) return;
    const body = { ...quoteBody, ...(budgetHead.trim() ? { budgetHead: budgetHead.trim() } : {}), ...(sanctionRef.trim() ? { sanctionRef: sanctionRef.trim() } : {}) };
    const json = JSON.stringify(body);
    // One key per submission: a retry of the same one (after a timeout, say) is replayed, never made twice.
    if (submission.current?.body !== json) submission.current = { key: newKey(), body: json };
    setCreating(true);
    setCreateError(null);
    try {
      const b = await send<Batch>('POST', '/api/v1/org/payments/batches', body, { 'idempotency-key': submission.current.key });
      await navigate(`/payments/${b.id}`);
    } catch (err) {
      setCreateError(err);
      setCreating(false);
    }
  };

  // Each row's discom: the quote's, or (past the quote's first 1,000 rows) the dues table's.
  const discomOf = (r: PickedRow) => quoteRows.get(r.connectionId)?.discom ?? r.discom ?? null;
  const split = async () => {
    if (!ready || creating || splitting) return;
    const extra = { ...(budgetHead.trim() ? { budgetHead: budgetHead.trim() } : {}), ...(sanctionRef.trim() ? { sanctionRef: sanctionRef.trim() } : {}) };
    const parts = ready.discoms.map((d) => ({
      discom: d.code,
      body: selectionId !== null ? { selectionId, discom: d.code, ...extra } : { items: items.filter((_, i) => discomOf(rows[i]!) === d.code), ...extra },
    }));
    setCreateError(null);
    const out: SplitOutcome[] = [];
    for (const part of parts) {
      const json = JSON.stringify(part.body);
      let k = splitKeys.current.get(part.discom);
      if (k?.body !== json) {
        k = { key: newKey(), body: json };
        splitKeys.current.set(part.discom, k);
      }
      setSplitting(part.discom);
      try {
        out.push({ discom: part.discom, batch: await send<Batch>('POST', '/api/v1/org/payments/batches', part.body, { 'idempotency-key': k.key }), error: null });
      } catch (error) {
        out.push({ discom: part.discom, batch: null, error });
      }
    }
    setSplitting(null);
    setSplitDone(out);
  };

  const removeRow = (id: string) => {
    setRows((rs) => rs.filter((r) => r.connectionId !== id));
    setAmounts(({ [id]: _gone, ...rest }) => rest);
  };

  if (!hasSource) {
    return (
      <>
        <h1>{t('newPayment.title')}</h1>
        <div className="empty">
          <p>{t('newPayment.nothing')}</p>
          <p>
            <Link to="/org/dues/list">{t('newPayment.chooseInTable')}</Link>
          </p>
        </div>
      </>
    );
  }

  const shown = ready ?? lastGood;
  // Once every discom's payment is made, this page has nothing more to make.
  const allSplit = splitDone !== null && splitDone.every((o) => o.batch);
  return (
    <>
      <h1>{t('newPayment.title')}</h1>
      <p className="actions">
        <Link to="/org/dues/list">{t('newPayment.back')}</Link>
        <Link to="/payments">{t('payment.allPayments')}</Link>
      </p>
      <p className="lead">{t('newPayment.intro')}</p>
      {selectionId !== null && (
        <p className="muted">
          {selection.state === 'ready'
            ? t('newPayment.selection', { id: selection.data.id, n: formatNumber(selection.data.count, lang), amount: formatPaise(selection.data.outstandingPaise, lang) })
            : t('newPayment.selectionPlain', { id: selectionId })}
        </p>
      )}

      <section aria-labelledby="totals-h" className="quote-totals">
        <h2 id="totals-h">{t('newPayment.totals')}</h2>
        <p role="status" className="visually-hidden">
          {current?.state === 'loading' ? t('newPayment.updating') : ''}
        </p>
        {quoteError !== null && <FormError error={quoteError} />}
        {(blocked || (quoteError !== null && Object.keys(rowErrors).length > 0)) && <p className="field-error">{t('newPayment.fixRows')}</p>}
        {otherProblems.length > 0 && (
          <div className="state state-error">
            <h3>{t('newPayment.otherProblems')}</h3>
            <ul>
              {otherProblems.map((p, i) => (
                <li key={i}>{p}</li>
              ))}
            </ul>
          </div>
        )}
        {shown && quoteError === null && (
          <ul className={`figures-grid${ready ? '' : ' stale'}`} aria-label={t('newPayment.totals')} aria-busy={ready ? undefined : true}>
            <li>
              <span className="label">{t('newPayment.total')}</span>
              <span className="big" data-testid="quote-total">{formatPaise(shown.totalPaise, lang)}</span>
              <span className="muted">{t('newPayment.ofConnections', { count: shown.itemCount, n: formatNumber(shown.itemCount, lang) })}</span>
            </li>
            <li>
              <span className="label">{t('newPayment.outstandingNow')}</span>
              <span className="big">{formatPaise(shown.outstandingPaise, lang)}</span>
            </li>
            <li className="good">
              <span className="label">{t('newPayment.rebateGained')}</span>
              <span className="big">{formatPaise(shown.rebatePaise, lang)}</span>
            </li>
            <li className="good">
              <span className="label">{t('newPayment.dpsAvoidedLong')}</span>
              <span className="big">{formatPaise(shown.dpsAvoidedPaise, lang)}</span>
              <span className="muted">{t('newPayment.dpsAvoidedText')}</span>
            </li>
            <li className={shown.anomalyCount > 0 ? 'alert' : undefined}>
              <span className="label">{t('newPayment.anomalies')}</span>
              <span className="big">{formatNumber(shown.anomalyCount, lang)}</span>
              {shown.anomalyCount > 0 && <span className="muted">{t('newPayment.anomaliesText')}</span>}
            </li>
            <li className={shown.requiresApproval ? 'alert' : undefined}>
              <span className="label">{t('newPayment.approval')}</span>
              <span className="big">{shown.requiresApproval ? t('newPayment.approvalNeeded') : t('newPayment.approvalNotNeeded')}</span>
              <span className="muted">
                {shown.requiresApproval
                  ? t('newPayment.approvalNeededText', { limit: formatPaise(shown.approvalThresholdPaise ?? '0', lang) })
                  : t('newPayment.approvalNotNeededText')}
              </span>
            </li>
          </ul>
        )}
        {shown && shown.skipped > 0 && <p className="muted">{t('newPayment.skipped', { count: shown.skipped, n: formatNumber(shown.skipped, lang) })}</p>}
        {shown && shown.held > 0 && (
          <p className="state state-warn" role="note">
            {t('newPayment.held', { count: shown.held, n: formatNumber(shown.held, lang) })}
            {shown.heldBatches.length > 0 && ` ${t('newPayment.heldIn', { list: formatList(shown.heldBatches, lang) })}`}
          </p>
        )}
      </section>

      <h2 id="rows-h">{t('newPayment.rows')}</h2>
      {selectionId === null ? (
        <TableWrap label={t('newPayment.rows')}>
          <table className="data quote">
            <thead>
              <tr>
                <th scope="col">{t('newPayment.consumer')}</th>
                <th scope="col">{t('newPayment.discom')}</th>
                <th scope="col">{t('newPayment.bill')}</th>
                <th scope="col" className="num">{t('newPayment.outstanding')}</th>
                <th scope="col">{t('newPayment.amount')}</th>
                <th scope="col" className="num">{t('newPayment.rebate')}</th>
                <th scope="col" className="num">{t('newPayment.dpsAvoided')}</th>
                <th scope="col">
                  <span className="visually-hidden">{t('newPayment.remove')}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => {
                const q = quoteRows.get(r.connectionId);
                const errs = [...(localErrors[r.connectionId] ? [localErrors[r.connectionId]!] : []), ...(rowErrors[r.connectionId] ?? [])];
                const errId = `amount-err-${r.connectionId}`;
                const value = amounts[r.connectionId] ?? (q ? paiseToRupees(q.amountPaise) : '');
                return (
                  <tr key={r.connectionId} className={errs.length ? 'row-failure' : undefined}>
                    <th scope="row" className="nowrap">
                      {r.consumerNo}
                      <span className="muted small block">{r.name}</span>
                    </th>
                    <td>{discomOf(r) ?? '—'}</td>
                    <td className="nowrap">
                      <BillCell billMonth={q?.billMonth ?? null} dueDate={q?.dueDate ?? null} flags={q?.flags ?? []} />
                    </td>
                    <td className="num nowrap">{formatPaise(q?.outstandingPaise ?? r.balancePaise, lang)}</td>
                    <td className="amount-cell">
                      <input
                        className="amount"
                        inputMode="decimal"
                        autoComplete="off"
                        aria-label={t('newPayment.amountFor', { consumerNo: r.consumerNo })}
                        aria-invalid={errs.length ? true : undefined}
                        aria-describedby={errs.length ? errId : undefined}
                        value={value}
                        readOnly={allSplit}
                        onChange={(e) => setAmounts((a) => ({ ...a, [r.connectionId]: e.target.value }))}
                      />
                      {errs.length > 0 && (
                        <p id={errId} className="field-error">
                          {errs.join('; ')}
                        </p>
                      )}
                    </td>
                    <td className="num nowrap">{q && !errs.length ? formatPaise(q.rebatePaise, lang) : '—'}</td>
                    <td className="num nowrap">{q && !errs.length ? formatPaise(q.dpsAvoidedPaise, lang) : '—'}</td>
                    <td>
                      <button type="button" className="small-button" disabled={allSplit} onClick={() => removeRow(r.connectionId)}>
                        {t('newPayment.remove')}
                        <span className="visually-hidden"> {r.consumerNo}</span>
                      </button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </TableWrap>
      ) : (
        shown && (
          <>
            {shown.rowsShown < shown.itemCount && <p className="muted">{t('newPayment.firstRows', { shown: formatNumber(shown.rowsShown, lang), n: formatNumber(shown.itemCount, lang) })}</p>}
            <TableWrap label={t('newPayment.rows')}>
              <table className="data">
                <thead>
                  <tr>
                    <th scope="col">{t('newPayment.consumer')}</th>
                    <th scope="col">{t('newPayment.discom')}</th>
                    <th scope="col">{t('newPayment.bill')}</th>
                    <th scope="col" className="num">{t('newPayment.outstanding')}</th>
                    <th scope="col" className="num">{t('newPayment.amountCol')}</th>
                    <th scope="col" className="num">{t('newPayment.rebate')}</th>
                    <th scope="col" className="num">{t('newPayment.dpsAvoided')}</th>
                      </tr>
                </thead>
                <tbody>
                  {shown.rows.map((q) => (
                    <tr key={q.connectionId}>
                      <th scope="row">{q.consumerNo}</th>
                      <td>{q.discom}</td>
                      <td className="nowrap">
                        <BillCell billMonth={q.billMonth} dueDate={q.dueDate} flags={q.flags} />
                      </td>
                      <td className="num nowrap">{formatPaise(q.outstandingPaise, lang)}</td>
                      <td className="num nowrap">{formatPaise(q.amountPaise, lang)}</td>
                      <td className="num nowrap">{formatPaise(q.rebatePaise, lang)}</td>
                      <td className="num nowrap">{formatPaise(q.dpsAvoidedPaise, lang)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableWrap>
          </>
        )
      )}

      {ready && ready.discoms.length > 1 && !splitDone && (
        <section className="state state-warn mixed-discoms" aria-labelledby="mixed-h">
          <h2 id="mixed-h">{t('newPayment.mixedTitle')}</h2>
          <p>{t('newPayment.mixedText')}</p>
          <ul>
            {ready.discoms.map((d) => (
              <li key={d.code}>{t('newPayment.discomPart', { count: d.itemCount, discom: d.code, n: formatNumber(d.itemCount, lang), amount: formatPaise(d.totalPaise, lang) })}</li>
            ))}
          </ul>
        </section>
      )}
      {splitDone && (
        <section className={`state ${splitDone.every((o) => o.batch) ? 'state-ok' : 'state-warn'} split-results`} aria-labelledby="split-h">
          <h2 id="split-h">{t('newPayment.splitResults')}</h2>
          <ul>
            {splitDone.map((o) => (
              <li key={o.discom}>
                {o.batch ? (
                  <>
                    <Link to={`/payments/${o.batch.id}`}>
                      {t('newPayment.splitMade', { discom: o.discom, reference: o.batch.reference, amount: formatPaise(o.batch.totalPaise, lang) })}
                    </Link>{' '}
                    <StatusBadge status={o.batch.status} />
                  </>
                ) : (
                  <>
                    {t('newPayment.splitFailed', { discom: o.discom })}
                    <FormError error={o.error} />
                  </>
                )}
              </li>
            ))}
          </ul>
          {splitDone.every((o) => o.batch) ? (
            <p role="status">{t('newPayment.splitAllDone')}</p>
          ) : (
            <button type="button" disabled={splitting !== null} onClick={() => void split()}>
              {t('newPayment.splitRetry')}
            </button>
          )}
        </section>
      )}

      {!allSplit && (
        <>
          <h2 id="details-h">{t('newPayment.details')}</h2>
          <form className="grid-form" aria-labelledby="details-h" onSubmit={(e) => void create(e)} noValidate>
            <Field label={t('newPayment.budgetHead')} name="budgetHead" hint={t('newPayment.budgetHeadHint')} maxLength={60} value={budgetHead} onChange={(e) => setBudgetHead(e.target.value)} errors={fieldErrs} />
            <Field label={t('newPayment.sanctionRef')} name="sanctionRef" hint={t('newPayment.sanctionRefHint')} maxLength={60} value={sanctionRef} onChange={(e) => setSanctionRef(e.target.value)} errors={fieldErrs} />
            {!splitDone && (
              <div className="actions">
                <button type="submit" className="primary" disabled={!ready || creating || splitting !== null} aria-disabled={!ready || creating || splitting !== null}>
                  {creating ? t('newPayment.creating') : t('newPayment.create')}
                </button>
                {ready && ready.discoms.length > 1 && (
                  <button type="button" disabled={creating || splitting !== null} onClick={() => void split()}>
                    {splitting ? t('newPayment.splitting', { discom: splitting }) : t('newPayment.split')}
                  </button>
                )}
              </div>
            )}
          </form>
        </>
      )}
      <FormError error={createError} />
    </>
  );
}

import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams, useSearchParams } from 'react-router';
import { postForm, send, type Batch, type BatchDetail, type BatchItem, type BatchStatus, type Challan, type Checkout } from '../api';
import { LoadError, Loading, TableWrap } from '../components';
import { Field, FormError, fieldErrors } from '../forms';
import { formatDateTime, formatList, formatNumber, formatPaise } from '../format';
import { hasRole, useSession } from '../session';
import { useLiveApi } from '../useApi';
import { ChallanPanel } from './Challan';
import { BillCell } from './NewPayment';
import { PayerMoneyTrail } from './ThreeWay';

const POLL_MS = 3000;
/** While the gateway or the billing system has yet to answer, the page asks again every 3 seconds. */
const WAITING: readonly BatchStatus[] = ['payment_pending', 'unknown'];
const RESULTS = ['paid', 'failed', 'pending', 'unknown', 'invalid', 'cancelled'] as const;
const RESULT_TONE: Record<(typeof RESULTS)[number], 'ok' | 'warn' | 'error'> = { paid: 'ok', failed: 'error', pending: 'warn', unknown: 'warn', invalid: 'error', cancelled: 'warn' };

/** Who made a batch, as people read it: 'user:edu.admin' → 'edu.admin' (API keys keep their prefix). */
export const actorName = (label: string) => label.replace(/^user:/, '');

/** A batch's status as a labelled badge: words and colour, never colour alone. */
export function StatusBadge({ status }: { status: string }) {
  const { t } = useTranslation();
  return <span className={`badge pstatus pstatus-${status}`}>{t(`paymentStatus.${status}`)}</span>;
}

/** A batch's status, where a batch paid short says "Part paid". */
export const batchStatus = (b: Pick<Batch, 'status' | 'paidState'>) => (b.paidState === 'part_paid' ? 'part_paid' : b.status);

/** The result the gateway's return reported (?result=), as a banner. */
export function ResultBanner({ result }: { result: string | null }) {
  const { t } = useTranslation();
  const r = RESULTS.find((x) => x === result);
  if (!r) return null;
  const tone = RESULT_TONE[r];
  return (
    <p className={`state state-${tone} result-banner`} role={tone === 'error' ? 'alert' : 'status'}>
      {t(`paymentResult.${r}`)}
    </p>
  );
}

/**
 * One payment: its state and figures, who made and approved it, the gateway order and payments,
 * postings to the billing system, receipts, and its connections 100 at a time. Updates itself
 * while the gateway or the billing system has yet to answer, and says so to screen readers.
 */
export function PaymentStatus() {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const pdfLang = lang === 'hi' ? 'hi' : 'en';
  const { id = '' } = useParams();
  const [params] = useSearchParams();
  const { session } = useSession();
  const canMake = hasRole(session, 'org_admin', 'maker', 'approver');
  const canDecide = hasRole(session, 'approver', 'org_admin');
  const [tick, setTick] = useState(0);
  const live = useLiveApi<BatchDetail>(/^\d{1,18}$/.test(id) ? `/api/v1/org/payments/batches/${id}` : null, tick);
  const batch = live.value.state === 'ready' ? live.value.data : null;
  const [announce, setAnnounce] = useState('');
  const lastStatus = useRef<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [code, setCode] = useState('');
  const [reason, setReason] = useState('');
  const [decisionErrs, setDecisionErrs] = useState<Record<string, string[]>>({});
  const [cancelling, setCancelling] = useState(false);
  const [cancelReason, setCancelReason] = useState('');
  const [challanError, setChallanError] = useState<unknown>(null);
  const [issued, setIssued] = useState(false);
  // An RTGS/NEFT batch's challan, fetched again whenever the batch is (its credits arrive meanwhile).
  const wantChallan = /^\d{1,18}$/.test(id) && (issued || batch?.mode === 'rtgs_neft');
  const challan = useLiveApi<Challan>(wantChallan ? `/api/v1/org/payments/batches/${id}/challan` : null, tick);

  const polling = batch !== null && (WAITING.includes(batch.status) || batch.postings.pending > 0);
  useEffect(() => {
    if (!polling) return;
    const h = setTimeout(() => setTick((n) => n + 1), POLL_MS);
    return () => clearTimeout(h);
  }, [polling, live.settled]);

  // Tell screen readers when the status moves (not on the first load).
  const status = batch?.status ?? null;
  useEffect(() => {
    if (status === null) return;
    if (lastStatus.current !== null && lastStatus.current !== status) setAnnounce(t('payment.statusChanged', { status: t(`paymentStatus.${status}`) }));
    lastStatus.current = status;
  }, [status, t]);

  const act = async <T,>(name: string, run: () => Promise<T>, done?: (r: T) => void) => {
    setBusy(name);
    setActionError(null);
    setNotice(null);
    try {
      const r = await run();
      done?.(r);
      setTick((n) => n + 1);
    } catch (e) {
      setActionError(e);
    } finally {
      setBusy(null);
    }
  };

  const payNow = async () => {
    setBusy('pay');
    setActionError(null);
    setNotice(null);
    try {
      const c = await send<Checkout>('POST', `/api/v1/org/payments/batches/${id}/checkout`);
      // The hosted checkout takes a browser form post: the page leaves for the gateway.
      postForm(c.action, c.fields);
    } catch (e) {
      setActionError(e);
      setBusy(null);
      setTick((n) => n + 1);
    }
  };

  const issueChallan = async () => {
    setBusy('challan');
    setActionError(null);
    setChallanError(null);
    setNotice(null);
    try {
      await send<Challan>('POST', `/api/v1/org/payments/batches/${id}/challan`);
      setIssued(true);
      setNotice(t('challan.issued'));
    } catch (e) {
      setChallanError(e);
    } finally {
      setBusy(null);
      setTick((n) => n + 1);
    }
  };

  const decide = (approve: boolean) => (e?: FormEvent) => {
    e?.preventDefault();
    const errs: Record<string, string[]> = {};
    if (!/^\d{6}$/.test(code.trim())) errs.code = [t('payment.codeRequired')];
    if (!approve && !reason.trim()) errs.reason = [t('payment.reasonRequired')];
    setDecisionErrs(errs);
    if (Object.keys(errs).length) return;
    void act(
      approve ? 'approve' : 'reject',
      () => send<Batch>('POST', `/api/v1/org/payments/batches/${id}/${approve ? 'approve' : 'reject'}`, approve ? { code: code.trim() } : { code: code.trim(), reason: reason.trim() }),
      () => {
        setCode('');
        setReason('');
        setNotice(approve ? t('payment.approved') : t('payment.rejected'));
      },
    );
  };

  if (!/^\d{1,18}$/.test(id)) {
    return (
      <>
        <h1>{t('state.notFound')}</h1>
        <p>
          <Link to="/payments">{t('payment.allPayments')}</Link>
        </p>
      </>
    );
  }
  if (live.value.state === 'loading') return <Loading />;
  if (live.value.state === 'error') return <LoadError error={live.value.error} onRetry={live.reload} />;
  const b = live.value.data;
  const mine = session?.user?.id !== undefined && b.createdByUserId === session.user.id;
  const rtgs = b.mode === 'rtgs_neft';
  // Online checkout is for online batches; a batch paid by challan waits for its bank transfer instead.
  // While a payment waits at the gateway (or its answer is unknown) it is not offered again: Check
  // status is, which also frees a checkout nobody paid.
  const payable = canMake && !rtgs && b.status === 'ready';
  const waitingGateway = !rtgs && (b.status === 'payment_pending' || b.status === 'unknown');
  // A challan is for one discom's connections.
  const mixed = b.discoms.length > 1;
  const byChallan = canMake && b.status === 'ready' && !mixed;
  const checkable = canMake && !rtgs && b.order !== null && ['ready', 'payment_pending', 'unknown'].includes(b.status);
  const cancellable = canMake && ['pending_approval', 'ready'].includes(b.status);
  const decisionErrors = { ...fieldErrors(actionError, lang), ...decisionErrs };

  return (
    <>
      <p className="visually-hidden" role="status" aria-live="polite">
        {announce}
      </p>
      <p className="actions">
        <Link to="/payments">{t('payment.allPayments')}</Link>
      </p>
      <h1>{t('payment.title', { reference: b.reference })}</h1>
      <ResultBanner result={params.get('result')} />
      <div className={`status-panel pstatus-panel-${b.status}`}>
        <p className="status-line">
          <span className="label">{t('payment.status')}</span> <StatusBadge status={batchStatus(b)} />
        </p>
        {b.status === 'paid' && b.stillDuePaise !== null && BigInt(b.stillDuePaise) > 0n && (
          <p className="still-due">
            <strong>{t(b.paidState === 'part_paid' ? 'payment.partPaidLine' : 'payment.stillDueLine', { amount: formatPaise(b.stillDuePaise, lang) })}</strong>{' '}
            {t(b.paidState === 'part_paid' ? 'payment.partPaidWhy' : 'payment.stillDueWhy')}
          </p>
        )}
        <p>{t(rtgs && (b.status === 'payment_pending' || b.status === 'paid') ? `paymentStatusText.${b.status}_rtgs` : `paymentStatusText.${b.status}`)}</p>
        {b.status === 'pending_approval' && (mine ? <p>{t('payment.ownBatch')}</p> : !canDecide && <p>{t('payment.waitApprover')}</p>)}
      </div>
      {live.failed !== null && (
        <p className="state state-warn" role="status">
          {t('payment.updateFailed')}
        </p>
      )}
      {notice && (
        <p className="state state-ok" role="status">
          {notice}
        </p>
      )}
      {wantChallan && challan.value.state === 'loading' && <Loading />}
      {wantChallan && challan.value.state === 'error' && <LoadError error={challan.value.error} onRetry={challan.reload} />}
      {wantChallan && challan.value.state === 'ready' && <ChallanPanel challan={challan.value.data} backTo={`/payments/${b.id}`} />}
      {b.status === 'paid' && <PayerMoneyTrail batchId={b.id} version={tick} />}

      <h2>{t('payment.summary')}</h2>
      <dl className="policy summary">
        <dt>{t('payment.total')}</dt>
        <dd>{formatPaise(b.totalPaise, lang)}</dd>
        <dt>{t('payment.connections')}</dt>
        <dd>{formatNumber(b.itemCount, lang)}</dd>
        <dt>{t('payment.outstanding')}</dt>
        <dd>{formatPaise(b.outstandingPaise, lang)}</dd>
        <dt>{t('payment.rebate')}</dt>
        <dd>{formatPaise(b.rebatePaise, lang)}</dd>
        <dt>{t('payment.dpsAvoided')}</dt>
        <dd>{formatPaise(b.dpsAvoidedPaise, lang)}</dd>
        <dt>{t('payment.anomalies')}</dt>
        <dd>{formatNumber(b.anomalyCount, lang)}</dd>
        {b.status === 'paid' && (
          <>
            <dt>{t('payment.paidAmount')}</dt>
            <dd>{formatPaise(b.paidPaise, lang)}</dd>
            {b.rebateCreditedPaise !== null && (
              <>
                <dt>{t('payment.rebateCredited')}</dt>
                <dd>{formatPaise(b.rebateCreditedPaise, lang)}</dd>
              </>
            )}
            {b.stillDuePaise !== null && (
              <>
                <dt>{t('payment.stillDue')}</dt>
                <dd>{formatPaise(b.stillDuePaise, lang)}</dd>
              </>
            )}
          </>
        )}
        {b.settledAt && (
          <>
            <dt>{t('payment.settledAt')}</dt>
            <dd>{formatDateTime(b.settledAt, lang)}</dd>
          </>
        )}
        <dt>{t('payment.budgetHead')}</dt>
        <dd>{b.budgetHead ?? t('payment.none')}</dd>
        <dt>{t('payment.sanctionRef')}</dt>
        <dd>{b.sanctionRef ?? t('payment.none')}</dd>
        <dt>{t('payment.needsApproval')}</dt>
        <dd>{b.requiresApproval ? t('payment.yes') : t('payment.no')}</dd>
        <dt>{t('payment.createdBy')}</dt>
        <dd>
          {actorName(b.createdBy)}, {formatDateTime(b.createdAt, lang)}
        </dd>
        <dt>{t('payment.office')}</dt>
        <dd>
          {b.office ? `${b.office.name} (${b.office.code})` : t('payment.none')}
          <span className="block muted small">{t('payment.officeHint')}</span>
        </dd>
        {b.decidedBy && (
          <>
            <dt>{b.status === 'rejected' ? t('payment.rejectedBy') : t('payment.approvedBy')}</dt>
            <dd>
              {b.decidedBy}
              {b.decidedAt && `, ${formatDateTime(b.decidedAt, lang)}`}
            </dd>
          </>
        )}
        {b.decisionReason && (
          <>
            <dt>{t('payment.reason')}</dt>
            <dd>{b.decisionReason}</dd>
          </>
        )}
      </dl>

      {(payable || byChallan || checkable || cancellable || (b.status === 'pending_approval' && canDecide && !mine)) && (
        <section className="card actions-card" aria-labelledby="actions-h">
          <h2 id="actions-h">{t('payment.actions')}</h2>
          {b.status === 'pending_approval' && canDecide && !mine && (
            <form className="decide" onSubmit={decide(true)} noValidate aria-label={t('payment.decide')}>
              <Field
                label={t('payment.code')}
                hint={t('payment.codeHint')}
                name="code"
                inputMode="numeric"
                autoComplete="one-time-code"
                maxLength={6}
                value={code}
                onChange={(e) => setCode(e.target.value)}
                errors={decisionErrors}
              />
              <Field label={t('payment.rejectReason')} name="reason" maxLength={300} value={reason} onChange={(e) => setReason(e.target.value)} errors={decisionErrors} />
              <div className="actions">
                <button type="submit" className="primary" disabled={busy !== null}>
                  {t('payment.approve')}
                </button>
                <button type="button" disabled={busy !== null} onClick={decide(false)}>
                  {t('payment.reject')}
                </button>
              </div>
            </form>
          )}
          {waitingGateway && canMake && (
            <p className="state state-warn waiting-gateway" role="note">
              {t('payment.waitingGateway')}
            </p>
          )}
          {payable && (
            <div className="action-row">
              <button type="button" className="primary" disabled={busy !== null} onClick={() => void payNow()} aria-describedby="pay-now-text">
                {busy === 'pay' ? t('payment.opening') : t('payment.payNow')}
              </button>
              <p id="pay-now-text" className="muted">
                {t('payment.payNowText')}
              </p>
            </div>
          )}
          {byChallan && (
            <div className="action-row">
              <button type="button" className={payable ? undefined : 'primary'} disabled={busy !== null} onClick={() => void issueChallan()} aria-describedby="challan-text">
                {busy === 'challan' ? t('challan.issuing') : t('challan.payByChallan')}
              </button>
              <p id="challan-text" className="muted">
                {t('challan.payByChallanText')}
              </p>
            </div>
          )}
          {canMake && b.status === 'ready' && mixed && (
            <p className="muted mixed-discoms">{t('payment.mixedDiscoms', { list: formatList(b.discoms, lang) })}</p>
          )}
          <FormError error={challanError} messages={{ BATCH_NOT_OPEN: t('challan.errors.BATCH_NOT_OPEN') }} />
          <div className="actions">
            {checkable && (
              <button
                type="button"
                className={waitingGateway ? 'primary' : undefined}
                disabled={busy !== null}
                onClick={() => void act('refresh', () => send<Batch>('POST', `/api/v1/org/payments/batches/${id}/refresh`), (r) => setNotice(t('payment.checked', { status: t(`paymentStatus.${r.status}`) })))}
              >
                {t('payment.checkStatus')}
              </button>
            )}
            {cancellable && !cancelling && (
              <button type="button" className="danger" disabled={busy !== null} onClick={() => setCancelling(true)}>
                {t('payment.cancel')}
              </button>
            )}
          </div>
          {cancellable && cancelling && (
            <form
              className="cancel-form"
              onSubmit={(e) => {
                e.preventDefault();
                void act('cancel', () => send<Batch>('POST', `/api/v1/org/payments/batches/${id}/cancel`, cancelReason.trim() ? { reason: cancelReason.trim() } : {}), () => {
                  setCancelling(false);
                  setNotice(t('payment.cancelled'));
                });
              }}
            >
              <Field label={t('payment.cancelReason')} name="cancelReason" maxLength={300} value={cancelReason} onChange={(e) => setCancelReason(e.target.value)} />
              <div className="actions">
                <button type="submit" className="danger" disabled={busy !== null}>
                  {t('payment.confirmCancel')}
                </button>
                <button type="button" onClick={() => setCancelling(false)}>
                  {t('payment.keep')}
                </button>
              </div>
            </form>
          )}
          <FormError error={actionError} />
        </section>
      )}

      {b.receipts > 0 && (
        <section>
          <h2 id="receipts-h">{t('payment.receipts')}</h2>
          <p>{t('payment.receiptsCount', { count: b.receipts, n: formatNumber(b.receipts, lang) })}</p>
          <p className="actions">
            <a className="button primary" href={`/api/v1/org/payments/batches/${b.id}/receipt.pdf?lang=${pdfLang}`} download>
              {t('payment.consolidatedPdf')}
            </a>
            <a className="button secondary" href={`/api/v1/org/payments/batches/${b.id}/receipts.zip?lang=${pdfLang}`} download>
              {t('payment.zip')}
            </a>
          </p>
        </section>
      )}

      {/* A challan batch never went to the gateway: its order and gateway payments would only say so. */}
      {!(rtgs && b.order === null) && (
        <>
          <h2>{t('payment.order')}</h2>
          {b.order ? (
            <dl className="policy">
              <dt>{t('payment.orderId')}</dt>
              <dd>
                <code>{b.order.orderId}</code>
              </dd>
              <dt>{t('payment.gateway')}</dt>
              <dd>{b.order.gateway}</dd>
              <dt>{t('payment.orderCreated')}</dt>
              <dd>{formatDateTime(b.order.createdAt, lang)}</dd>
              <dt>{t('payment.lastChecked')}</dt>
              <dd>{b.order.lastCheckedAt ? formatDateTime(b.order.lastCheckedAt, lang) : t('payment.never')}</dd>
            </dl>
          ) : (
            <p className="empty">{t('payment.noOrder')}</p>
          )}

          <h2>{t('payment.payments')}</h2>
          {b.payments.length === 0 ? (
            <p className="empty">{t('payment.noPayments')}</p>
          ) : (
            <TableWrap label={t('payment.payments')}>
              <table className="data">
                <thead>
                  <tr>
                    <th scope="col">{t('payment.gatewayPaymentId')}</th>
                    <th scope="col" className="num">{t('payment.amount')}</th>
                    <th scope="col">{t('payment.method')}</th>
                    <th scope="col">{t('payment.result')}</th>
                    <th scope="col">{t('payment.capturedAt')}</th>
                    <th scope="col">{t('payment.confirmedBy')}</th>
                  </tr>
                </thead>
                <tbody>
                  {b.payments.map((p) => (
                    <tr key={p.id} className={p.status === 'failed' ? 'row-failure' : undefined}>
                      <td>
                        <code>{p.gatewayPaymentId}</code>
                      </td>
                      <td className="num nowrap">{formatPaise(p.amountPaise, lang)}</td>
                      <td>{p.method ? t(`payMethod.${p.method}`, { defaultValue: p.method }) : '—'}</td>
                      <td>
                        <span className={`badge ${p.status === 'captured' ? 'badge-clear' : 'badge-overdue'}`}>{t(`gatewayPayment.${p.status}`, { defaultValue: p.status })}</span>
                        {p.error && <span className="block field-error">{p.error}</span>}
                      </td>
                      <td className="nowrap">{p.capturedAt ? formatDateTime(p.capturedAt, lang) : '—'}</td>
                      <td>{t(`gatewayPayment.${p.confirmedBy}`, { defaultValue: p.confirmedBy })}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableWrap>
          )}
        </>
      )}

      {(b.postings.pending > 0 || b.postings.acknowledged > 0 || b.postings.rejected > 0) && (
        <section>
          <h2 id="postings-h">{t('payment.postings')}</h2>
          <p className="muted">{t('payment.postingsText')}</p>
          <ul className="figures-grid" aria-labelledby="postings-h">
            {(['acknowledged', 'pending', 'rejected'] as const).map((s) => (
              <li key={s} className={s === 'rejected' && b.postings.rejected > 0 ? 'alert' : s === 'acknowledged' ? 'good' : undefined}>
                <span className="label">{t(`postingStatus.${s}`)}</span>
                <span className="big">{formatNumber(b.postings[s], lang)}</span>
              </li>
            ))}
          </ul>
          {b.postings.pending > 0 && <p className="muted">{t('payment.postingsWaiting')}</p>}
        </section>
      )}

      {b.exceptions.length > 0 && (
        <section>
          <h2 id="exceptions-h">{t('payment.exceptions')}</h2>
          <p className="muted">{t('payment.exceptionsText')}</p>
          <TableWrap label={t('payment.exceptions')}>
            <table className="data">
              <thead>
                <tr>
                  <th scope="col">{t('payment.reason')}</th>
                  <th scope="col" className="num">{t('payment.amount')}</th>
                  <th scope="col">{t('payment.status')}</th>
                </tr>
              </thead>
              <tbody>
                {b.exceptions.map((x, i) => (
                  <tr key={i}>
                    <td>{t(`exception.${x.reason}`, { defaultValue: x.reason })}</td>
                    <td className="num nowrap">{formatPaise(x.amountPaise, lang)}</td>
                    <td>{t(`exception.${x.status}`, { defaultValue: x.status })}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
        </section>
      )}

      <Items batch={b} />
    </>
  );
}

/** The batch's connections, 100 a page (keyset), with their receipts and postings. */
function Items({ batch }: { batch: BatchDetail }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const pdfLang = lang === 'hi' ? 'hi' : 'en';
  const [cursors, setCursors] = useState<string[]>([]);
  const after = cursors[cursors.length - 1];
  // Fetched again when the batch moves on (receipts issued, postings answered).
  const version = `${batch.status}:${batch.receipts}:${batch.postings.pending}:${batch.postings.acknowledged}:${batch.postings.rejected}`;
  const items = useLiveApi<{ items: BatchItem[]; next: string | null }>(`/api/v1/org/payments/batches/${batch.id}/items${after ? `?after=${after}` : ''}`, version);
  const pages = Math.max(1, Math.ceil(batch.itemCount / 100));
  const next = items.value.state === 'ready' ? items.value.data.next : null;
  return (
    <section>
      <h2 id="items-h">{t('payment.items')}</h2>
      {items.value.state === 'loading' && <Loading />}
      {items.value.state === 'error' && <LoadError error={items.value.error} onRetry={items.reload} />}
      {items.value.state === 'ready' && (
        <>
          <TableWrap label={t('payment.items')}>
            <table className="data">
              <thead>
                <tr>
                  <th scope="col">{t('tag.consumerNo')}</th>
                  <th scope="col">{t('newPayment.bill')}</th>
                  <th scope="col" className="num">{t('newPayment.outstanding')}</th>
                  <th scope="col" className="num">{t('newPayment.amountCol')}</th>
                  <th scope="col" className="num">{t('newPayment.rebate')}</th>
                    <th scope="col">{t('payment.receipt')}</th>
                  <th scope="col">{t('payment.posting')}</th>
                </tr>
              </thead>
              <tbody>
                {items.value.data.items.map((r) => (
                  <tr key={r.connectionId}>
                    <th scope="row" className="nowrap">
                      <Link to={`/org/dues/connections/${r.connectionId}`}>{r.consumerNo}</Link>
                    </th>
                    <td className="nowrap">
                      <BillCell billMonth={r.billMonth} dueDate={r.dueDate} flags={r.flags} />
                    </td>
                    <td className="num nowrap">{formatPaise(r.outstandingPaise, lang)}</td>
                    <td className="num nowrap">{formatPaise(r.amountPaise, lang)}</td>
                    <td className="num nowrap">{formatPaise(r.receipt?.rebatePaise ?? r.rebatePaise, lang)}</td>
                    <td className="nowrap receipt-no">
                      {r.receipt ? (
                        <a href={`/api/v1/org/payments/receipts/${r.receipt.id}.pdf?lang=${pdfLang}`} download aria-label={t('payment.receiptPdf', { receiptNo: r.receipt.receiptNo })}>
                          {r.receipt.receiptNo}
                        </a>
                      ) : (
                        '—'
                      )}
                    </td>
                    <td>
                      {r.posting ? (
                        <>
                          <span className={`badge nowrap posting-${r.posting.status}`}>{t(`postingStatus.${r.posting.status}`, { defaultValue: r.posting.status })}</span>
                          {r.posting.billingReceiptNo && <span className="block muted small">{t('payment.billingReceipt', { no: r.posting.billingReceiptNo })}</span>}
                          {r.posting.lastError && <span className="block field-error">{r.posting.lastError}</span>}
                        </>
                      ) : (
                        '—'
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
          {pages > 1 && (
            <nav className="pager" aria-label={t('payment.pages')}>
              <button type="button" disabled={!cursors.length} onClick={() => setCursors((c) => c.slice(0, -1))}>
                {t('connections.previous')}
              </button>
              <span className="muted">{t('payment.pageOf', { page: formatNumber(cursors.length + 1, lang), pages: formatNumber(pages, lang) })}</span>
              <button type="button" disabled={!next} onClick={() => next && setCursors((c) => [...c, next])}>
                {t('connections.next')}
              </button>
            </nav>
          )}
        </>
      )}
    </section>
  );
}

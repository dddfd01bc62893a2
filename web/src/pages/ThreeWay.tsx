import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import type { ThreeWay } from '../api';
import { Async, LoadError, TableWrap } from '../components';
import { formatDateTime, formatNumber, formatPaise } from '../format';
import { useApi, useLiveApi } from '../useApi';

type Leg = 'done' | 'waiting' | 'attention';

/**
 * Where a batch's money is, in three steps: received (gateway payment or bank transfer) → in the
 * discom's bank (the transfer, or the gateway's settlement payout, seen in a bank statement) →
 * posted to the billing system and acknowledged. Each step says done or waiting in words (the
 * tick is decoration), with what it is waiting for.
 */
export function MoneyTrail({ v, audience, headingLevel = 2 }: { v: ThreeWay; audience: 'payer' | 'discom'; headingLevel?: 2 | 3 }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const money = (p: string) => formatPaise(p, lang);
  const H = headingLevel === 2 ? 'h2' : 'h3';
  const S = headingLevel === 2 ? 'h3' : 'h4';

  const received = v.received.map((r) =>
    t(r.source === 'bank' ? 'threeWay.receivedBank' : 'threeWay.receivedGateway', { amount: money(r.amountPaise), at: r.at ? formatDateTime(r.at, lang) : '—' }),
  );
  const banked = v.banked.map((b) =>
    b.kind === 'settlement'
      ? t(b.inStatement ? 'threeWay.bankedSettlementIn' : 'threeWay.bankedSettlementOut', { ref: b.reference, amount: money(b.amountPaise), fees: money(b.feesPaise ?? '0') })
      : t(b.inStatement ? 'threeWay.bankedStatementIn' : 'threeWay.bankedStatementOut', { amount: money(b.amountPaise) }),
  );
  // What the step still waits for: gateway payments not in any settlement yet, transfers no statement has shown.
  const unsettled = v.received.filter((r) => r.source === 'gateway').length - v.banked.filter((b) => b.kind === 'settlement').length;
  if (v.received.length === 0) banked.push(t('threeWay.bankedNone'));
  else if (unsettled > 0) banked.push(t('threeWay.bankedWaitGateway'));
  else if (!v.legs.banked && v.banked.length === 0) banked.push(t('threeWay.bankedWaitBank'));
  const p = v.posted;
  const posted =
    p.postings === 0
      ? [t('threeWay.postedNone')]
      : p.acknowledged === p.postings
        ? [t('threeWay.postedAll', { count: p.postings, n: formatNumber(p.postings, lang), amount: money(p.acknowledgedPaise) })]
        : [
            t('threeWay.postedSome', {
              acknowledged: formatNumber(p.acknowledged, lang), postings: formatNumber(p.postings, lang), amount: money(p.acknowledgedPaise), total: money(p.amountPaise),
              pending: formatNumber(p.pending, lang), rejected: formatNumber(p.rejected, lang),
            }),
            ...(p.rejected > 0 ? [t('threeWay.postedRefused')] : []),
          ];

  const steps: { key: 'received' | 'banked' | 'posted'; leg: Leg; lines: string[] }[] = [
    { key: 'received', leg: v.legs.received ? 'done' : 'waiting', lines: received.length ? received : [t('threeWay.receivedNone')] },
    { key: 'banked', leg: v.legs.banked ? 'done' : 'waiting', lines: banked },
    { key: 'posted', leg: v.legs.posted ? 'done' : p.rejected > 0 ? 'attention' : 'waiting', lines: posted },
  ];
  const id = `trail-${v.batch.id}`;
  return (
    <section className="card money-trail" aria-labelledby={`${id}-h`} data-testid="money-trail">
      <H id={`${id}-h`}>{audience === 'payer' ? t('threeWay.titlePayer') : t('threeWay.titleDiscom')}</H>
      <p className="muted">{audience === 'payer' ? t('threeWay.introPayer') : t('threeWay.introDiscom')}</p>
      <ol className="trail" aria-label={t('threeWay.steps')}>
        {steps.map((s, i) => (
          <li key={s.key} className={`leg leg-${s.leg}`} data-testid={`leg-${s.key}`}>
            <span className="leg-mark" aria-hidden="true">
              {s.leg === 'done' ? '✓' : s.leg === 'attention' ? '!' : formatNumber(i + 1, lang)}
            </span>
            <div>
              <S className="leg-title">
                {t(`threeWay.${s.key}`)} <span className={`badge leg-badge-${s.leg}`}>{t(`threeWay.${s.leg}`)}</span>
              </S>
              {s.lines.map((l) => (
                <p key={l}>{l}</p>
              ))}
            </div>
          </li>
        ))}
      </ol>
    </section>
  );
}

/** The payer's batch page panel: fetched again whenever the page polls (`version`). */
export function PayerMoneyTrail({ batchId, version }: { batchId: string; version: string | number }) {
  const trail = useLiveApi<ThreeWay>(`/api/v1/org/payments/batches/${batchId}/reconciliation`, version);
  if (trail.value.state === 'loading') return null;
  if (trail.value.state === 'error') return <LoadError error={trail.value.error} onRetry={trail.reload} />;
  return <MoneyTrail v={trail.value.data} audience="payer" />;
}

/** The discom's page of one batch's money (/discom/recon/batches/:id), with every reference. */
export function ReconBatch() {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const { id = '' } = useParams();
  const valid = /^\d{1,18}$/.test(id);
  const [view, retry] = useApi<ThreeWay>(valid ? `/api/v1/discom/recon/batches/${id}` : null);
  if (!valid) {
    return (
      <>
        <h1>{t('state.notFound')}</h1>
        <p>
          <Link to="/discom/recon">{t('threeWay.back')}</Link>
        </p>
      </>
    );
  }
  return (
    <>
      <p className="actions">
        <Link to="/discom/recon">{t('threeWay.back')}</Link>
      </p>
      <Async value={view} retry={retry}>
        {(v) => (
          <>
            <h1>{t('threeWay.pageTitle', { reference: v.batch.reference })}</h1>
            <dl className="policy summary">
              <dt>{t('threeWay.organisation')}</dt>
              <dd>{v.batch.organisation}</dd>
              <dt>{t('threeWay.status')}</dt>
              <dd>
                <span className={`badge pstatus pstatus-${v.batch.status}`}>{t(`paymentStatus.${v.batch.status}`, { defaultValue: v.batch.status })}</span>
              </dd>
              <dt>{t('threeWay.mode')}</dt>
              <dd>{t(v.batch.mode === 'rtgs_neft' ? 'collections.rtgsNeft' : 'collections.online')}</dd>
              <dt>{t('threeWay.total')}</dt>
              <dd>{formatPaise(v.batch.totalPaise, lang)}</dd>
              <dt>{t('threeWay.paid')}</dt>
              <dd>{formatPaise(v.batch.paidPaise, lang)}</dd>
            </dl>
            <MoneyTrail v={v} audience="discom" />
            {v.received.length === 0 && (
              <p className="muted">
                {t('threeWay.heldHint')} <Link to="/discom/recon">{t('collections.openRecon')}</Link>
              </p>
            )}
            <References v={v} />
          </>
        )}
      </Async>
    </>
  );
}

function References({ v }: { v: ThreeWay }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  return (
    <section aria-labelledby="refs-h">
      <h2 id="refs-h">{t('threeWay.references')}</h2>
      <div className="cards">
        <div className="card">
          <h3 id="refs-received-h">{t('threeWay.receivedTable')}</h3>
          {v.received.length === 0 ? (
            <p className="empty">{t('threeWay.receivedNone')}</p>
          ) : (
            <TableWrap label={t('threeWay.receivedTable')}>
              <table className="data">
                <thead>
                  <tr>
                    <th scope="col">{t('threeWay.reference')}</th>
                    <th scope="col" className="num">
                      {t('threeWay.amount')}
                    </th>
                    <th scope="col">{t('threeWay.at')}</th>
                  </tr>
                </thead>
                <tbody>
                  {v.received.map((r) => (
                    <tr key={r.reference}>
                      <th scope="row">
                        <code className="ref">{r.reference}</code>
                        <span className="block muted small">
                          {t(`threeWay.source.${r.source}`)} · {t(`threeWay.confirmedBy.${r.confirmedBy}`, { defaultValue: r.confirmedBy })}
                        </span>
                      </th>
                      <td className="num nowrap">{formatPaise(r.amountPaise, lang)}</td>
                      <td>{r.at ? formatDateTime(r.at, lang) : '—'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableWrap>
          )}
        </div>
        <div className="card">
          <h3 id="refs-banked-h">{t('threeWay.bankedTable')}</h3>
          {v.banked.length === 0 ? (
            <p className="empty">{t('threeWay.noBanked')}</p>
          ) : (
            <TableWrap label={t('threeWay.bankedTable')}>
              <table className="data">
                <thead>
                  <tr>
                    <th scope="col">{t('threeWay.reference')}</th>
                    <th scope="col" className="num">
                      {t('threeWay.amount')}
                    </th>
                    <th scope="col">{t('threeWay.inStatement')}</th>
                  </tr>
                </thead>
                <tbody>
                  {v.banked.map((b, i) => (
                    <tr key={`${b.reference}:${i}`}>
                      <th scope="row">
                        <code className="ref">{b.reference}</code>
                        <span className="block muted small">{t(`threeWay.kind.${b.kind}`)}</span>
                        {b.utr && <span className="block muted small">{t('recon.utr')} <code className="ref">{b.utr}</code></span>}
                      </th>
                      <td className="num nowrap">
                        {formatPaise(b.amountPaise, lang)}
                        {b.feesPaise !== null && (
                          <span className="block muted small">
                            {t('threeWay.fees')}: {formatPaise(b.feesPaise, lang)}
                          </span>
                        )}
                      </td>
                      <td>
                        <span className={`badge ${b.inStatement ? 'badge-clear' : 'badge-due'}`}>{b.inStatement ? t('threeWay.yes') : t('threeWay.notYet')}</span>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableWrap>
          )}
        </div>
      </div>
    </section>
  );
}

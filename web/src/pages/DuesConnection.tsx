import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { BarChart } from '../charts';
import { Async, TableWrap } from '../components';
import { formatDate, formatDateTime, formatMonth, formatMonthShort, formatNumber, formatPaise } from '../format';
import { useApi } from '../useApi';
import type { ConnectionView } from '../../../src/shared/dues.ts';

const STAGES = ['initiated', 'received', 'posted', 'receipt'] as const;

/** One connection: particulars, the latest bill in full with its checks, 12 months, payments. */
export function DuesConnection() {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const hi = lang === 'hi';
  const { connectionId } = useParams();
  const [view, retry] = useApi<ConnectionView>(`/api/v1/org/dues/connections/${connectionId ?? ''}`);
  return (
    <Async value={view} retry={retry}>
      {(c) => {
        const b = c.bills[0];
        const pdf = (billId: string, l: string) => `/api/v1/org/dues/connections/${c.connectionId}/bills/${billId}.pdf?lang=${l}`;
        const money = (p: string) => formatPaise(p, lang);
        return (
          <>
            <p className="actions">
              <Link to="/org/dues/list">{t('duesTable.title')}</Link>
            </p>
            <h1>
              {c.consumerNo} · {c.name}
            </h1>
            <p className="muted">
              {hi ? c.discom.nameHi : c.discom.name} · {hi ? c.division.nameHi : c.division.name} / {hi ? c.subdivision.nameHi : c.subdivision.name} ·{' '}
              {c.category.code} ({hi ? c.category.nameHi : c.category.name}) · {c.supplyType} · {formatNumber(c.sanctionedLoadVa / 1000, lang)} kVA
            </p>
            <p className="muted">{t('dues.syncedAt', { when: formatDateTime(c.syncedAt, lang) })}</p>
            {c.openBatch && (
              <div className="state state-warn held-note" role="note">
                {c.openBatch.id && c.openBatch.reference ? (
                  <p>
                    {t('conn.inPayment')} <Link to={`/payments/${c.openBatch.id}`}>{c.openBatch.reference}</Link>
                    {c.openBatch.status && ` (${t(`paymentStatus.${c.openBatch.status}`)})`}
                    {t('conn.inPaymentEnd')} {t('conn.inPaymentText')}
                  </p>
                ) : (
                  <p>
                    {t('conn.inPaymentAbove')} {t('conn.inPaymentText')}
                  </p>
                )}
              </div>
            )}
            <ul className="figures-grid" aria-label={t('dues.figures')}>
              <li className={BigInt(c.balancePaise) > 0n ? 'alert' : ''}>
                <span className="label">{t('conn.balance')}</span>
                <span className="big">{money(c.balancePaise)}</span>
              </li>
              <li>
                <span className="label">{t('tag.office')}</span>
                <span className="big small-big">{c.office ? `${c.office.name} (${c.office.code})` : '—'}</span>
              </li>
              <li>
                <span className="label">{t('conn.meter')}</span>
                <span className="big small-big">{c.meterNo ?? '—'}</span>
              </li>
            </ul>
            {!b ? (
              <p className="empty">{t('conn.noBills')}</p>
            ) : (
              <>
                <section className="card" aria-labelledby="latest-h">
                  <h2 id="latest-h">
                    {t('conn.latestBill', { month: formatMonth(b.billMonth, lang) })}
                  </h2>
                  <p className="actions">
                    <a href={pdf(b.billId, 'en')} download>
                      {t('conn.pdfEn')}
                    </a>
                    <a href={pdf(b.billId, 'hi')} download>
                      {t('conn.pdfHi')}
                    </a>
                  </p>
                  {b.flags.length > 0 ? (
                    <div className="state state-warn" role="note">
                      <p>{t('conn.flagsFound')}</p>
                      <ul>
                        {b.flags.map((f) => (
                          <li key={f}>{t(`flagLong.${f}`, { avg: b.avgUnits === null ? '—' : formatNumber(b.avgUnits, lang), units: formatNumber(b.units, lang) })}</li>
                        ))}
                      </ul>
                    </div>
                  ) : (
                    <p className="state state-ok">{t('conn.noFlags')}</p>
                  )}
                  <div className="cards">
                    <dl className="policy">
                      <dt>{t('conn.billNo')}</dt>
                      <dd>{b.billNo}</dd>
                      <dt>{t('conn.billDate')}</dt>
                      <dd>{formatDate(b.billDate, lang)}</dd>
                      <dt>{t('duesTable.dueDate')}</dt>
                      <dd>{formatDate(b.dueDate, lang)}</dd>
                      <dt>{t('conn.readings')}</dt>
                      <dd>
                        {b.prevReading === null ? '—' : formatNumber(b.prevReading, lang)} → {b.currReading === null ? '—' : formatNumber(b.currReading, lang)}
                      </dd>
                      <dt>{t('conn.units')}</dt>
                      <dd>{formatNumber(b.units, lang)}</dd>
                      <dt>{t('conn.basis')}</dt>
                      <dd>{t(`basis.${b.billBasis}`)}</dd>
                      <dt>{t('conn.lastPayment')}</dt>
                      <dd>{b.lastPaymentPaise && b.lastPaymentDate ? `${money(b.lastPaymentPaise)} · ${formatDate(b.lastPaymentDate, lang)}` : '—'}</dd>
                    </dl>
                    <table className="figures">
                      <caption className="visually-hidden">{t('conn.charges')}</caption>
                      <tbody>
                        {(
                          [
                            ['energy', b.energyChargePaise], ['fixed', b.fixedChargePaise], ['fuel', b.fuelSurchargePaise], ['duty', b.electricityDutyPaise],
                            ['rent', b.meterRentPaise], ['demand', b.currentDemandPaise], ['arrears', b.arrearsPaise], ['dps', b.dpsPaise],
                            ['advance', b.advanceCreditPaise], ['rebate', b.rebatePaise], ['net', b.netPayablePaise], ['after', b.payableAfterDuePaise],
                          ] as const
                        ).map(([k, v]) => (
                          <tr key={k} className={k === 'net' ? 'strong' : undefined}>
                            <th scope="row">{t(`charge.${k}`)}</th>
                            <td className="num">{money(v)}</td>
                          </tr>
                        ))}
                      </tbody>
                    </table>
                  </div>
                </section>
                <BarChart
                  title={t('conn.consumption')}
                  description={t('conn.consumptionText')}
                  valueHeader={t('conn.units')}
                  noteHeader={t('conn.billed')}
                  tableLabel={t('dues.asTable')}
                  bars={[...c.bills].reverse().map((x) => ({
                    label: formatMonth(x.billMonth, lang), axis: formatMonthShort(x.billMonth, lang), value: x.units, display: formatNumber(x.units, lang), note: money(x.currentDemandPaise),
                    tone: x.flags.length ? 'alert' : 'ok',
                  }))}
                />
                <h2>{t('conn.history')}</h2>
                <TableWrap label={t('conn.history')}>
                  <table className="data">
                    <thead>
                      <tr>
                        <th scope="col">{t('duesTable.billMonth')}</th>
                        <th scope="col">{t('conn.billNo')}</th>
                        <th scope="col">{t('duesTable.dueDate')}</th>
                        <th scope="col" className="num">{t('conn.units')}</th>
                        <th scope="col" className="num">{t('charge.demand')}</th>
                        <th scope="col" className="num">{t('charge.net')}</th>
                        <th scope="col">{t('conn.lastPayment')}</th>
                        <th scope="col">{t('duesTable.flags')}</th>
                        <th scope="col">PDF</th>
                      </tr>
                    </thead>
                    <tbody>
                      {c.bills.map((x) => (
                        <tr key={x.billId}>
                          <td className="nowrap">{formatMonth(x.billMonth, lang)}</td>
                          <td>{x.billNo}</td>
                          <td className="nowrap">{formatDate(x.dueDate, lang)}</td>
                          <td className="num">{formatNumber(x.units, lang)}</td>
                          <td className="num nowrap">{money(x.currentDemandPaise)}</td>
                          <td className="num nowrap">{money(x.netPayablePaise)}</td>
                          <td className="nowrap">{x.lastPaymentPaise && x.lastPaymentDate ? `${money(x.lastPaymentPaise)} · ${formatDate(x.lastPaymentDate, lang)}` : '—'}</td>
                          <td>
                            {x.flags.map((f) => (
                              <span key={f} className="badge badge-flag">
                                {t(`flag.${f}`)}
                              </span>
                            ))}
                          </td>
                          <td>
                            <a href={pdf(x.billId, hi ? 'hi' : 'en')} download aria-label={t('conn.pdfOf', { month: formatMonth(x.billMonth, lang) })}>
                              PDF
                            </a>
                          </td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </TableWrap>
              </>
            )}
            <h2>{t('conn.payments')}</h2>
            <p className="muted">{t('conn.paymentsText')}</p>
            {c.payments.length === 0 ? (
              <p className="empty">{t('conn.noPayments')}</p>
            ) : (
              <ol className="timeline-list">
                {c.payments.map((p) => (
                  <li key={`${p.date}-${p.amountPaise}`}>
                    <p>
                      <strong>{money(p.amountPaise)}</strong> · {formatDate(p.date, lang)} · {t('conn.byBillingSystem')}
                    </p>
                    <ol className="timeline" aria-label={t('conn.stagesOf', { amount: money(p.amountPaise) })}>
                      {STAGES.map((s) => {
                        const done = s === 'posted';
                        return (
                          <li key={s} className={done ? 'done' : 'na'}>
                            {t(`stage.${s}`)}
                            <span className="visually-hidden"> — {done ? t('conn.stageDone') : t('conn.stageNa')}</span>
                          </li>
                        );
                      })}
                    </ol>
                  </li>
                ))}
              </ol>
            )}
          </>
        );
      }}
    </Async>
  );
}

import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { BarChart } from '../charts';
import { Async, TableWrap } from '../components';
import { Field, SelectField, formValues } from '../forms';
import { formatDateTime, formatMonth, formatMonthShort, formatNumber, formatPaise } from '../format';
import { useApi } from '../useApi';
import type { Figures, SummaryResponse as Summary } from '../../../src/shared/dues.ts';

/** When the data last came from the billing system; said plainly, with a warning if the last sync failed. */
export function Freshness({ f }: { f: Summary['freshness'] }) {
  const { t, i18n } = useTranslation();
  return (
    <p className={f.lastError ? 'state state-warn' : 'muted'} role="status">
      {f.lastSyncedAt ? t('dues.syncedAt', { when: formatDateTime(f.lastSyncedAt, i18n.language) }) : t('dues.neverSynced')}
      {f.lastError ? ` ${t('dues.syncError')}` : ''}
    </p>
  );
}

const rupeesOf = (p: string) => Number(BigInt(p) / 100n);

function Breakdown({ title, rows, link }: { title: string; rows: { key: string; label: string; f: Figures }[]; link: (key: string) => string | null }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const [all, setAll] = useState(false);
  const shown = all ? rows : rows.slice(0, 8);
  return (
    <section className="card" aria-labelledby={`bd-${title}`}>
      <h3 id={`bd-${title}`}>{title}</h3>
      {rows.length === 0 ? (
        <p className="empty">{t('dues.noneYet')}</p>
      ) : (
        <TableWrap label={title}>
          <table className="data">
            <thead>
              <tr>
                <th scope="col">{title}</th>
                <th scope="col" className="num">{t('dues.connections')}</th>
                <th scope="col" className="num">{t('dues.outstanding')}</th>
                <th scope="col" className="num">{t('dues.overdue')}</th>
                <th scope="col" className="num">{t('dues.anomalies')}</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((r) => {
                const to = link(r.key);
                return (
                  <tr key={r.key}>
                    <th scope="row">{to ? <Link to={to}>{r.label}</Link> : r.label}</th>
                    <td className="num">{formatNumber(r.f.connections, lang)}</td>
                    <td className="num">{formatPaise(r.f.outstandingPaise, lang)}</td>
                    <td className="num">{formatPaise(r.f.overduePaise, lang)}</td>
                    <td className="num">{formatNumber(r.f.anomalies, lang)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </TableWrap>
      )}
      {rows.length > 8 && (
        <button type="button" className="link" onClick={() => setAll((a) => !a)} aria-expanded={all}>
          {all ? t('dues.showFewer') : t('dues.showAll', { count: rows.length })}
        </button>
      )}
    </section>
  );
}

/** The organisation's dues in one place: figures, charts, breakdowns, and a statement download. */
export function Dues() {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const [summary, retry] = useApi<Summary>('/api/v1/org/dues/summary');
  const [statementError, setStatementError] = useState<string | null>(null);

  const statement = (e: FormEvent<HTMLFormElement>) => {
    const v = formValues(e.currentTarget);
    if (!v.from || !v.to || v.from > v.to) {
      e.preventDefault();
      setStatementError(t('dues.periodInvalid'));
    } else setStatementError(null);
  };

  return (
    <>
      <h1>{t('dues.title')}</h1>
      <Async value={summary} retry={retry}>
        {(s) => {
          const f = s.totals;
          const hi = lang === 'hi';
          return (
            <>
              <Freshness f={s.freshness} />
              {f.connections === 0 ? (
                <div className="empty">
                  <p>{t('dues.noConnections')}</p>
                  <p>
                    <Link to="/org/tag">{t('nav.tag')}</Link> · <Link to="/org/upload">{t('nav.upload')}</Link>
                  </p>
                </div>
              ) : (
                <>
                  <ul className="figures-grid" aria-label={t('dues.figures')}>
                    <li>
                      <span className="label">{t('dues.outstanding')}</span>
                      <span className="big">{formatPaise(f.outstandingPaise, lang)}</span>
                      <span className="muted">{t('dues.ofConnections', { count: f.connections, n: formatNumber(f.connections, lang) })}</span>
                    </li>
                    <li className="alert">
                      <span className="label">{t('dues.overdue')}</span>
                      <span className="big">{formatPaise(f.overduePaise, lang)}</span>
                      <Link to="/org/dues/list?status=overdue">{t('dues.bills', { count: f.overdueCount, n: formatNumber(f.overdueCount, lang) })}</Link>
                    </li>
                    <li>
                      <span className="label">{t('dues.due7')}</span>
                      <span className="big">{formatPaise(f.due7Paise, lang)}</span>
                      <span className="muted">{t('dues.bills', { count: f.due7Count, n: formatNumber(f.due7Count, lang) })}</span>
                    </li>
                    <li>
                      <span className="label">{t('dues.rebate')}</span>
                      <span className="big">{formatPaise(f.rebatePaise, lang)}</span>
                      <span className="muted">{t('dues.rebateText')}</span>
                    </li>
                    <li>
                      <span className="label">{t('dues.dpsCharged')}</span>
                      <span className="big">{formatPaise(f.dpsChargedPaise, lang)}</span>
                    </li>
                    <li>
                      <span className="label">{t('dues.dpsRisk')}</span>
                      <span className="big">{formatPaise(f.dpsRiskPaise, lang)}</span>
                      <span className="muted">{t('dues.dpsRiskText')}</span>
                    </li>
                    <li>
                      <span className="label">{t('dues.advance')}</span>
                      <span className="big">{formatPaise(f.advancePaise, lang)}</span>
                    </li>
                    <li>
                      <span className="label">{t('dues.anomalies')}</span>
                      <span className="big">{formatNumber(f.anomalies, lang)}</span>
                      <Link to="/org/dues/list?anomaly=any">
                        {t('dues.anomalyBreakdown', {
                          deviation: formatNumber(s.anomalies.deviation, lang), zero: formatNumber(s.anomalies.zero, lang),
                          estimated: formatNumber(s.anomalies.estimated, lang), reading_break: formatNumber(s.anomalies.reading_break, lang),
                        })}
                      </Link>
                    </li>
                  </ul>
                  <p className="actions">
                    <Link to="/org/dues/list" className="button primary">
                      {t('dues.openTable')}
                    </Link>
                    <Link to="/org/alerts">{t('nav.alerts')}</Link>
                  </p>
                  <div className="cards">
                    <BarChart
                      title={t('dues.chartDue')}
                      description={t('dues.chartDueText')}
                      valueHeader={t('dues.amount')}
                      noteHeader={t('dues.connections')}
                      tableLabel={t('dues.asTable')}
                      bars={s.dueBuckets.map((b) => ({
                        label: t(`bucket.${b.bucket}`), axis: t(`bucketShort.${b.bucket}`), value: rupeesOf(b.amountPaise), display: formatPaise(b.amountPaise, lang),
                        note: formatNumber(b.count, lang), tone: b.bucket.startsWith('overdue') ? 'alert' : 'ok',
                      }))}
                    />
                    <BarChart
                      title={t('dues.chartMonths')}
                      description={t('dues.chartMonthsText')}
                      valueHeader={t('dues.billed')}
                      noteHeader={t('dues.billsCount')}
                      tableLabel={t('dues.asTable')}
                      bars={s.months.map((m) => ({ label: formatMonth(m.month, lang), axis: formatMonthShort(m.month, lang), value: rupeesOf(m.billedPaise), display: formatPaise(m.billedPaise, lang), note: formatNumber(m.bills, lang) }))}
                    />
                  </div>
                  <h2>{t('dues.breakdowns')}</h2>
                  <div className="stack">
                    <Breakdown
                      title={t('dues.byOffice')}
                      rows={s.byOffice.map((o) => ({ key: o.id ?? 'none', label: o.name ? `${o.name} (${o.code})` : t('dues.noOffice'), f: o }))}
                      link={(k) => (k === 'none' ? null : `/org/dues/list?officeId=${k}`)}
                    />
                    <Breakdown
                      title={t('dues.byDivision')}
                      rows={s.byDivision.map((d) => ({ key: d.id, label: hi ? d.nameHi : d.name, f: d }))}
                      link={(k) => `/org/dues/list?divisionId=${k}`}
                    />
                    <Breakdown
                      title={t('dues.byCategory')}
                      rows={s.byCategory.map((c) => ({ key: c.code, label: `${c.code} · ${hi ? c.nameHi : c.name}`, f: c }))}
                      link={(k) => `/org/dues/list?category=${encodeURIComponent(k)}`}
                    />
                  </div>
                </>
              )}
              <section className="card" aria-labelledby="statement-h">
                <h2 id="statement-h">{t('dues.statement')}</h2>
                <p className="muted">{t('dues.statementText')}</p>
                <form className="grid-form" method="get" action="/api/v1/org/dues/statement" onSubmit={statement}>
                  <Field label={t('dues.from')} name="from" type="date" required defaultValue={`${s.day.slice(0, 4)}-04-01` > s.day ? `${Number(s.day.slice(0, 4)) - 1}-04-01` : `${s.day.slice(0, 4)}-04-01`} />
                  <Field label={t('dues.to')} name="to" type="date" required defaultValue={s.day} />
                  <SelectField label={t('dues.format')} name="format" defaultValue="pdf">
                    <option value="pdf">PDF</option>
                    <option value="xlsx">XLSX</option>
                    <option value="csv">CSV</option>
                  </SelectField>
                  <input type="hidden" name="lang" value={hi ? 'hi' : 'en'} />
                  <div>
                    <button type="submit" className="primary">
                      {t('dues.download')}
                    </button>
                  </div>
                </form>
                {statementError && (
                  <p className="field-error" role="alert">
                    {statementError}
                  </p>
                )}
              </section>
              <p className="muted small">
                {t('dues.computed', { when: formatDateTime(s.computedAt, lang), low: s.thresholds.lowPct, high: s.thresholds.highPct })}
              </p>
            </>
          );
        }}
      </Async>
    </>
  );
}

import { useState, type FormEvent, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useSearchParams } from 'react-router';
import type { Collections as CollectionsView, OrgType } from '../api';
import { StackedBarChart } from '../charts';
import { barValue, collectionSeries, formatDayShort, isDay } from '../collections';
import { Async, TableWrap } from '../components';
import { Field } from '../forms';
import { formatDate, formatMonth, formatMonthShort, formatNumber, formatPaise } from '../format';
import { useDiscoms } from '../discoms';
import { SelectField } from '../forms';
import { hasRole, isHolding, useSession } from '../session';
import { useApi } from '../useApi';

type Section = 'by_day' | 'by_mode' | 'by_org_type' | 'by_division' | 'top_dues';
const MODES = ['online', 'rtgs_neft'] as const;
const ORG_TYPES: readonly OrgType[] = ['state_department', 'central_psu', 'state_psu', 'private', 'large_consumer'];
const DIVISIONS_SHOWN = 10;

/**
 * The discom's collections dashboard: money received in a range of IST days (by day and way of
 * payment, by organisation type, by circle and division), the organisations owing most, and what
 * waits for the discom's staff now (exceptions, postings, tag requests), each section exportable.
 * The range lives in the address (?from=&to=), so a view can be bookmarked; without one the
 * server takes the last 30 days. A discom's staff see their discom's figures; the holding
 * company's see both discoms', or one (?discom=).
 */
export function Collections() {
  const { t } = useTranslation();
  const { session } = useSession();
  const holding = isHolding(session);
  const [params, setParams] = useSearchParams();
  const qFrom = params.get('from') ?? '';
  const qTo = params.get('to') ?? '';
  const qDiscom = holding ? (params.get('discom') ?? '') : '';
  const q = new URLSearchParams({ ...(qFrom ? { from: qFrom } : {}), ...(qTo ? { to: qTo } : {}), ...(qDiscom ? { discom: qDiscom } : {}) }).toString();
  const [view, retry] = useApi<CollectionsView>(`/api/v1/discom/collections${q ? `?${q}` : ''}`);
  const shown = view.state === 'ready' ? view.data : null;

  return (
    <>
      <h1>{t('collections.title')}</h1>
      <p className="lead">{t('collections.intro')}</p>
      {/* Keyed by the range shown: the fields start from the server's range (its default when none was asked). */}
      <RangeForm
        key={shown ? `${shown.from}:${shown.to}:${qDiscom}` : `${qFrom}:${qTo}:${qDiscom}`}
        from={shown?.from ?? qFrom}
        to={shown?.to ?? qTo}
        discom={holding ? qDiscom : null}
        onShow={(from, to, discom) => setParams({ from, to, ...(discom ? { discom } : {}) })}
        onReset={() => setParams({})}
        isDefault={!qFrom && !qTo && !qDiscom}
      />
      <Async value={view} retry={retry}>
        {(c) => <Dashboard c={c} />}
      </Async>
    </>
  );
}

/** The range, and for the holding company's staff (discom not null) the discom shown ('' for both). */
function RangeForm({ from, to, discom, onShow, onReset, isDefault }: { from: string; to: string; discom: string | null; onShow: (from: string, to: string, discom: string) => void; onReset: () => void; isDefault: boolean }) {
  const { t } = useTranslation();
  const discoms = useDiscoms();
  const [f, setF] = useState(from);
  const [tt, setTt] = useState(to);
  const [d, setD] = useState(discom ?? '');
  const [errs, setErrs] = useState<Record<string, string[]>>({});
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const found: Record<string, string[]> = {};
    if (!isDay(f)) found.from = [t('collections.dateRequired')];
    if (!isDay(tt)) found.to = [t('collections.dateRequired')];
    if (!found.from && !found.to && f > tt) found.from = [t('collections.fromAfterTo')];
    setErrs(found);
    if (!Object.keys(found).length) onShow(f, tt, d);
  };
  return (
    <form className="grid-form range-form" onSubmit={submit} noValidate aria-labelledby="range-h" aria-describedby="range-hint">
      <h2 id="range-h" className="span-all">
        {t('collections.period')}
      </h2>
      <p id="range-hint" className="hint span-all">
        {t('collections.rangeHint')}
      </p>
      <Field label={t('collections.from')} name="from" type="date" value={f} onChange={(e) => setF(e.target.value)} errors={errs} />
      <Field label={t('collections.to')} name="to" type="date" value={tt} onChange={(e) => setTt(e.target.value)} errors={errs} />
      {discom !== null && (
        <SelectField label={t('scope.filter')} name="discom" value={d} onChange={(e) => setD(e.target.value)}>
          <option value="">{t('scope.both')}</option>
          {discoms.map((x) => (
            <option key={x.code} value={x.code}>
              {x.code}
            </option>
          ))}
        </SelectField>
      )}
      <div className="actions">
        <button type="submit" className="primary">
          {t('collections.show')}
        </button>
        {!isDefault && (
          <button type="button" onClick={onReset}>
            {t('collections.last30')}
          </button>
        )}
      </div>
    </form>
  );
}

/** CSV and XLSX of one section, for the range (and discom) shown. */
function Exports({ section, title, from, to, discom }: { section: Section; title: string; from: string; to: string; discom?: string | null }) {
  const { t } = useTranslation();
  const href = (format: 'csv' | 'xlsx') => `/api/v1/discom/collections/export?${new URLSearchParams({ section, format, from, to, ...(discom ? { discom } : {}) }).toString()}`;
  return (
    <p className="exports">
      <span className="muted">{t('collections.download')}:</span>
      {(['csv', 'xlsx'] as const).map((f) => (
        <a key={f} className="button secondary small-button" href={href(f)} download>
          {f.toUpperCase()}
          <span className="visually-hidden"> ({title})</span>
        </a>
      ))}
    </p>
  );
}

function SectionHead({ id, title, section, from, to, discom, children }: { id: string; title: string; section: Section; from: string; to: string; discom?: string | null; children?: ReactNode }) {
  return (
    <div className="section-head">
      <div>
        <h2 id={id}>{title}</h2>
        {children}
      </div>
      <Exports section={section} title={title} from={from} to={to} discom={discom ?? null} />
    </div>
  );
}

function Dashboard({ c }: { c: CollectionsView }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const { session } = useSession();
  const seesTags = hasRole(session, 'collection_officer', 'discom_admin', 'auditor');
  const n = (x: number) => formatNumber(x, lang);
  const mode = (m: string) => c.byMode.find((x) => x.mode === m) ?? { count: 0, amountPaise: '0' };
  const waitingPostings = c.postings.pending + c.postings.retrying + c.postings.rejected;
  const range = { from: c.from, to: c.to, discom: c.discom };

  return (
    <>
      <p className="period" role="status">
        {t('collections.showing', { from: formatDate(c.from, lang), to: formatDate(c.to, lang) })} · {c.discom ? t('scope.figuresOf', { discom: c.discom }) : t('scope.both')}
      </p>
      <section>
        <h2 id="collected-h">{t('collections.collected')}</h2>
        <ul className="figures-grid" aria-labelledby="collected-h">
          <li className="good" data-testid="collected-total">
            <span className="label">{t('collections.collectedTotal')}</span>
            <span className="big">{formatPaise(c.totals.amountPaise, lang)}</span>
            <span className="muted">{t('collections.paymentsCount', { count: c.totals.count, n: n(c.totals.count) })}</span>
          </li>
          {MODES.map((m) => (
            <li key={m} data-testid={`collected-${m}`}>
              <span className="label">{t(m === 'online' ? 'collections.online' : 'collections.rtgsNeft')}</span>
              <span className="big">{formatPaise(mode(m).amountPaise, lang)}</span>
              <span className="muted">{t('collections.paymentsCount', { count: mode(m).count, n: n(mode(m).count) })}</span>
            </li>
          ))}
        </ul>
      </section>

      <section>
        <h2 id="waiting-h">{t('collections.waitingNow')}</h2>
        <p className="muted">{t('collections.waitingNowText')}</p>
        <ul className="figures-grid" aria-labelledby="waiting-h">
          <li className={c.openExceptions.count > 0 ? 'alert' : 'good'} data-testid="open-exceptions">
            <span className="label">{t('collections.openExceptions')}</span>
            <span className="big">{formatPaise(c.openExceptions.amountPaise, lang)}</span>
            <span className="muted">{t('collections.exceptionsCount', { count: c.openExceptions.count, n: n(c.openExceptions.count) })}</span>
            <Link to="/discom/recon">{t('collections.openRecon')}</Link>
          </li>
          <li className={c.postings.rejected > 0 ? 'alert' : waitingPostings > 0 ? undefined : 'good'} data-testid="postings-waiting">
            <span className="label">{t('collections.postings')}</span>
            <span className="big">{n(waitingPostings)}</span>
            <span className="muted">{t('collections.postingsBreakdown', { pending: n(c.postings.pending), retrying: n(c.postings.retrying), rejected: n(c.postings.rejected) })}</span>
            <Link to="/discom/postings">{t('collections.openPostings')}</Link>
          </li>
          <li data-testid="tag-requests">
            <span className="label">{t('collections.tagRequests')}</span>
            <span className="big">{n(c.pendingTagRequests)}</span>
            {seesTags ? <Link to="/discom/tag-requests">{t('collections.reviewTags')}</Link> : <span className="muted">{t('collections.tagsByOfficers')}</span>}
          </li>
        </ul>
      </section>

      <section>
        <ByDay c={c} />
      </section>

      <div className="cards section-cards">
        <section className="card">
          <SectionHead id="by-mode-h" title={t('collections.byMode')} section="by_mode" {...range} />
          <CountTable
            label={t('collections.byMode')}
            header={t('collections.mode')}
            rows={MODES.map((m) => ({ key: m, label: t(m === 'online' ? 'collections.online' : 'collections.rtgsNeft'), count: mode(m).count, amountPaise: mode(m).amountPaise }))}
            total={c.totals}
          />
        </section>
        <section className="card">
          <SectionHead id="by-type-h" title={t('collections.byOrgType')} section="by_org_type" {...range} />
          {c.byOrgType.length === 0 ? (
            <p className="empty">{t('collections.noPayments')}</p>
          ) : (
            <CountTable
              label={t('collections.byOrgType')}
              header={t('collections.orgType')}
              rows={[...c.byOrgType]
                .sort((a, b) => ORG_TYPES.indexOf(a.type) - ORG_TYPES.indexOf(b.type))
                .map((r) => ({ key: r.type, label: t(`orgType1.${r.type}`, { defaultValue: r.type }), count: r.count, amountPaise: r.amountPaise }))}
              total={c.totals}
            />
          )}
        </section>
      </div>

      <section>
        <SectionHead id="by-division-h" title={t('collections.byDivision')} section="by_division" {...range}>
          <p className="muted">{t('collections.byDivisionText')}</p>
        </SectionHead>
        <Divisions c={c} />
      </section>

      <section>
        <SectionHead id="top-dues-h" title={t('collections.topDues')} section="top_dues" {...range}>
          <p className="muted">{t('collections.topDuesText')}</p>
        </SectionHead>
        {c.topDues.length === 0 ? (
          <p className="empty">{t('collections.noDues')}</p>
        ) : (
          <TableWrap label={t('collections.topDues')}>
            <table className="data">
              <thead>
                <tr>
                  <th scope="col">{t('collections.organisation')}</th>
                  <th scope="col">{t('collections.type')}</th>
                  <th scope="col" className="num">
                    {t('collections.connections')}
                  </th>
                  <th scope="col" className="num">
                    {t('collections.outstanding')}
                  </th>
                </tr>
              </thead>
              <tbody>
                {c.topDues.map((o) => (
                  <tr key={o.orgId}>
                    <th scope="row">{o.organisation}</th>
                    <td>{t(`orgType1.${o.type}`, { defaultValue: o.type })}</td>
                    <td className="num">{n(o.connections)}</td>
                    <td className="num nowrap">{formatPaise(o.outstandingPaise, lang)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
        )}
      </section>
    </>
  );
}

function ByDay({ c }: { c: CollectionsView }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const series = collectionSeries(c.byDay, c.from, c.to);
  const byMonth = series[0]?.kind === 'month';
  const title = byMonth ? t('collections.byMonth') : t('collections.byDay');
  return (
    <>
      <SectionHead id="by-day-h" title={title} section="by_day" from={c.from} to={c.to} discom={c.discom} />
      {c.totals.count === 0 ? (
        <p className="empty">{t('collections.noPayments')}</p>
      ) : (
        <StackedBarChart
          title={title}
          description={t(byMonth ? 'collections.byMonthText' : 'collections.byDayText', { from: formatDate(c.from, lang), to: formatDate(c.to, lang), total: formatPaise(c.totals.amountPaise, lang) })}
          series={[
            { label: t('collections.online'), tone: 'ok' },
            { label: t('collections.rtgsNeft'), tone: 'alt' },
          ]}
          bars={series.map((p) => ({
            label: byMonth ? formatMonth(p.start, lang) : formatDate(p.start, lang),
            axis: byMonth ? formatMonthShort(p.start, lang) : formatDayShort(p.start, lang),
            values: [barValue(p.online), barValue(p.rtgsNeft)],
            displays: [formatPaise(p.online, lang), formatPaise(p.rtgsNeft, lang)],
            total: formatPaise(p.online + p.rtgsNeft, lang),
          }))}
          labelHeader={byMonth ? t('collections.month') : t('collections.day')}
          totalHeader={t('collections.total')}
          tableLabel={t('collections.asTable')}
        />
      )}
    </>
  );
}

function CountTable({ label, header, rows, total }: { label: string; header: string; rows: { key: string; label: string; count: number; amountPaise: string }[]; total: { count: number; amountPaise: string } }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  return (
    <TableWrap label={label}>
      <table className="data">
        <thead>
          <tr>
            <th scope="col">{header}</th>
            <th scope="col" className="num">
              {t('collections.payments')}
            </th>
            <th scope="col" className="num">
              {t('collections.amount')}
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.key}>
              <th scope="row">{r.label}</th>
              <td className="num">{formatNumber(r.count, lang)}</td>
              <td className="num nowrap">{formatPaise(r.amountPaise, lang)}</td>
            </tr>
          ))}
          <tr className="strong">
            <th scope="row">{t('collections.total')}</th>
            <td className="num">{formatNumber(total.count, lang)}</td>
            <td className="num nowrap">{formatPaise(total.amountPaise, lang)}</td>
          </tr>
        </tbody>
      </table>
    </TableWrap>
  );
}

function Divisions({ c }: { c: CollectionsView }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const [all, setAll] = useState(false);
  if (c.byDivision.length === 0) return <p className="empty">{t('collections.noPayments')}</p>;
  const rows = all ? c.byDivision : c.byDivision.slice(0, DIVISIONS_SHOWN);
  return (
    <>
      <TableWrap label={t('collections.byDivision')}>
        <table className="data">
          <thead>
            <tr>
              <th scope="col">{t('collections.division')}</th>
              <th scope="col">{t('collections.circle')}</th>
              <th scope="col">{t('collections.discom')}</th>
              <th scope="col" className="num">
                {t('collections.connections')}
              </th>
              <th scope="col" className="num">
                {t('collections.amount')}
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((d) => (
              <tr key={`${d.discom}:${d.circle}:${d.division}`}>
                <th scope="row">{d.division}</th>
                <td>{d.circle}</td>
                <td>{d.discom}</td>
                <td className="num">{formatNumber(d.connections, lang)}</td>
                <td className="num nowrap">{formatPaise(d.amountPaise, lang)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </TableWrap>
      {c.byDivision.length > DIVISIONS_SHOWN && (
        <button type="button" className="link show-more" onClick={() => setAll((a) => !a)} aria-expanded={all}>
          {all ? t('collections.showFewer') : t('collections.showAll', { count: c.byDivision.length })}
        </button>
      )}
    </>
  );
}

import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import type { DiscomSummary, Overview } from '../api';
import { Async } from '../components';
import { formatDateTime, formatNumber, formatPaise } from '../format';
import { useApi } from '../useApi';

const ORG_TYPES = ['state_department', 'central_psu', 'state_psu', 'private', 'large_consumer'] as const;

function DiscomCard({ d }: { d: DiscomSummary }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const name = lang === 'hi' ? d.nameHi : d.name;
  const rows: [string, string][] = [
    [t('counts.circles'), formatNumber(d.circles, lang)],
    [t('counts.divisions'), formatNumber(d.divisions, lang)],
    [t('counts.subdivisions'), formatNumber(d.subdivisions, lang)],
    [t('counts.connections'), formatNumber(d.connections, lang)],
    [t('counts.activeConnections'), formatNumber(d.activeConnections, lang)],
    [t('counts.connectionsDue'), formatNumber(d.connectionsDue, lang)],
    [t('counts.dues'), formatPaise(d.duesPaise, lang)],
    [t('counts.advance'), formatPaise(d.advancePaise, lang)],
  ];
  const headingId = `discom-${d.code}`;
  return (
    <article className="card" aria-labelledby={headingId}>
      <h3 id={headingId}>
        {d.code} <span className="muted">· {name}</span>
      </h3>
      <table className="figures">
        <caption className="visually-hidden">{t('counts.caption', { name: d.code })}</caption>
        <thead className="visually-hidden">
          <tr>
            <th scope="col">{t('counts.measure')}</th>
            <th scope="col">{t('counts.value')}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map(([label, value]) => (
            <tr key={label}>
              <th scope="row">{label}</th>
              <td className="num">{value}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p>
        <Link to={`/discoms/${d.code}`}>{t('home.viewDiscom', { name: d.code })}</Link>
      </p>
    </article>
  );
}

export function Home() {
  const { t, i18n } = useTranslation();
  const [overview, retry] = useApi<Overview>('/api/v1/overview');
  const lang = i18n.language;
  return (
    <>
      <h1>{t('home.title')}</h1>
      <p className="lead">{t('home.intro')}</p>
      <Async value={overview} retry={retry}>
        {(o) => (
          <>
            <section aria-labelledby="discoms-heading">
              <h2 id="discoms-heading">{t('home.discoms')}</h2>
              {o.discoms.length === 0 ? (
                <p className="empty">{t('home.noDiscoms')}</p>
              ) : (
                <div className="cards">
                  {o.discoms.map((d) => (
                    <DiscomCard key={d.code} d={d} />
                  ))}
                </div>
              )}
              <p className="muted" data-testid="last-synced">
                {o.billing.lastSyncedAt ? t('home.lastSynced', { when: formatDateTime(o.billing.lastSyncedAt, lang) }) : t('home.neverSynced')}
              </p>
            </section>
            <section aria-labelledby="orgs-heading">
              <h2 id="orgs-heading">{t('home.organisations')}</h2>
              {o.organisations.total === 0 ? (
                <p className="empty">{t('home.noOrganisations')}</p>
              ) : (
                <ul className="org-types">
                  {ORG_TYPES.map((type) => (
                    <li key={type}>
                      <span className="big">{formatNumber(o.organisations.byType[type] ?? 0, lang)}</span> {t(`orgType.${type}`)}
                    </li>
                  ))}
                  <li>
                    <span className="big">{formatNumber(o.organisations.total, lang)}</span> {t('orgType.total')}
                  </li>
                </ul>
              )}
            </section>
          </>
        )}
      </Async>
    </>
  );
}

import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import type { Organisation } from '../api';
import { Async } from '../components';
import { formatDateTime } from '../format';
import { hasRole } from '../session';
import { useSession } from '../session';
import { useApi } from '../useApi';

/** The organisation's own page: its profile and what its admin can manage. */
export function OrgHome() {
  const { t, i18n } = useTranslation();
  const { session } = useSession();
  const [org, retry] = useApi<Organisation>('/api/v1/org');
  const admin = hasRole(session, 'org_admin');
  return (
    <Async value={org} retry={retry}>
      {(o) => (
        <>
          <h1>{i18n.language === 'hi' && o.nameHi ? o.nameHi : o.name}</h1>
          <p className="muted">
            {t(`orgType1.${o.type}`)} · {t(`orgStatus.${o.status}`)} · {t('org.registered', { when: formatDateTime(o.createdAt, i18n.language) })}
          </p>
          <dl className="policy">
            {o.departmentCode && (
              <>
                <dt>{t('register.departmentCode')}</dt>
                <dd>{o.departmentCode}</dd>
              </>
            )}
            {o.pan && (
              <>
                <dt>{t('register.pan')}</dt>
                <dd>{o.pan}</dd>
              </>
            )}
            {o.gstin && (
              <>
                <dt>{t('register.gstin')}</dt>
                <dd>{o.gstin}</dd>
              </>
            )}
            {o.tan && (
              <>
                <dt>{t('register.tan')}</dt>
                <dd>{o.tan}</dd>
              </>
            )}
            <dt>{t('register.address')}</dt>
            <dd>{o.address}</dd>
            <dt>{t('register.email')}</dt>
            <dd>{o.email}</dd>
            <dt>{t('org.users')}</dt>
            <dd>{o.users}</dd>
          </dl>
          <ul className="link-cards">
            <li>
              <Link to="/org/dues">{t('nav.dues')}</Link>
              <p>{t('org.duesText')}</p>
            </li>
            <li>
              <Link to="/payments">{t('nav.payments')}</Link>
              <p>{t('org.paymentsText')}</p>
            </li>
            <li>
              <Link to="/org/alerts">{t('nav.alerts')}</Link>
              <p>{t('org.alertsText')}</p>
            </li>
          </ul>
          {admin && (
            <ul className="link-cards">
              <li>
                <Link to="/org/users">{t('nav.users')}</Link>
                <p>{t('org.usersText')}</p>
              </li>
              <li>
                <Link to="/org/offices">{t('nav.offices')}</Link>
                <p>{t('org.officesText')}</p>
              </li>
              <li>
                <Link to="/org/api-keys">{t('nav.apiKeys')}</Link>
                <p>{t('org.apiKeysText')}</p>
              </li>
            </ul>
          )}
        </>
      )}
    </Async>
  );
}

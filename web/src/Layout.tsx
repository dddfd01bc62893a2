import { useTranslation } from 'react-i18next';
import { NavLink, Outlet, useNavigate } from 'react-router';
import { send } from './api';
import { hasRole, isDiscom, useSession } from './session';
import { useApi } from './useApi';

interface Meta {
  demo: boolean;
  demoData: boolean;
  sandboxGateway: boolean;
  sandboxBank: boolean;
  devTools: boolean;
}

/** On every page of a demo: no real money moves here, and what stands in for it. */
function DemoBand() {
  const { t, i18n } = useTranslation();
  const [meta] = useApi<Meta>('/api/v1/meta');
  if (meta.state !== 'ready' || !meta.data.demo) return null;
  const m = meta.data;
  const parts = [m.demoData && t('demo.data'), m.sandboxGateway && t('demo.gateway'), m.sandboxBank && t('demo.bank')].filter((x): x is string => !!x);
  const list = new Intl.ListFormat(i18n.language === 'hi' ? 'hi-IN' : 'en-IN', { type: 'conjunction' }).format(parts);
  return (
    <aside className="demo-band" aria-label={t('demo.label')}>
      <strong>{t('demo.title')}</strong> {parts.length > 0 && <span>{t('demo.because', { what: list })}</span>}
    </aside>
  );
}

const DISCOMS = ['NBPDCL', 'SBPDCL'];

export function Layout() {
  const { t, i18n } = useTranslation();
  const { session, refresh } = useSession();
  const navigate = useNavigate();
  const other = i18n.language === 'hi' ? 'en' : 'hi';
  const user = session?.stage === 'full' ? session.user : undefined;
  const logout = async () => {
    try {
      await send('POST', '/api/v1/auth/logout');
    } finally {
      await refresh();
      await navigate('/');
    }
  };
  return (
    <>
      <a className="skip" href="#main">
        {t('app.skip')}
      </a>
      <DemoBand />
      <header className="site-header">
        <div className="brand">
          <img src="/favicon.svg" alt="" width="32" height="32" />
          <div>
            <p className="brand-name">{t('app.name')}</p>
            <p className="brand-tagline">{t('app.tagline')}</p>
          </div>
        </div>
        <nav aria-label={t('nav.label')}>
          <ul>
            <li>
              <NavLink to="/" end>
                {t('nav.home')}
              </NavLink>
            </li>
            {!user &&
              DISCOMS.map((code) => (
                <li key={code}>
                  <NavLink to={`/discoms/${code}`}>{code}</NavLink>
                </li>
              ))}
            {user?.org && (
              <li>
                <NavLink to="/org" end>
                  {t('nav.organisation')}
                </NavLink>
              </li>
            )}
            {user?.org && (
              <li>
                <NavLink to="/org/dues">{t('nav.dues')}</NavLink>
              </li>
            )}
            {user?.org && (
              <li>
                <NavLink to="/payments">{t('nav.payments')}</NavLink>
              </li>
            )}
            {user?.org && (
              <li>
                <NavLink to="/org/connections">{t('nav.connections')}</NavLink>
              </li>
            )}
            {hasRole(session, 'org_admin') && (
              <>
                <li>
                  <NavLink to="/org/users">{t('nav.users')}</NavLink>
                </li>
                <li>
                  <NavLink to="/org/offices">{t('nav.offices')}</NavLink>
                </li>
                <li>
                  <NavLink to="/org/api-keys">{t('nav.apiKeys')}</NavLink>
                </li>
              </>
            )}
            {isDiscom(session) && hasRole(session, 'collection_officer', 'discom_admin', 'auditor') && (
              <>
                <li>
                  <NavLink to="/discom/organisations">{t('nav.approvals')}</NavLink>
                </li>
                <li>
                  <NavLink to="/discom/tag-requests">{t('nav.tagRequests')}</NavLink>
                </li>
              </>
            )}
            {isDiscom(session) && (
              <li>
                <NavLink to="/discom/collections">{t('nav.collections')}</NavLink>
              </li>
            )}
            {isDiscom(session) && (
              <li>
                <NavLink to="/discom/postings">{t('nav.postings')}</NavLink>
              </li>
            )}
            {isDiscom(session) && (
              <li>
                <NavLink to="/discom/recon">{t('nav.recon')}</NavLink>
              </li>
            )}
            {hasRole(session, 'discom_admin', 'auditor') && (
              <>
                <li>
                  <NavLink to="/discom/users">{t('nav.staff')}</NavLink>
                </li>
                <li>
                  <NavLink to="/discom/audit">{t('nav.audit')}</NavLink>
                </li>
              </>
            )}
            <li>
              <a href="/api/docs">{t('nav.apiDocs')}</a>
            </li>
          </ul>
        </nav>
        <div className="header-actions">
          {user ? (
            <>
              <NavLink to="/account" className="who">
                {user.name}
                {user.org === null && <span className="who-scope"> · {user.holding ? 'BSPHCL' : (user.discom?.code ?? '')}</span>}
              </NavLink>
              <button type="button" className="header-button" onClick={() => void logout()}>
                {t('nav.logout')}
              </button>
            </>
          ) : (
            <NavLink to="/login" className="header-button">
              {t('nav.login')}
            </NavLink>
          )}
          <button type="button" className="header-button" lang={other} aria-label={t('app.switchToLabel')} onClick={() => void i18n.changeLanguage(other)}>
            {t('app.switchTo')}
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <Outlet />
      </main>
      <footer className="site-footer">
        <p>{t('footer.times')}</p>
        <p>{t('footer.openSource')}</p>
      </footer>
    </>
  );
}

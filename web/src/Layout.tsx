import { useTranslation } from 'react-i18next';
import { NavLink, Outlet } from 'react-router';

const DISCOMS = ['NBPDCL', 'SBPDCL'];

export function Layout() {
  const { t, i18n } = useTranslation();
  const other = i18n.language === 'hi' ? 'en' : 'hi';
  return (
    <>
      <a className="skip" href="#main">
        {t('app.skip')}
      </a>
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
            {DISCOMS.map((code) => (
              <li key={code}>
                <NavLink to={`/discoms/${code}`}>{code}</NavLink>
              </li>
            ))}
            <li>
              <a href="/api/docs">{t('nav.apiDocs')}</a>
            </li>
          </ul>
        </nav>
        <button
          type="button"
          className="lang-switch"
          lang={other}
          aria-label={t('app.switchToLabel')}
          onClick={() => void i18n.changeLanguage(other)}
        >
          {t('app.switchTo')}
        </button>
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

import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, Navigate, useLocation } from 'react-router';
import { Loading } from './components';
import { useSession } from './session';

/** Shows the page to a logged-in user with one of the roles; sends others to log in, or says no. */
export function RequireLogin({ roles, children }: { roles?: string[]; children: ReactNode }) {
  const { session } = useSession();
  const { t } = useTranslation();
  const location = useLocation();
  if (!session) return <Loading />;
  if (!session.authenticated || session.stage !== 'full') return <Navigate to="/login" replace state={{ from: location.pathname }} />;
  if (roles && !roles.includes(session.user!.role)) {
    return (
      <>
        <h1>{t('state.forbidden')}</h1>
        <p>{t('state.forbiddenText')}</p>
        <p>
          <Link to="/">{t('state.goHome')}</Link>
        </p>
      </>
    );
  }
  return <>{children}</>;
}

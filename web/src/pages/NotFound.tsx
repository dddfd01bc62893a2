import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';

export function NotFound() {
  const { t } = useTranslation();
  return (
    <>
      <h1>{t('state.notFound')}</h1>
      <p>{t('state.notFoundText')}</p>
      <p>
        <Link to="/">{t('state.goHome')}</Link>
      </p>
    </>
  );
}

import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError, type Office } from './api';
import type { Loadable } from './useApi';

export function Loading() {
  const { t } = useTranslation();
  return (
    <p className="state" role="status" aria-live="polite">
      {t('state.loading')}
    </p>
  );
}

export function LoadError({ error, onRetry }: { error: unknown; onRetry: () => void }) {
  const { t, i18n } = useTranslation();
  const body = error instanceof ApiError ? error.body : null;
  const message = body ? body.error.message[i18n.language === 'hi' ? 'hi' : 'en'] : null;
  return (
    <div className="state state-error" role="alert">
      <p>{t('state.error')}</p>
      {message && <p>{message}</p>}
      {body && body.error.details.length > 0 && (
        <ul>
          {body.error.details.map((d, i) => (
            <li key={i}>
              <code>{d.path.split('.').pop()}</code> {d.message[i18n.language === 'hi' ? 'hi' : 'en']}
            </li>
          ))}
        </ul>
      )}
      {body && <p className="muted">{t('state.requestId', { id: body.error.requestId })}</p>}
      <button type="button" onClick={onRetry}>
        {t('state.retry')}
      </button>
    </div>
  );
}

/** Shows loading and error states, then the content. */
export function Async<T>({ value, retry, children }: { value: Loadable<T>; retry: () => void; children: (data: T) => ReactNode }) {
  if (value.state === 'loading') return <Loading />;
  if (value.state === 'error') return <LoadError error={value.error} onRetry={retry} />;
  return <>{children(value.data)}</>;
}

/** A table that may scroll sideways: focusable and named, so keyboard users can scroll it too. */
export function TableWrap({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="table-wrap" tabIndex={0} role="region" aria-label={label}>
      {children}
    </div>
  );
}

/** An organisation's offices as select options, indented by depth (none until they have loaded). */
export function OfficeOptions({ offices }: { offices: readonly Office[] | null }) {
  return (
    <>
      {offices?.map((o) => (
        <option key={o.id} value={o.id}>
          {'\u00a0'.repeat(o.depth * 2)}
          {o.name} ({o.code})
        </option>
      ))}
    </>
  );
}

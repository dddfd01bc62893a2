import { useId, type InputHTMLAttributes, type ReactNode, type SelectHTMLAttributes } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError } from './api';

/** Field errors from an API error: 'body.admin.loginId' → 'admin.loginId'. */
export function fieldErrors(error: unknown, lang: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  if (!(error instanceof ApiError) || !error.body) return out;
  for (const d of error.body.error.details) {
    const key = d.path.replace(/^body\.?/, '') || '_';
    (out[key] ??= []).push(lang === 'hi' ? d.message.hi : d.message.en);
  }
  return out;
}

/**
 * The error's own message (not its field details), in the current language. `messages` replaces
 * the server's message for some error codes (words that fit the page); `allDetails` lists every
 * detail, for errors about a file rather than a form's fields; `title` comes first.
 */
export function FormError({ error, messages, allDetails, title }: { error: unknown; messages?: Partial<Record<string, string>>; allDetails?: boolean; title?: string }) {
  const { t, i18n } = useTranslation();
  if (!error) return null;
  const body = error instanceof ApiError ? error.body : null;
  const msg = (body && messages?.[body.error.code]) ?? (body ? body.error.message[i18n.language === 'hi' ? 'hi' : 'en'] : t('state.error'));
  const general = body?.error.details.filter((d) => allDetails || d.path === 'body' || d.path === '') ?? [];
  return (
    <div className="state state-error" role="alert">
      {title && <p className="state-title">{title}</p>}
      <p>{msg}</p>
      {general.map((d, i) => (
        <p key={i}>{d.message[i18n.language === 'hi' ? 'hi' : 'en']}</p>
      ))}
      {body && <p className="muted">{t('state.requestId', { id: body.error.requestId })}</p>}
    </div>
  );
}

type FieldProps = {
  label: string;
  name: string;
  errors?: Record<string, string[]>;
  hint?: string;
} & InputHTMLAttributes<HTMLInputElement>;

export function Field({ label, name, errors, hint, ...input }: FieldProps) {
  const id = useId();
  const errs = errors?.[name] ?? [];
  const describedBy = [hint ? `${id}-hint` : null, errs.length ? `${id}-err` : null].filter(Boolean).join(' ') || undefined;
  return (
    <div className={`field${errs.length ? ' has-error' : ''}`}>
      <label htmlFor={id}>{label}</label>
      {hint && (
        <p id={`${id}-hint`} className="hint">
          {hint}
        </p>
      )}
      <input id={id} name={name} aria-invalid={errs.length ? true : undefined} aria-describedby={describedBy} {...input} />
      {errs.length > 0 && (
        <p id={`${id}-err`} className="field-error">
          {errs.join('; ')}
        </p>
      )}
    </div>
  );
}

type SelectProps = {
  label: string;
  name: string;
  errors?: Record<string, string[]>;
  hint?: string;
  children: ReactNode;
} & SelectHTMLAttributes<HTMLSelectElement>;

export function SelectField({ label, name, errors, hint, children, ...select }: SelectProps) {
  const id = useId();
  const errs = errors?.[name] ?? [];
  const describedBy = [hint ? `${id}-hint` : null, errs.length ? `${id}-err` : null].filter(Boolean).join(' ') || undefined;
  return (
    <div className={`field${errs.length ? ' has-error' : ''}`}>
      <label htmlFor={id}>{label}</label>
      {hint && (
        <p id={`${id}-hint`} className="hint">
          {hint}
        </p>
      )}
      <select id={id} name={name} aria-invalid={errs.length ? true : undefined} aria-describedby={describedBy} {...select}>
        {children}
      </select>
      {errs.length > 0 && (
        <p id={`${id}-err`} className="field-error">
          {errs.join('; ')}
        </p>
      )}
    </div>
  );
}

/** Reads a form's named fields as strings. */
export function formValues(form: HTMLFormElement): Record<string, string> {
  return Object.fromEntries([...new FormData(form).entries()].map(([k, v]) => [k, typeof v === 'string' ? v : v.name]));
}

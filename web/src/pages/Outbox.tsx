import { useTranslation } from 'react-i18next';
import { Async } from '../components';
import { formatDateTime } from '../format';
import { useApi } from '../useApi';

interface Message {
  id: string;
  channel: string;
  recipient: string;
  subject: string | null;
  body: string;
  purpose: string;
  status: string;
  createdAt: string;
}

/** Developer page of a demo install: messages the notifier kept, and current authenticator codes. */
export function Outbox() {
  const { t } = useTranslation();
  const [meta] = useApi<{ devTools: boolean }>('/api/v1/meta');
  if (meta.state !== 'ready') return <h1>{t('outbox.title')}</h1>;
  if (!meta.data.devTools) {
    return (
      <>
        <h1>{t('outbox.title')}</h1>
        <p className="state">{t('outbox.off')}</p>
      </>
    );
  }
  return <OutboxPages />;
}

function OutboxPages() {
  const { t, i18n } = useTranslation();
  const [outbox, reload] = useApi<{ messages: Message[] }>('/api/v1/dev/outbox');
  const [codes, reloadCodes] = useApi<{ validForSeconds: number; codes: { loginId: string; code: string }[] }>('/api/v1/dev/authenticator');
  return (
    <>
      <h1>{t('outbox.title')}</h1>
      <p className="state state-warn">{t('outbox.warning')}</p>
      <section aria-labelledby="codes-heading">
        <h2 id="codes-heading">{t('outbox.authenticator')}</h2>
        <Async value={codes} retry={reloadCodes}>
          {(d) => (
            <>
              <p className="muted">{t('outbox.validFor', { seconds: d.validForSeconds })}</p>
              <ul className="codes">
                {d.codes.map((c) => (
                  <li key={c.loginId}>
                    {c.loginId}: <code data-login={c.loginId}>{c.code}</code>
                  </li>
                ))}
              </ul>
              <button type="button" onClick={reloadCodes}>
                {t('outbox.refresh')}
              </button>
            </>
          )}
        </Async>
      </section>
      <section aria-labelledby="msgs-heading">
        <h2 id="msgs-heading">{t('outbox.messages')}</h2>
        <button type="button" onClick={reload}>
          {t('outbox.refresh')}
        </button>
        <Async value={outbox} retry={reload}>
          {(d) =>
            d.messages.length === 0 ? (
              <p className="empty">{t('outbox.none')}</p>
            ) : (
              <ol className="messages">
                {d.messages.map((m) => (
                  <li key={m.id} className="card">
                    <p className="muted">
                      {formatDateTime(m.createdAt, i18n.language)} · {m.channel.toUpperCase()} → {m.recipient} · {m.purpose} · {m.status}
                    </p>
                    {m.subject && <p>{m.subject}</p>}
                    <pre>{m.body}</pre>
                  </li>
                ))}
              </ol>
            )
          }
        </Async>
      </section>
    </>
  );
}

import type { TFunction } from 'i18next';
import { useTranslation } from 'react-i18next';
import { useParams } from 'react-router';
import type { DiscomDetail } from '../api';
import { Async } from '../components';
import { formatBp, formatPaise } from '../format';
import { useApi } from '../useApi';

/** '^[0-9]{9,11}$' reads as '9 to 11 digits'; any other pattern is shown as it is. */
function digitsRule(pattern: string, t: TFunction): string | null {
  const m = /^\^\[0-9\]\{(\d+),(\d+)\}\$$/.exec(pattern);
  return m ? t('discom.consumerNoDigits', { min: m[1], max: m[2] }) : null;
}

export function Discom() {
  const { code = '' } = useParams();
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const [detail, retry] = useApi<DiscomDetail>(`/api/v1/discoms/${encodeURIComponent(code)}`);
  const local = (x: { name: string; nameHi: string }) => (lang === 'hi' ? x.nameHi : x.name);
  return (
    <Async value={detail} retry={retry}>
      {(d) => (
        <>
          <h1>
            {d.code} <span className="muted">· {local(d)}</span>
          </h1>
          <section aria-labelledby="policy-heading">
            <h2 id="policy-heading">{t('discom.policy')}</h2>
            <dl className="policy">
              <dt>{t('discom.rebateDueDate')}</dt>
              <dd>{formatBp(d.policy.rebateDueDateBp, lang)}</dd>
              <dt>{t('discom.rebateOnline')}</dt>
              <dd>{formatBp(d.policy.rebateOnlineBp, lang)}</dd>
              <dt>{t('discom.rebateMax')}</dt>
              <dd>{formatBp(d.policy.rebateMaxBp, lang)}</dd>
              <dt>{t('discom.dps')}</dt>
              <dd>{t('discom.perMonth', { rate: formatBp(d.policy.dpsMonthlyBp, lang) })}</dd>
              <dt>{t('discom.partPayment')}</dt>
              <dd>{d.policy.partPaymentAllowed ? t('discom.allowed') : t('discom.notAllowed')}</dd>
              <dt>{t('discom.minPayment')}</dt>
              <dd>{formatPaise(d.policy.minPaymentPaise, lang)}</dd>
              <dt>{t('discom.consumerNo')}</dt>
              <dd>
                {digitsRule(d.consumerNoPattern, t) ?? (
                  <>
                    {t('discom.consumerNoPattern')} <code>{d.consumerNoPattern}</code>
                  </>
                )}
              </dd>
            </dl>
          </section>
          <section aria-labelledby="hierarchy-heading">
            <h2 id="hierarchy-heading">{t('discom.hierarchy')}</h2>
            {d.circles.map((c) => (
              <details key={c.code} className="circle">
                <summary>{t('discom.circleSummary', { name: local(c), divisions: c.divisions.length })}</summary>
                <ul>
                  {c.divisions.map((v) => (
                    <li key={v.code}>
                      {t('discom.division', { name: local(v), code: v.code })}
                      <ul>
                        {v.subdivisions.map((s) => (
                          <li key={s.code}>{t('discom.subdivision', { name: local(s), code: s.code })}</li>
                        ))}
                      </ul>
                    </li>
                  ))}
                </ul>
              </details>
            ))}
          </section>
        </>
      )}
    </Async>
  );
}

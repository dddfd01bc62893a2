import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import type { Challan, ChallanCredit } from '../api';
import { TableWrap } from '../components';
import { formatDateTime, formatNumber, formatPaise } from '../format';
import { paiseToRupees } from '../money';
import { groupVa } from '../recon';

/** The bank the demo's collection accounts are kept at: its challans can be paid on /sandbox/bank. */
export const SANDBOX_BANK_NAME = 'Sangrahan Sandbox Bank';

/** What became of a credit, in words the payer can act on. */
export function creditOutcome(c: ChallanCredit, t: (k: string) => string): string | null {
  const x = c.exception;
  if (x?.status === 'resolved' && x.resolution) return t(`resolution.${x.resolution}`);
  if (c.status === 'held' && x) {
    const key = ['unknown_va', 'no_candidate', 'several_candidates'].includes(x.reason) ? 'unmatched' : x.reason;
    return t(`creditHeld.${key}`);
  }
  return null;
}

/**
 * A batch's RTGS/NEFT challan: where to transfer the exact amount and by when, the challan to
 * print (English or Hindi), the bank's bulk-payment file, and the credits received for it.
 */
export function ChallanPanel({ challan: c, backTo }: { challan: Challan; backTo: string }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const base = `/api/v1/org/payments/batches/${c.batchId}`;
  const sandbox = c.bankName === SANDBOX_BANK_NAME && c.status === 'active';
  const sandboxLink = `/sandbox/bank?${new URLSearchParams({ va: c.vaNumber, amount: paiseToRupees(c.amountPaise), back: backTo, ref: c.batchReference }).toString()}`;
  return (
    <section className={`card challan challan-${c.status}`} aria-labelledby="challan-h">
      <h2 id="challan-h">{t('challan.title')}</h2>
      {c.status === 'active' && <p>{t('challan.intro')}</p>}
      <h3>{c.status === 'active' ? t('challan.details') : t('challan.detailsDone')}</h3>
      <dl className="policy challan-details">
        <dt>{t('challan.beneficiary')}</dt>
        <dd>{c.beneficiaryName}</dd>
        <dt>{t('challan.va')}</dt>
        <dd>
          {/* Grouped for reading; copied without the gaps (they are spacing, not spaces). */}
          <code className="va" data-testid="challan-va">
            {groupVa(c.vaNumber).map((g, i) => (
              <span key={i}>{g}</span>
            ))}
          </code>
        </dd>
        <dt>{t('challan.ifsc')}</dt>
        <dd>
          <code>{c.ifsc}</code>
        </dd>
        <dt>{t('challan.bank')}</dt>
        <dd>{c.bankName}</dd>
        <dt>{t('challan.amount')}</dt>
        <dd className="challan-amount" data-testid="challan-amount">
          {formatPaise(c.amountPaise, lang)}
        </dd>
        <dt>{t('challan.validUntil')}</dt>
        <dd>{formatDateTime(c.validUntil, lang)}</dd>
        <dt>{t('challan.status')}</dt>
        <dd>
          <span className={`badge cstatus cstatus-${c.status}`}>{t(`challanStatus.${c.status}`)}</span>
        </dd>
        {c.extensions > 0 && (
          <>
            <dt>{t('challan.extensions')}</dt>
            <dd>{formatNumber(c.extensions, lang)}</dd>
          </>
        )}
        {c.paidAt && (
          <>
            <dt>{t('challan.paidAt')}</dt>
            <dd>{formatDateTime(c.paidAt, lang)}</dd>
          </>
        )}
      </dl>

      <h3 id="challan-docs-h">{t('challan.downloads')}</h3>
      <p className="actions">
        <a className="button secondary" href={`${base}/challan.pdf?lang=en`} download>
          {t('challan.pdfEn')}
        </a>
        <a className="button secondary" href={`${base}/challan.pdf?lang=hi`} download>
          {t('challan.pdfHi')}
        </a>
        {c.status === 'active' && (
          <a className="button secondary" href={`${base}/challan-bulk.csv`} download aria-describedby="challan-bulk-hint">
            {t('challan.bulk')}
          </a>
        )}
      </p>
      {c.status === 'active' && (
        <p id="challan-bulk-hint" className="muted">
          {t('challan.bulkHint')}
        </p>
      )}
      {sandbox && (
        <p className="sandbox-link">
          <Link to={sandboxLink} aria-describedby="challan-sandbox-hint">
            {t('challan.sandbox')}
          </Link>{' '}
          <span id="challan-sandbox-hint" className="muted">
            {t('challan.sandboxHint')}
          </span>
        </p>
      )}

      <h3 id="challan-credits-h">{t('challan.credits')}</h3>
      {c.credits.length === 0 ? (
        <p className="empty">{t('challan.noCredits')}</p>
      ) : (
        <TableWrap label={t('challan.credits')}>
          <table className="data">
            <thead>
              <tr>
                <th scope="col">{t('challan.utr')}</th>
                <th scope="col" className="num">
                  {t('payment.amount')}
                </th>
                <th scope="col">{t('challan.creditedAt')}</th>
                <th scope="col">{t('challan.mode')}</th>
                <th scope="col">{t('challan.creditStatus')}</th>
              </tr>
            </thead>
            <tbody>
              {c.credits.map((x, i) => {
                const words = creditOutcome(x, t);
                return (
                  <tr key={x.utr ?? i} className={x.status === 'held' ? 'row-held' : undefined}>
                    <th scope="row">
                      <code>{x.utr ?? '—'}</code>
                    </th>
                    <td className="num nowrap">{formatPaise(x.amountPaise, lang)}</td>
                    <td className="nowrap">{formatDateTime(x.creditedAt, lang)}</td>
                    <td>{x.mode ?? '—'}</td>
                    <td>
                      <span className={`badge credit-${x.status}`}>{t(`creditStatus.${x.status}`)}</span>
                      {words && <span className={`block ${x.status === 'held' ? 'held-reason' : 'muted'}`}>{words}</span>}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </TableWrap>
      )}
    </section>
  );
}

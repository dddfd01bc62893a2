import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import {
  sendFileWithProgress,
  send,
  type BankStatement,
  type DailyReport as Daily,
  type GatewaySettlement,
  type SettlementImport,
  type ReconAction,
  type ReconException,
  type ReconExceptions,
  type ResolveResult,
  type StatementImport,
  type StatementImportQueued,
  type StatementImportState,
  followStatementImport,
  type StatementLine,
} from '../api';
import { Async, LoadError, Loading, TableWrap } from '../components';
import { Field, FormError, SelectField, fieldErrors } from '../forms';
import { formatDate, formatDateTime, formatMoney, formatNumber, formatPaise } from '../format';
import { isDay, istToday } from '../collections';
import { batchIdOf, exceptionDetail, formatAge, lineReason } from '../recon';
import { useDiscoms } from '../discoms';
import { hasRole, isHolding, useSession } from '../session';
import { useApi, useLiveApi } from '../useApi';

const REASONS = [
  'amount_short', 'amount_excess', 'challan_expired', 'unknown_va', 'duplicate_credit', 'several_candidates', 'no_candidate', 'not_settled',
  'short_capture', 'unknown_order', 'utr_amount_mismatch',
] as const;
/** Actions whose audit entry must say why (the server refuses them without a note). */
const NOTE_REQUIRED: readonly ReconAction[] = ['refund', 'assign', 'settled', 'acknowledge'];
const PAGE = 50;
const LINE_STATUSES = ['matched', 'exception', 'new', 'not_applicable'] as const;
const COUNT_KEYS = ['confirmed', 'known', 'settlements', 'newCredits', 'waiting', 'exceptions', 'notApplicable', 'contradictions', 'review'] as const;
const OPEN_ITEMS_SHOWN = 20;
/** Where the sandbox gateway pays its settlements (the demo's online collections account, src/modules/demo/seed.ts). */
const SANDBOX_ONLINE_ACCOUNT = '50200011110001';

/**
 * The discom's reconciliation: the exception queue (credits the portal could not apply by itself,
 * each with only the actions that fit it), bank statement import with its results and lines, the
 * gateway's settlement reports, and the daily reconciliation report. A discom's staff see their
 * discom's; the holding company's staff see both discoms', and alone the gateway's settlements
 * (one payout pays both discoms).
 */
export function Recon() {
  const { t } = useTranslation();
  const { session } = useSession();
  const canAct = hasRole(session, 'accounts', 'discom_admin');
  const holding = isHolding(session);
  const discom = session?.user?.discom?.code ?? null;
  // Bumped by an import or a resolution: both lists fetch again (an import can add exceptions).
  const [version, setVersion] = useState(0);
  const bump = () => setVersion((v) => v + 1);
  return (
    <>
      <h1>{t('recon.title')}</h1>
      <p className="lead">{t('recon.intro')}</p>
      <nav className="in-page" aria-labelledby="in-page-h">
        <p id="in-page-h">{t('recon.onThisPage')}</p>
        <ul>
          <li>
            <a href="#exceptions-h">{t('recon.exceptions')}</a>
          </li>
          <li>
            <a href="#statements-h">{t('statements.title')}</a>
          </li>
          <li>
            <a href="#settlements-h">{t('recon.settlements')}</a>
          </li>
          <li>
            <a href="#daily-h">{t('recon.daily')}</a>
          </li>
        </ul>
      </nav>
      <p className="muted" data-testid="recon-scope">
        {holding ? t('scope.seeingBoth') : t('scope.seeingOwn', { discom: discom ?? '' })}
      </p>
      {!canAct && <p className="state state-warn">{t('recon.readOnly')}</p>}
      <Exceptions canAct={canAct} version={version} onChange={bump} />
      <Statements canAct={canAct} version={version} onChange={bump} />
      {holding ? <Settlements canAct={canAct} version={version} onChange={bump} /> : <SettlementsHoldingOnly />}
      <DailyReport version={version} holding={holding} />
    </>
  );
}

function Exceptions({ canAct, version, onChange }: { canAct: boolean; version: number; onChange: () => void }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const [status, setStatus] = useState<'open' | 'resolved'>('open');
  const [cursors, setCursors] = useState<string[]>([]);
  const [opened, setOpened] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const before = cursors[cursors.length - 1];
  const q = new URLSearchParams({ status, limit: String(PAGE), ...(before ? { before } : {}) });
  const list = useLiveApi<ReconExceptions>(`/api/v1/discom/recon/exceptions?${q.toString()}`, version);
  const data = list.value.state === 'ready' ? list.value.data : null;
  const show = (s: 'open' | 'resolved') => {
    setStatus(s);
    setCursors([]);
    setOpened(null);
  };
  const resolved = (x: ReconException, r: ResolveResult) => {
    setOpened(null);
    setNotice(t(`recon.outcome.${r.outcome}`, { id: x.id, newId: r.newExceptionId ?? '' }));
    onChange();
  };
  const cols = 7;

  return (
    <section aria-labelledby="exceptions-h">
      <h2 id="exceptions-h" tabIndex={-1}>
        {t('recon.exceptions')}
      </h2>
      <p className="muted">{t('recon.exceptionsIntro')}</p>
      <p role="status" aria-live="polite" className={notice ? 'state state-ok' : 'visually-hidden'}>
        {notice}
      </p>
      {list.value.state === 'loading' && <Loading />}
      {list.value.state === 'error' && <LoadError error={list.value.error} onRetry={list.reload} />}
      {data && (
        <>
          <ul className="figures-grid reason-counts" aria-label={t('recon.countsLabel')}>
            {REASONS.filter((r) => (data.counts[r] ?? 0) > 0).map((r) => (
              <li key={r}>
                <span className="label">{t(`reconReason.${r}`)}</span>
                <span className="big">{formatNumber(data.counts[r] ?? 0, lang)}</span>
              </li>
            ))}
            {Object.values(data.counts).every((n) => !n) && (
              <li className="zero">
                <span className="label">{t('recon.open')}</span>
                <span className="big">{formatNumber(0, lang)}</span>
              </li>
            )}
          </ul>
          <div className="tabs" role="group" aria-label={t('recon.filterLabel')}>
            {(['open', 'resolved'] as const).map((s) => (
              <button key={s} type="button" aria-pressed={status === s} onClick={() => show(s)}>
                {t(`recon.${s}`)}
              </button>
            ))}
          </div>
          {data.items.length === 0 ? (
            <p className="empty">{status === 'open' ? t('recon.noneOpen') : t('recon.noneResolved')}</p>
          ) : (
            <TableWrap label={t('recon.tableLabel')}>
              <table className="data exceptions">
                <thead>
                  <tr>
                    <th scope="col">{t('recon.reason')}</th>
                    <th scope="col" className="num">
                      {t('recon.amount')}
                    </th>
                    <th scope="col">{t('recon.credit')}</th>
                    <th scope="col">{t('recon.payment')}</th>
                    <th scope="col">{t('recon.detail')}</th>
                    <th scope="col">{t('recon.waiting')}</th>
                    <th scope="col" className="outcome-col">
                      {status === 'open' ? t('recon.action') : t('recon.outcomeCol')}
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {data.items.map((x) => (
                    <ExceptionRow key={x.id} x={x} canAct={canAct} open={opened === x.id} onToggle={() => setOpened(opened === x.id ? null : x.id)} onResolved={resolved} cols={cols} />
                  ))}
                </tbody>
              </table>
            </TableWrap>
          )}
          {(cursors.length > 0 || data.next) && (
            <nav className="pager" aria-label={t('recon.tableLabel')}>
              <button type="button" disabled={!cursors.length} onClick={() => setCursors((c) => c.slice(0, -1))}>
                {t('statements.previous')}
              </button>
              <span className="muted">{t('statements.pageNo', { page: formatNumber(cursors.length + 1, lang) })}</span>
              <button type="button" disabled={!data.next} onClick={() => data.next && setCursors((c) => [...c, data.next!])}>
                {t('statements.next')}
              </button>
            </nav>
          )}
        </>
      )}
    </section>
  );
}

function ExceptionRow({ x, canAct, open, onToggle, onResolved, cols }: { x: ReconException; canAct: boolean; open: boolean; onToggle: () => void; onResolved: (x: ReconException, r: ResolveResult) => void; cols: number }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const reason = t(`reconReason.${x.reason}`, { defaultValue: x.reason });
  const amount = formatPaise(x.amountPaise, lang);
  const formId = `resolve-${x.id}`;
  return (
    <>
      <tr>
        <th scope="row">
          {reason}
          <span className="block muted small">#{x.id}</span>
        </th>
        <td className="num nowrap">{amount}</td>
        <td>
          {x.utr ? <code>{x.utr}</code> : '—'}
          {x.vaNumber && <span className="block muted small">{t('recon.vaOf', { va: x.vaNumber })}</span>}
          {x.payerName && <span className="block muted small">{t('recon.payerOf', { payer: x.payerName })}</span>}
        </td>
        <td>
          {x.organisation ?? '—'}
          {x.batchReference &&
            (x.batchId ? (
              <Link className="block small" to={`/discom/recon/batches/${x.batchId}`}>
                {x.batchReference}
              </Link>
            ) : (
              <span className="block muted small">{x.batchReference}</span>
            ))}
          {x.gatewayPaymentId && <span className="block muted small">{x.gatewayPaymentId}</span>}
        </td>
        <td className="detail">{exceptionDetail(x, lang, t)}</td>
        <td className="nowrap">
          {formatAge(x.createdAt, lang)}
          <span className="block muted small">{formatDateTime(x.createdAt, lang)}</span>
        </td>
        <td>
          {x.status === 'resolved' ? (
            <>
              {x.resolution ? t(`resolution.${x.resolution}`, { defaultValue: x.resolution }) : '—'}
              {x.resolvedBy && x.resolvedAt && <span className="block muted small">{t('recon.resolvedBy', { name: x.resolvedBy, at: formatDateTime(x.resolvedAt, lang) })}</span>}
              {x.note && <span className="block small">{x.note}</span>}
            </>
          ) : canAct && x.actions.length > 0 ? (
            <button type="button" className="small-button" aria-expanded={open} aria-controls={open ? formId : undefined} aria-label={t('recon.resolveFor', { id: x.id, reason, amount })} onClick={onToggle}>
              {t('recon.resolve')}
            </button>
          ) : (
            '—'
          )}
        </td>
      </tr>
      {open && (
        <tr className="resolve-row">
          <td colSpan={cols} id={formId}>
            <ResolveForm x={x} reason={reason} amount={amount} onCancel={onToggle} onResolved={(r) => onResolved(x, r)} />
          </td>
        </tr>
      )}
    </>
  );
}

function ResolveForm({ x, reason, amount, onCancel, onResolved }: { x: ReconException; reason: string; amount: string; onCancel: () => void; onResolved: (r: ResolveResult) => void }) {
  const { t, i18n } = useTranslation();
  const [action, setAction] = useState<ReconAction | null>(x.actions.length === 1 ? x.actions[0]! : null);
  const [batch, setBatch] = useState('');
  const [note, setNote] = useState('');
  const [errs, setErrs] = useState<Record<string, string[]>>({});
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const noteNeeded = action !== null && NOTE_REQUIRED.includes(action);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const found: Record<string, string[]> = {};
    const batchId = batchIdOf(batch);
    if (!action) found.action = [t('recon.chooseAction')];
    if (action === 'assign' && !batchId) found.batchId = [t('recon.batchInvalid')];
    if (noteNeeded && !note.trim()) found.note = [t('recon.noteRequired')];
    setErrs(found);
    setError(null);
    if (Object.keys(found).length || !action) return;
    setBusy(true);
    send<ResolveResult>('POST', `/api/v1/discom/recon/exceptions/${x.id}/resolve`, {
      action,
      ...(action === 'assign' && batchId ? { batchId } : {}),
      ...(note.trim() ? { note: note.trim() } : {}),
    })
      .then(onResolved, (err: unknown) => {
        setError(err);
        setBusy(false);
      });
  };

  const errors = { ...fieldErrors(error, i18n.language), ...errs };
  const legendId = `action-legend-${x.id}`;
  return (
    <form className="resolve-form" onSubmit={submit} noValidate aria-labelledby={`resolve-title-${x.id}`}>
      <h3 id={`resolve-title-${x.id}`}>{t('recon.formTitle', { reason, amount })}</h3>
      <fieldset aria-describedby={errors.action ? `action-err-${x.id}` : undefined}>
        <legend id={legendId}>{t('recon.actionLegend')}</legend>
        {x.actions.map((a) => (
          <label key={a} className="choice">
            <input type="radio" name={`action-${x.id}`} value={a} checked={action === a} onChange={() => setAction(a)} aria-describedby={`hint-${x.id}-${a}`} />
            <span>{t(`reconAction.${a}`)}</span>
            <span id={`hint-${x.id}-${a}`} className="hint">
              {t(`reconActionHint.${a}`)}
            </span>
          </label>
        ))}
        {errors.action && (
          <p id={`action-err-${x.id}`} className="field-error">
            {errors.action.join('; ')}
          </p>
        )}
      </fieldset>
      <div>
        {action === 'assign' && (
          <Field label={t('recon.batch')} hint={t('recon.batchHint')} name="batchId" value={batch} onChange={(e) => setBatch(e.target.value)} autoComplete="off" maxLength={20} errors={errors} />
        )}
        <Field label={noteNeeded ? t('recon.note') : t('recon.noteOptional')} name="note" value={note} onChange={(e) => setNote(e.target.value)} maxLength={500} required={noteNeeded} errors={errors} />
      </div>
      <div className="actions">
        <button type="submit" className="primary" disabled={busy}>
          {busy ? t('recon.working') : t('recon.submit')}
        </button>
        <button type="button" onClick={onCancel} disabled={busy}>
          {t('recon.cancel')}
        </button>
      </div>
      <div className="span-all">
        <FormError error={error} />
      </div>
    </form>
  );
}

function Statements({ canAct, version, onChange }: { canAct: boolean; version: number; onChange: () => void }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const list = useLiveApi<{ items: BankStatement[] }>('/api/v1/discom/recon/statements', version);
  const [shown, setShown] = useState<BankStatement | null>(null);
  return (
    <section aria-labelledby="statements-h">
      <h2 id="statements-h" tabIndex={-1}>
        {t('statements.title')}
      </h2>
      <p className="muted">{t('statements.intro')}</p>
      {canAct && <ImportForm onImported={onChange} />}
      <h3 id="statement-list-h">{t('statements.list')}</h3>
      <Async value={list.value} retry={list.reload}>
        {(d) =>
          d.items.length === 0 ? (
            <p className="empty">{t('statements.none')}</p>
          ) : (
            <TableWrap label={t('statements.tableLabel')}>
              <table className="data">
                <thead>
                  <tr>
                    <th scope="col">{t('statements.reference')}</th>
                    <th scope="col">{t('statements.importedAt')}</th>
                    <th scope="col">{t('statements.accountCol')}</th>
                    <th scope="col">{t('statements.period')}</th>
                    <th scope="col" className="num">
                      {t('statements.credits')}
                    </th>
                    <th scope="col" className="num">
                      {t('statements.lines')}
                    </th>
                    <th scope="col">{t('statements.byStatus')}</th>
                    <th scope="col">
                      <span className="visually-hidden">{t('statements.showLines')}</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {d.items.map((s) => (
                    <tr key={s.id}>
                      <th scope="row" className="statement-ref">
                        <code>{s.statementRef}</code>
                        <span className="block muted small file-name">{s.fileName}</span>
                        <span className="block muted small">{t(`statements.${s.format}`, { defaultValue: s.format })}</span>
                      </th>
                      <td>{formatDateTime(s.importedAt, lang)}</td>
                      <td>
                        <code>{s.account}</code>
                      </td>
                      <td>
                        {s.openingDate && s.openingDate === s.closingDate ? (
                          <span className="nowrap">{formatDate(s.openingDate, lang)}</span>
                        ) : (
                          <>
                            <span className="nowrap">{s.openingDate ? formatDate(s.openingDate, lang) : '—'} –</span>{' '}
                            <span className="nowrap">{s.closingDate ? formatDate(s.closingDate, lang) : '—'}</span>
                          </>
                        )}
                      </td>
                      <td className="num nowrap">{formatMoney(s.creditsPaise, s.currency, lang)}</td>
                      <td className="num">{formatNumber(s.lineCount, lang)}</td>
                      <td>
                        <ul className="line-counts">
                          {LINE_STATUSES.filter((k) => (s.lines[k] ?? 0) > 0).map((k) => (
                            <li key={k}>
                              <span className={`badge nowrap line-${k}`}>
                                {t(`lineStatus.${k}`)}: {formatNumber(s.lines[k] ?? 0, lang)}
                              </span>
                            </li>
                          ))}
                          {s.review > 0 && (
                            <li>
                              <span className="badge nowrap line-exception">{t('statements.reviewCount', { n: formatNumber(s.review, lang) })}</span>
                            </li>
                          )}
                        </ul>
                      </td>
                      <td>
                        <button
                          type="button"
                          className="small-button nowrap"
                          aria-expanded={shown?.id === s.id}
                          aria-controls={shown?.id === s.id ? 'statement-lines' : undefined}
                          aria-label={t('statements.showLinesOf', { ref: s.statementRef })}
                          onClick={() => setShown(shown?.id === s.id ? null : s)}
                        >
                          {shown?.id === s.id ? t('statements.hideLines') : t('statements.showLines')}
                        </button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableWrap>
          )
        }
      </Async>
      {shown && <Lines key={`${shown.id}:${version}`} statement={shown} />}
    </section>
  );
}

function ImportForm({ onImported }: { onImported: () => void }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const [format, setFormat] = useState<'' | 'mt940' | 'camt053' | 'csv'>('');
  const [account, setAccount] = useState('');
  const [errs, setErrs] = useState<Record<string, string[]>>({});
  const [progress, setProgress] = useState<number | null | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [result, setResult] = useState<StatementImport | null>(null);
  const [background, setBackground] = useState<StatementImportState | null>(null);
  const busy = progress !== undefined;

  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const file = (e.currentTarget.elements.namedItem('file') as HTMLInputElement).files?.[0];
    const found: Record<string, string[]> = {};
    if (!file) found.file = [t('statements.chooseFile')];
    if (format === 'csv' && !account.trim()) found.account = [t('statements.accountRequired')];
    setErrs(found);
    setError(null);
    setResult(null);
    if (!file || Object.keys(found).length) return;
    const q = new URLSearchParams({ fileName: file.name });
    if (format) q.set('format', format);
    if (format === 'csv') q.set('account', account.trim());
    setProgress(0);
    setBackground(null);
    sendFileWithProgress<StatementImport | StatementImportQueued>(`/api/v1/discom/recon/statements?${q.toString()}`, file, setProgress)
      // A large file is imported in the background: followed here until it ends.
      .then((r) => ('importId' in r ? followStatementImport(r, setBackground) : r))
      .then((r) => {
        setResult(r);
        onImported();
      }, setError)
      .finally(() => {
        setProgress(undefined);
        setBackground(null);
      });
  };

  // Validation errors name query fields ('query.account') or the file.
  const apiErrs = Object.fromEntries(Object.entries(fieldErrors(error, lang)).map(([k, v]) => [k.replace(/^query\./, ''), v]));
  const errors = { ...apiErrs, ...errs };
  const uploaded = progress !== undefined && progress !== null && progress >= 1;
  return (
    <>
      <form className="import-form" onSubmit={submit} noValidate aria-labelledby="import-h">
        <h3 id="import-h" className="span-all">
          {t('statements.importTitle')}
        </h3>
        <Field label={t('statements.file')} hint={t('statements.fileHint')} name="file" type="file" accept=".sta,.txt,.940,.mt940,.xml,.csv" errors={errs} />
        <SelectField label={t('statements.format')} name="format" value={format} onChange={(e) => setFormat(e.target.value as typeof format)}>
          <option value="">{t('statements.auto')}</option>
          <option value="mt940">{t('statements.mt940')}</option>
          <option value="camt053">{t('statements.camt053')}</option>
          <option value="csv">{t('statements.csv')}</option>
        </SelectField>
        {format === 'csv' && (
          <Field label={t('statements.account')} hint={t('statements.accountHint')} name="account" value={account} onChange={(e) => setAccount(e.target.value)} inputMode="numeric" autoComplete="off" maxLength={35} errors={errors} />
        )}
        <div className="actions">
          <button type="submit" className="primary" disabled={busy}>
            {t('statements.upload')}
          </button>
          {busy && (
            <>
              <progress aria-label={t('statements.progress')} max={1} value={progress ?? undefined} />
              <span role="status">
                {background ? t(background.status === 'queued' ? 'statements.backgroundQueued' : 'statements.backgroundRunning') : uploaded ? t('statements.processing') : t('statements.uploading')}
              </span>
            </>
          )}
        </div>
      </form>
      <FormError error={error} allDetails title={t('statements.rejected')} />
      <div role="status" aria-live="polite">
        {result && <ImportResult result={result} />}
      </div>
    </>
  );
}

function ImportResult({ result }: { result: StatementImport }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const n = (x: number) => formatNumber(x, lang);
  return (
    <section className="card result-card import-result" aria-labelledby="import-result-h" data-testid="import-result">
      <h3 id="import-result-h">{t('statements.result')}</h3>
      {result.statements.map((s, i) => (
        <div key={`${s.account}:${s.statementRef}:${i}`}>
          <h4>{t('statements.statementOf', { ref: s.statementRef, account: s.account })}</h4>
          {s.duplicate ? (
            <p className="state state-warn">{t('statements.duplicate')}</p>
          ) : (
            <dl className="counts-list">
              <dt>{t('statements.linesRead')}</dt>
              <dd>{n(s.lines)}</dd>
              {COUNT_KEYS.map((k) => (
                <div key={k} className="contents">
                  <dt>{t(`statements.counts.${k}`)}</dt>
                  <dd>{n(s.counts[k])}</dd>
                </div>
              ))}
            </dl>
          )}
        </div>
      ))}
      <p>{t('statements.resultTotals', { applied: n(result.applied), held: n(result.held), waiting: n(result.waiting) })}</p>
    </section>
  );
}

function Lines({ statement }: { statement: BankStatement }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const [cursors, setCursors] = useState<number[]>([]);
  const after = cursors[cursors.length - 1];
  const lines = useLiveApi<{ items: StatementLine[]; next: number | null }>(`/api/v1/discom/recon/statements/${statement.id}/lines${after ? `?after=${after}` : ''}`, 0);
  const pages = Math.max(1, Math.ceil(statement.lineCount / 100));
  return (
    <section id="statement-lines" className="lines">
      <h3 id="lines-h">{t('statements.linesOf', { ref: statement.statementRef })}</h3>
      <Async value={lines.value} retry={lines.reload}>
        {(d) =>
          d.items.length === 0 ? (
            <p className="empty">{t('statements.noLines')}</p>
          ) : (
            <>
              <TableWrap label={t('statements.linesOf', { ref: statement.statementRef })}>
                <table className="data">
                  <thead>
                    <tr>
                      <th scope="col" className="num">
                        {t('statements.lineNo')}
                      </th>
                      <th scope="col">{t('statements.valueDate')}</th>
                      <th scope="col">{t('statements.direction')}</th>
                      <th scope="col" className="num">
                        {t('recon.amount')}
                      </th>
                      <th scope="col">{t('recon.utr')}</th>
                      <th scope="col">{t('statements.narrative')}</th>
                      <th scope="col">{t('statements.status')}</th>
                      <th scope="col">{t('statements.why')}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {d.items.map((l) => (
                      <tr key={l.lineNo}>
                        <th scope="row" className="num">
                          {formatNumber(l.lineNo, lang)}
                        </th>
                        <td className="nowrap">{formatDate(l.valueDate, lang)}</td>
                        <td>{t(`direction.${l.direction}`)}</td>
                        <td className="num nowrap">{formatMoney(l.amountPaise, l.currency, lang)}</td>
                        <td>
                          {l.utr ? <code>{l.utr}</code> : '—'}
                          {l.vaNumber && <span className="block muted small">{t('recon.vaOf', { va: l.vaNumber })}</span>}
                        </td>
                        <td className="detail">{l.narrative ?? '—'}</td>
                        <td>
                          <span className={`badge line-${l.status}`}>{t(`lineStatus.${l.status}`)}</span>
                          {l.review && (
                            <span className="block">
                              <span className="badge line-exception">{t('statements.review')}</span>{' '}
                              <span className="small">{t('statements.reviewDate', { asSent: l.dateAsSent ?? '?', date: formatDate(l.valueDate, lang) })}</span>
                            </span>
                          )}
                        </td>
                        <td>
                          {lineReason(l.reason, t)}
                          {l.creditStatus && <span className="block muted small">{t(`creditStatus.${l.creditStatus}`, { defaultValue: l.creditStatus })}</span>}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </TableWrap>
              {pages > 1 && (
                <nav className="pager" aria-label={t('statements.pages')}>
                  <button type="button" disabled={!cursors.length} onClick={() => setCursors((c) => c.slice(0, -1))}>
                    {t('statements.previous')}
                  </button>
                  <span className="muted">{t('payment.pageOf', { page: formatNumber(cursors.length + 1, lang), pages: formatNumber(pages, lang) })}</span>
                  <button type="button" disabled={d.next === null} onClick={() => d.next !== null && setCursors((c) => [...c, d.next!])}>
                    {t('statements.next')}
                  </button>
                </nav>
              )}
            </>
          )
        }
      </Async>
    </section>
  );
}

/** Whether this portal runs the sandbox gateway and bank (the install says so at /api/v1/meta). */
function useSandboxGateway(): boolean {
  const [meta] = useApi<{ sandboxGateway: boolean; sandboxBank: boolean }>('/api/v1/meta');
  return meta.state === 'ready' && meta.data.sandboxGateway && meta.data.sandboxBank;
}

/** A discom's staff: gateway settlements are the holding company's (one payout pays both discoms). */
function SettlementsHoldingOnly() {
  const { t } = useTranslation();
  return (
    <section aria-labelledby="settlements-h">
      <h2 id="settlements-h" tabIndex={-1}>
        {t('settlements.title')}
      </h2>
      <p className="muted">{t('settlements.holdingOnly')}</p>
    </section>
  );
}

function Settlements({ canAct, version, onChange }: { canAct: boolean; version: number; onChange: () => void }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const sandbox = useSandboxGateway();
  const list = useLiveApi<{ items: GatewaySettlement[] }>('/api/v1/discom/recon/settlements', version);
  return (
    <section aria-labelledby="settlements-h">
      <h2 id="settlements-h" tabIndex={-1}>
        {t('settlements.title')}
      </h2>
      <p className="muted">{t('settlements.intro')}</p>
      {sandbox && <SandboxGateway canAct={canAct} />}
      {canAct && <SettlementImportForm onImported={onChange} />}
      <h3 id="settlement-list-h">{t('settlements.list')}</h3>
      <Async value={list.value} retry={list.reload}>
        {(d) =>
          d.items.length === 0 ? (
            <p className="empty">{t('settlements.none')}</p>
          ) : (
            <TableWrap label={t('settlements.list')}>
              <table className="data">
                <thead>
                  <tr>
                    <th scope="col">{t('settlements.settlement')}</th>
                    <th scope="col">{t('settlements.settledAt')}</th>
                    <th scope="col" className="num">
                      {t('settlements.payments')}
                    </th>
                    <th scope="col" className="num">
                      {t('settlements.net')}
                    </th>
                    <th scope="col" className="num">
                      {t('daily.fees')}
                    </th>
                    <th scope="col">{t('settlements.inBank')}</th>
                  </tr>
                </thead>
                <tbody>
                  {d.items.map((x) => (
                    <tr key={x.id}>
                      <th scope="row">
                        <code className="ref">{x.id}</code>
                        {x.utr && (
                          <span className="block muted small">
                            {t('settlements.utr')} <code className="ref">{x.utr}</code>
                          </span>
                        )}
                      </th>
                      <td className="nowrap">{x.settledAt ? formatDateTime(x.settledAt, lang) : '—'}</td>
                      <td className="num">{formatNumber(x.payments, lang)}</td>
                      <td className="num nowrap">{formatPaise(x.amountPaise, lang)}</td>
                      <td className="num nowrap">{formatPaise((BigInt(x.feesPaise) + BigInt(x.taxPaise)).toString(), lang)}</td>
                      <td>
                        <InBank yes={x.inStatement} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableWrap>
          )
        }
      </Async>
    </section>
  );
}

function InBank({ yes }: { yes: boolean }) {
  const { t } = useTranslation();
  return <span className={`badge nowrap ${yes ? 'line-matched' : 'line-new'}`}>{yes ? t('settlements.yes') : t('settlements.notYet')}</span>;
}

/** For testers: the sandbox gateway's report, and a settlement made now instead of T+2. */
function SandboxGateway({ canAct }: { canAct: boolean }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const day = 86_400_000;
  const report = `/sandbox/razorpay/settlements/report?${new URLSearchParams({ from: new Date(Date.now() - 30 * day).toISOString(), to: new Date(Date.now() + day).toISOString() }).toString()}`;
  const settle = () => {
    setBusy(true);
    setNotice(null);
    setError(null);
    send<{ settlement: { id: string; utr: string; amountPaise: string; payments: number } | null }>('POST', '/sandbox/razorpay/settlements', {})
      .then(
        (r) =>
          setNotice(
            r.settlement
              ? t('settlements.settled', { id: r.settlement.id, amount: formatPaise(r.settlement.amountPaise, lang), count: r.settlement.payments, n: formatNumber(r.settlement.payments, lang) })
              : t('settlements.nothingToSettle'),
          ),
        setError,
      )
      .finally(() => setBusy(false));
  };
  return (
    <div className="card sandbox-card">
      <h3 className="sandbox-banner">
        <span className="badge">{t('sandboxBank.badge')}</span> {t('settlements.sandboxTitle')}
      </h3>
      <p>{t('settlements.sandboxText', { account: SANDBOX_ONLINE_ACCOUNT })}</p>
      <div className="actions">
        {canAct && (
          <button type="button" onClick={settle} disabled={busy}>
            {busy ? t('settlements.settling') : t('settlements.settleNow')}
          </button>
        )}
        <a className="button secondary" href={report} download>
          {t('settlements.reportLink')}
        </a>
        <Link to="/sandbox/bank">{t('settlements.bankLink')}</Link>
      </div>
      <p role="status" aria-live="polite" className={notice ? 'state state-ok' : 'visually-hidden'}>
        {notice}
      </p>
      <FormError error={error} />
    </div>
  );
}

function SettlementImportForm({ onImported }: { onImported: () => void }) {
  const { t } = useTranslation();
  const [errs, setErrs] = useState<Record<string, string[]>>({});
  const [progress, setProgress] = useState<number | null | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [result, setResult] = useState<SettlementImport | null>(null);
  const busy = progress !== undefined;

  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const file = (e.currentTarget.elements.namedItem('file') as HTMLInputElement).files?.[0];
    setErrs(file ? {} : { file: [t('settlements.chooseFile')] });
    setError(null);
    setResult(null);
    if (!file) return;
    setProgress(0);
    sendFileWithProgress<SettlementImport>(`/api/v1/discom/recon/settlements?${new URLSearchParams({ fileName: file.name }).toString()}`, file, setProgress, 'text/csv')
      .then((r) => {
        setResult(r);
        onImported();
      }, setError)
      .finally(() => setProgress(undefined));
  };

  const uploaded = progress !== undefined && progress !== null && progress >= 1;
  return (
    <>
      <form className="import-form" onSubmit={submit} noValidate aria-labelledby="settlement-import-h">
        <h3 id="settlement-import-h" className="span-all">
          {t('settlements.importTitle')}
        </h3>
        <Field label={t('settlements.file')} hint={t('settlements.fileHint')} name="file" type="file" accept=".csv,text/csv" errors={errs} />
        <div className="actions">
          <button type="submit" className="primary" disabled={busy}>
            {t('settlements.upload')}
          </button>
          {busy && (
            <>
              <progress aria-label={t('statements.progress')} max={1} value={progress ?? undefined} />
              <span role="status">{uploaded ? t('settlements.processing') : t('statements.uploading')}</span>
            </>
          )}
        </div>
      </form>
      <FormError error={error} allDetails title={t('settlements.rejected')} />
      <div role="status" aria-live="polite">
        {result && <SettlementResult result={result} />}
      </div>
    </>
  );
}

function SettlementResult({ result }: { result: SettlementImport }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const n = (x: number) => formatNumber(x, lang);
  return (
    <section className="card result-card import-result" aria-labelledby="settlement-result-h" data-testid="settlement-result">
      <h3 id="settlement-result-h">{t('settlements.result')}</h3>
      {result.duplicate && <p className="state state-warn">{t('settlements.duplicate')}</p>}
      <dl className="counts-list">
        <dt>{t('settlements.rows')}</dt>
        <dd>{n(result.rows)}</dd>
        <dt>{t('settlements.matched')}</dt>
        <dd>{n(result.matched)}</dd>
        <dt>{t('settlements.unknownCount')}</dt>
        <dd>{n(result.unknown.length)}</dd>
      </dl>
      {result.unknown.length > 0 && (
        <>
          <p>{t('settlements.unknownList')}</p>
          <ul className="line-counts">
            {result.unknown.map((u) => (
              <li key={u}>
                <code className="ref">{u}</code>
              </li>
            ))}
          </ul>
        </>
      )}
      {result.settlements.length > 0 && (
        <TableWrap label={t('settlements.inReport')}>
          <table className="data">
            <thead>
              <tr>
                <th scope="col">{t('settlements.settlement')}</th>
                <th scope="col" className="num">
                  {t('settlements.payments')}
                </th>
                <th scope="col" className="num">
                  {t('settlements.net')}
                </th>
                <th scope="col" className="num">
                  {t('settlements.fee')}
                </th>
                <th scope="col" className="num">
                  {t('settlements.tax')}
                </th>
                <th scope="col">{t('settlements.recorded')}</th>
                <th scope="col">{t('settlements.inBank')}</th>
              </tr>
            </thead>
            <tbody>
              {result.settlements.map((x) => (
                <tr key={x.id}>
                  <th scope="row">
                    <code className="ref">{x.id}</code>
                    {x.utr && (
                      <span className="block muted small">
                        {t('settlements.utr')} <code className="ref">{x.utr}</code>
                      </span>
                    )}
                  </th>
                  <td className="num">{n(x.payments)}</td>
                  <td className="num nowrap">{formatPaise(x.amountPaise, lang)}</td>
                  <td className="num nowrap">{formatPaise(x.feesPaise, lang)}</td>
                  <td className="num nowrap">{formatPaise(x.taxPaise, lang)}</td>
                  <td>{x.new ? t('settlements.isNew') : t('settlements.already')}</td>
                  <td>
                    <InBank yes={x.bankMatched} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      )}
      {result.settlements.some((x) => !x.bankMatched) && <p className="muted">{t('settlements.bankHint')}</p>}
    </section>
  );
}

/** One IST day's reconciliation, with its PDF (either language) and XLSX; fetched again after an import or a resolution. */
function DailyReport({ version, holding }: { version: number; holding: boolean }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const today = istToday();
  const discoms = useDiscoms();
  const [day, setDay] = useState(today);
  const [shown, setShown] = useState(today);
  // The holding company's staff may look at one discom (default both).
  const [discom, setDiscom] = useState('');
  const [shownDiscom, setShownDiscom] = useState('');
  const [errs, setErrs] = useState<Record<string, string[]>>({});
  const report = useLiveApi<Daily>(`/api/v1/discom/recon/daily?${new URLSearchParams({ day: shown, ...(shownDiscom ? { discom: shownDiscom } : {}) }).toString()}`, version);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const err = !isDay(day) ? t('daily.dayInvalid') : day > istToday() ? t('daily.future') : null;
    setErrs(err ? { day: [err] } : {});
    if (!err) {
      setShown(day);
      setShownDiscom(discom);
    }
  };
  const doc = (ext: 'pdf' | 'xlsx', l?: 'en' | 'hi') => `/api/v1/discom/recon/daily.${ext}?${new URLSearchParams({ day: shown, ...(l ? { lang: l } : {}), ...(shownDiscom ? { discom: shownDiscom } : {}) }).toString()}`;
  return (
    <section aria-labelledby="daily-h">
      <h2 id="daily-h" tabIndex={-1}>
        {t('daily.title')}
      </h2>
      <p className="muted">{t('daily.intro')}</p>
      <form className="grid-form day-form" onSubmit={submit} noValidate>
        <Field label={t('daily.day')} name="day" type="date" max={today} value={day} onChange={(e) => setDay(e.target.value)} errors={errs} />
        {holding && (
          <SelectField label={t('scope.filter')} name="discom" value={discom} onChange={(e) => setDiscom(e.target.value)}>
            <option value="">{t('scope.both')}</option>
            {discoms.map((d) => (
              <option key={d.code} value={d.code}>
                {d.code}
              </option>
            ))}
          </SelectField>
        )}
        <div className="actions">
          <button type="submit" className="primary">
            {t('daily.show')}
          </button>
        </div>
      </form>
      <h3 id="daily-of-h">{t('daily.reportOf', { day: formatDate(shown, lang) })}</h3>
      <div className="actions" role="group" aria-label={t('daily.downloads')}>
        <a className="button secondary" href={doc('pdf', 'en')} download>
          {t('daily.pdfEn')}
        </a>
        <a className="button secondary" href={doc('pdf', 'hi')} download>
          {t('daily.pdfHi')}
        </a>
        <a className="button secondary" href={doc('xlsx')} download>
          {t('daily.xlsx')}
        </a>
      </div>
      {report.value.state === 'loading' && <Loading />}
      {report.value.state === 'error' && <LoadError error={report.value.error} onRetry={report.reload} />}
      {report.value.state === 'ready' && <DailyBody r={report.value.data} />}
    </section>
  );
}

function DailyBody({ r }: { r: Daily }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const n = (x: number) => formatNumber(x, lang);
  const [all, setAll] = useState(false);
  const items = all ? r.openItems : r.openItems.slice(0, OPEN_ITEMS_SHOWN);
  const s = r.settlements;
  return (
    <div data-testid="daily-report">
      <p className="muted">{r.discom ? t('scope.figuresOf', { discom: r.discom }) : t('scope.both')}</p>
      <div className="daily-grid">
        <DailyTable id="daily-received" title={t('daily.received')} rows={r.received.map((x) => ({ key: x.mode, label: t(x.mode === 'rtgs_neft' ? 'collections.rtgsNeft' : 'collections.online'), ...x }))} />
        <DailyTable id="daily-credits" title={t('daily.credits')} rows={r.credits.map((x) => ({ key: x.status, label: t(`daily.creditStatus.${x.status}`, { defaultValue: x.status }), ...x }))} />
        <div className="card">
          <h4 id="daily-settlements">{t('daily.settlements')}</h4>
          {!s ? (
            <p className="muted">{t('daily.settlementsHoldingOnly')}</p>
          ) : s.count === 0 ? (
            <p className="muted">{t('daily.none')}</p>
          ) : (
            <dl className="counts-list">
              <dt>{t('daily.settlementsCount')}</dt>
              <dd>{n(s.count)}</dd>
              <dt>{t('daily.netPaid')}</dt>
              <dd>{formatPaise(s.amountPaise, lang)}</dd>
              <dt>{t('daily.fees')}</dt>
              <dd>{formatPaise(s.feesPaise, lang)}</dd>
              <dt>{t('daily.inStatement')}</dt>
              <dd>{t('daily.inStatementOf', { n: n(s.inStatement), count: n(s.count) })}</dd>
            </dl>
          )}
        </div>
        <DailyTable id="daily-lines" title={t('daily.lines')} rows={r.statementLines.map((x) => ({ key: x.status, label: t(`lineStatus.${x.status}`, { defaultValue: x.status }), ...x }))} />
        <DailyTable id="daily-opened" title={t('daily.opened')} rows={r.exceptionsOpened.map((x) => ({ key: x.reason, label: t(`reconReason.${x.reason}`, { defaultValue: x.reason }), ...x }))} />
        <DailyTable id="daily-resolved" title={t('daily.resolved')} rows={r.exceptionsResolved.map((x) => ({ key: x.resolution, label: t(`resolution.${x.resolution}`, { defaultValue: x.resolution }), ...x }))} />
        <DailyTable id="daily-open" title={t('daily.openAtEnd')} rows={r.exceptionsOpen.map((x) => ({ key: x.reason, label: t(`reconReason.${x.reason}`, { defaultValue: x.reason }), ...x }))} />
        <DailyTable id="daily-postings" title={t('daily.postings')} rows={r.postings.map((x) => ({ key: x.status, label: t(`postingStatus.${x.status}`, { defaultValue: x.status }), ...x }))} />
      </div>
      <h4 id="open-items-h">{t('daily.openItems')}</h4>
      <p className="muted">{t('daily.openItemsText')}</p>
      {r.openItems.length === 0 ? (
        <p className="empty">{t('daily.noOpenItems')}</p>
      ) : (
        <>
          <TableWrap label={t('daily.openItems')}>
            <table className="data">
              <thead>
                <tr>
                  <th scope="col">{t('daily.item')}</th>
                  <th scope="col" className="num">
                    {t('daily.amount')}
                  </th>
                  <th scope="col">{t('recon.utr')}</th>
                  <th scope="col">{t('recon.payment')}</th>
                  <th scope="col">{t('daily.raised')}</th>
                </tr>
              </thead>
              <tbody>
                {items.map((x) => {
                  const batchId = x.reference ? batchIdOf(x.reference) : null;
                  return (
                    <tr key={x.id}>
                      <th scope="row">
                        {t(`reconReason.${x.reason}`, { defaultValue: x.reason })}
                        <span className="block muted small">#{x.id}</span>
                      </th>
                      <td className="num nowrap">{formatPaise(x.amountPaise, lang)}</td>
                      <td>{x.utr ? <code className="ref">{x.utr}</code> : '—'}</td>
                      <td>
                        {x.organisation ?? '—'}
                        {x.reference &&
                          (batchId ? (
                            <Link className="block small" to={`/discom/recon/batches/${batchId}`}>
                              {x.reference}
                            </Link>
                          ) : (
                            <span className="block muted small">{x.reference}</span>
                          ))}
                      </td>
                      <td className="nowrap">{formatDateTime(x.createdAt, lang)}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </TableWrap>
          {r.openItems.length > OPEN_ITEMS_SHOWN && (
            <button type="button" className="link show-more" onClick={() => setAll((a) => !a)} aria-expanded={all}>
              {all ? t('collections.showFewer') : t('collections.showAll', { count: r.openItems.length })}
            </button>
          )}
        </>
      )}
    </div>
  );
}

/** One small summary of the day: what, how many, how much, with a total; the heading names the table. */
function DailyTable({ id, title, rows }: { id: string; title: string; rows: { key: string; label: string; count: number; amountPaise: string }[] }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const total = rows.reduce((s, r) => ({ count: s.count + r.count, amount: s.amount + BigInt(r.amountPaise) }), { count: 0, amount: 0n });
  return (
    <div className="card">
      <h4 id={id}>{title}</h4>
      {rows.length === 0 ? (
        <p className="muted">{t('daily.none')}</p>
      ) : (
        <table className="figures" aria-labelledby={id}>
          <thead>
            <tr>
              <th scope="col">{t('daily.what')}</th>
              <th scope="col" className="num">
                {t('daily.count')}
              </th>
              <th scope="col" className="num">
                {t('daily.amount')}
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.key}>
                <th scope="row">{r.label}</th>
                <td className="num">{formatNumber(r.count, lang)}</td>
                <td className="num nowrap">{formatPaise(r.amountPaise, lang)}</td>
              </tr>
            ))}
            {rows.length > 1 && (
              <tr className="strong">
                <th scope="row">{t('daily.total')}</th>
                <td className="num">{formatNumber(total.count, lang)}</td>
                <td className="num nowrap">{formatPaise(total.amount, lang)}</td>
              </tr>
            )}
          </tbody>
        </table>
      )}
    </div>
  );
}

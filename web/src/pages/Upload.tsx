import { useEffect, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useParams } from 'react-router';
import { getJson, send, sendFile, type Office, type TagJob, type TagJobList, type TagJobRow } from '../api';
import { Async, OfficeOptions, TableWrap } from '../components';
import { Field, FormError, SelectField, formValues } from '../forms';
import { formatDateTime, formatNumber } from '../format';
import { useApi } from '../useApi';

const OUTCOMES = ['activate', 'request', 'untag', 'noop', 'conflict', 'error'] as const;

/** Mass tagging or untagging: choose a file, then follow its job. */
export function Upload() {
  const { t, i18n } = useTranslation();
  const navigate = useNavigate();
  const [kind, setKind] = useState<'tag' | 'untag'>('tag');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [offices] = useApi<{ offices: Office[] }>('/api/v1/org/offices');
  const [jobs, reloadJobs] = useApi<TagJobList>('/api/v1/org/tag-jobs');

  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = e.currentTarget;
    const file = (form.elements.namedItem('file') as HTMLInputElement).files?.[0];
    const v = formValues(form);
    if (!file) return setError(new Error(t('upload.chooseFile')));
    const q = new URLSearchParams({ kind, fileName: file.name });
    if (kind === 'untag') q.set('reason', v.reason ?? '');
    if (v.officeId) q.set('officeId', v.officeId);
    setBusy(true);
    setError(null);
    sendFile<TagJob>(`/api/v1/org/tag-jobs?${q.toString()}`, file)
      .then((job) => navigate(`/org/uploads/${job.id}`))
      .catch(setError)
      .finally(() => setBusy(false));
  };

  return (
    <>
      <h1>{t('upload.title')}</h1>
      <p>{t('upload.intro')}</p>
      {jobs.state === 'ready' && (
        <p className="muted" role="status">
          {t('upload.lookupsLeft', { left: formatNumber(jobs.data.lookups.remainingToday, i18n.language), perDay: formatNumber(jobs.data.lookups.perDay, i18n.language) })}
        </p>
      )}
      <FormError error={error} />
      <form className="narrow" onSubmit={submit} noValidate>
        <fieldset>
          <legend>{t('upload.kind')}</legend>
          <label className="check">
            <input type="radio" name="kind" checked={kind === 'tag'} onChange={() => setKind('tag')} /> {t('upload.kindTag')}
          </label>
          <label className="check">
            <input type="radio" name="kind" checked={kind === 'untag'} onChange={() => setKind('untag')} /> {t('upload.kindUntag')}
          </label>
        </fieldset>
        <Field label={t('upload.file')} name="file" type="file" accept=".csv,.txt,.tsv,.xlsx" hint={t('upload.fileHint')} required />
        {kind === 'untag' && <Field label={t('upload.reason')} name="reason" required maxLength={500} />}
        {kind === 'tag' && (
          <SelectField label={t('upload.defaultOffice')} name="officeId" defaultValue="">
            <option value="">{t('tag.myOffice')}</option>
            <OfficeOptions offices={offices.state === 'ready' ? offices.data.offices : null} />
          </SelectField>
        )}
        <button type="submit" className="primary" disabled={busy}>
          {t('upload.submit')}
        </button>
      </form>
      <section aria-labelledby="recent-uploads">
        <h2 id="recent-uploads">{t('upload.recent')}</h2>
        <Async value={jobs} retry={reloadJobs}>
          {(d) =>
            d.jobs.length === 0 ? (
              <p className="empty">{t('upload.none')}</p>
            ) : (
              <ul className="uploads">
                {d.jobs.map((j) => (
                  <li key={j.id}>
                    <Link to={`/org/uploads/${j.id}`}>{j.fileName}</Link> · {t(`upload.kinds.${j.kind}`)} · {t(`jobStatus.${j.status}`)} · {formatDateTime(j.createdAt, i18n.language)}
                  </li>
                ))}
              </ul>
            )
          }
        </Async>
      </section>
    </>
  );
}

/** One upload: progress while it is read and checked, then counts, problem rows and commit. */
export function UploadJob() {
  const { jobId = '' } = useParams();
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const [job, setJob] = useState<TagJob | null>(null);
  const [rows, setRows] = useState<TagJobRow[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const running = job && ['uploaded', 'validating', 'committing'].includes(job.status);

  useEffect(() => {
    let stop = false;
    const tick = async () => {
      try {
        const j = await getJson<TagJob>(`/api/v1/org/tag-jobs/${jobId}`);
        if (stop) return;
        setJob(j);
        if (['validated', 'committed'].includes(j.status)) {
          const r = await getJson<{ rows: TagJobRow[] }>(`/api/v1/org/tag-jobs/${jobId}/rows?outcome=problems&limit=200`);
          if (!stop) setRows(r.rows);
        }
        if (['uploaded', 'validating', 'committing'].includes(j.status)) setTimeout(() => void tick(), 1000);
      } catch (e) {
        if (!stop) setError(e);
      }
    };
    void tick();
    return () => {
      stop = true;
    };
  }, [jobId, job?.status === 'committing']);

  if (!job) return error ? <FormError error={error} /> : <p role="status">{t('state.loading')}</p>;
  const pct = job.rowsTotal ? Math.min(100, Math.round((job.rowsDone / job.rowsTotal) * 100)) : null;
  const problems = (job.counts.error ?? 0) + (job.counts.conflict ?? 0);
  return (
    <>
      <h1>{t('upload.jobTitle', { file: job.fileName })}</h1>
      <p className="muted">
        {t(`upload.kinds.${job.kind}`)} · {formatDateTime(job.createdAt, lang)}
      </p>
      <p>
        <strong>{t(`jobStatus.${job.status}`)}</strong>
      </p>
      {running && (
        <div className="progress-wrap">
          <progress max={100} value={job.status === 'committing' ? undefined : (pct ?? undefined)} aria-label={t('upload.progress')} />
          <p role="status" aria-live="polite">
            {job.status === 'committing' ? t('upload.committing') : t('upload.read', { done: formatNumber(job.rowsDone, lang), total: job.rowsTotal ? formatNumber(job.rowsTotal, lang) : '…' })}
          </p>
        </div>
      )}
      {job.status === 'failed' && (
        <div className="state state-error" role="alert">
          <p>{t('upload.failed')}</p>
          <p>{job.error}</p>
        </div>
      )}
      <FormError error={error} />
      {['validated', 'committed'].includes(job.status) && (
        <>
          <ul className="org-types" aria-label={t('upload.outcomes')}>
            {OUTCOMES.filter((o) => (job.counts[o] ?? 0) > 0 || o === 'error').map((o) => (
              <li key={o}>
                <span className="big">{formatNumber(job.counts[o] ?? 0, lang)}</span> {t(`outcome.${o}`)}
              </li>
            ))}
          </ul>
          <p className="muted">
            {t('upload.lookupsCharged', { charged: formatNumber(job.lookups.charged, lang), left: formatNumber(job.lookups.remainingToday, lang), perDay: formatNumber(job.lookups.perDay, lang) })}
          </p>
          {job.lookups.refused > 0 && (
            <p className="state state-error" role="alert">
              {t('upload.lookupsRefused', { rows: formatNumber(job.lookups.refused, lang) })}
            </p>
          )}
          {job.status === 'validated' && (
            <div className="actions">
              <button type="button" className="primary" onClick={() => void send<TagJob>('POST', `/api/v1/org/tag-jobs/${job.id}/commit`).then(setJob, setError)}>
                {t('upload.commit', { count: (job.counts.activate ?? 0) + (job.counts.request ?? 0) + (job.counts.untag ?? 0) })}
              </button>
              <button type="button" onClick={() => void send('POST', `/api/v1/org/tag-jobs/${job.id}/cancel`).then(() => setJob({ ...job, status: 'cancelled' }), setError)}>
                {t('upload.cancel')}
              </button>
            </div>
          )}
          {job.status === 'committed' && <p className="state state-ok">{t('upload.committed')}</p>}
          {problems > 0 && rows && (
            <section aria-labelledby="problem-rows">
              <h2 id="problem-rows">{t('upload.problems', { count: problems })}</h2>
              <p>
                <a href={`/api/v1/org/tag-jobs/${job.id}/problems.csv`} download>
                  {t('upload.download')}
                </a>
              </p>
              <TableWrap label={t('upload.problemsTable')}>
                <table className="data">
                  <thead>
                    <tr>
                      <th scope="col">{t('upload.line')}</th>
                      <th scope="col">{t('tag.consumerNo')}</th>
                      <th scope="col">{t('upload.problem')}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {rows.map((r) => (
                      <tr key={r.rowNo}>
                        <td>{r.rowNo}</td>
                        <td>
                          <code>{r.consumer ?? '—'}</code>
                        </td>
                        <td>{r.message ? r.message[lang === 'hi' ? 'hi' : 'en'] : r.problem}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </TableWrap>
            </section>
          )}
        </>
      )}
      <p>
        <Link to="/org/upload">{t('upload.another')}</Link>
      </p>
    </>
  );
}

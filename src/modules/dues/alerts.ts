import { sql, type Kysely } from 'kysely';
import { queueMessages, type Message } from '../../adapters/notifier/notifier.ts';
import type { DB } from '../../platform/db/schema.ts';
import { formatDate, formatNumber, formatPaise } from '../../shared/format.ts';
import { istDay } from './query.ts';

/**
 * The daily alerts: due-date reminders (a bill with money due within the office's reminder
 * days) and disconnection-risk alerts (money past its due date above the office's threshold,
 * or the configured default). One digest per office and channel goes to the office's users
 * (or, for an office without users, to the organisation-wide administrators).
 *
 * Exactly once: the run of a day is a row of alert_runs, and each alert a row of alerts_sent
 * keyed by (bill, reason), inserted with ON CONFLICT DO NOTHING in the same transaction as
 * the messages it causes. A second run the same day does nothing; a run on a later day skips
 * the bills already alerted for that reason; a run that fails leaves nothing behind.
 */

export interface AlertSettings {
  alertHourIst: number;
  riskThresholdPaise: bigint;
}

export interface AlertRunResult {
  ran: boolean;
  day: string;
  reason?: 'before_hour' | 'already_ran';
  alerts: number;
  offices: number;
  messages: number;
}

interface OfficeGroup {
  office_id: bigint;
  org_id: bigint;
  office_name: string;
  reason: 'due_reminder' | 'disconnection_risk';
  n: bigint;
  amount: bigint;
  first_due: string;
  top: string[];
  by_email: boolean;
  by_sms: boolean;
  reminder_days: number;
}

function istHour(now: Date): number {
  return Math.floor(((now.getUTCHours() * 60 + now.getUTCMinutes() + 330) % 1440) / 60);
}

export async function runDailyAlerts(db: Kysely<DB>, settings: AlertSettings, now: Date, opts: { force?: boolean } = {}): Promise<AlertRunResult> {
  const day = istDay(now);
  const none = { day, alerts: 0, offices: 0, messages: 0 };
  if (!opts.force && istHour(now) < settings.alertHourIst) return { ran: false, reason: 'before_hour', ...none };
  return db.transaction().execute(async (trx) => {
    const claimed = await trx.insertInto('alert_runs').values({ day }).onConflict((oc) => oc.column('day').doNothing()).returning('day').executeTakeFirst();
    if (!claimed) return { ran: false, reason: 'already_ran' as const, ...none };
    const { rows: groups } = await sql<OfficeGroup>`
      WITH held AS (
        SELECT d.*, coalesce(d.office_id, (SELECT h.id FROM offices h WHERE h.org_id = d.org_id AND h.parent_id IS NULL ORDER BY h.id LIMIT 1)) AS alert_office
          FROM connection_dues d
         WHERE d.org_id IS NOT NULL AND d.bill_id IS NOT NULL AND d.balance_paise > 0
      ), prefs AS (
        SELECT o.id AS office_id, coalesce(p.due_reminders, true) AS due_reminders, coalesce(p.reminder_days, 3) AS reminder_days,
               coalesce(p.disconnection_alerts, true) AS disconnection_alerts, coalesce(p.risk_threshold_paise, ${settings.riskThresholdPaise}::bigint) AS threshold,
               coalesce(p.by_email, true) AS by_email, coalesce(p.by_sms, false) AS by_sms
          FROM offices o LEFT JOIN alert_preferences p ON p.office_id = o.id
      ), due AS (
        SELECT h.bill_id, 'due_reminder' AS reason, h.alert_office, h.connection_id, h.org_id
          FROM held h JOIN prefs p ON p.office_id = h.alert_office
         WHERE p.due_reminders AND (p.by_email OR p.by_sms) AND h.due_date BETWEEN ${day}::date AND ${day}::date + p.reminder_days
        UNION ALL
        SELECT h.bill_id, 'disconnection_risk', h.alert_office, h.connection_id, h.org_id
          FROM held h JOIN prefs p ON p.office_id = h.alert_office
         WHERE p.disconnection_alerts AND (p.by_email OR p.by_sms) AND h.due_date < ${day}::date AND h.balance_paise > p.threshold
      ), sent AS (
        INSERT INTO alerts_sent (bill_id, reason, office_id, connection_id, org_id, run_day, message_count)
        SELECT bill_id, reason, alert_office, connection_id, org_id, ${day}::date, 0 FROM due
        ON CONFLICT (bill_id, reason) DO NOTHING
        RETURNING office_id, org_id, connection_id, reason
      )
      SELECT s.office_id, s.org_id, o.name AS office_name, s.reason, count(*) AS n, sum(d.balance_paise)::bigint AS amount,
             min(d.due_date)::text AS first_due, (array_agg(d.consumer_no ORDER BY d.balance_paise DESC))[1:5] AS top,
             p.by_email, p.by_sms, p.reminder_days
        FROM sent s JOIN connection_dues d ON d.connection_id = s.connection_id JOIN offices o ON o.id = s.office_id JOIN prefs p ON p.office_id = s.office_id
       GROUP BY s.office_id, s.org_id, o.name, s.reason, p.by_email, p.by_sms, p.reminder_days
       ORDER BY s.office_id, s.reason`.execute(trx);
    if (!groups.length) {
      await trx.updateTable('alert_runs').set({ finished_at: sql<Date>`now()`, alerts: 0, messages: 0 }).where('day', '=', day).execute();
      return { ran: true, ...none };
    }

    const officeIds = [...new Set(groups.map((g) => g.office_id))];
    const orgIds = [...new Set(groups.map((g) => g.org_id))];
    const users = await trx
      .selectFrom('users')
      .select(['id', 'org_id', 'office_id', 'role', 'email', 'mobile'])
      .where('status', '=', 'active')
      .where('org_id', 'in', orgIds)
      .where((eb) => eb.or([eb('office_id', 'in', officeIds), eb.and([eb('office_id', 'is', null), eb('role', '=', 'org_admin')])]))
      .execute();

    const messages: Message[] = [];
    const perOffice = new Map<bigint, number>();
    for (const officeId of officeIds) {
      const gs = groups.filter((g) => g.office_id === officeId);
      const g0 = gs[0]!;
      let to = users.filter((u) => u.office_id === officeId);
      if (!to.length) to = users.filter((u) => u.office_id === null && u.org_id === g0.org_id);
      const text = digest(gs, day);
      let n = 0;
      for (const u of to) {
        if (g0.by_email && u.email) {
          messages.push({ channel: 'email', recipient: u.email, subject: text.subject, body: text.body, purpose: 'dues_alert', orgId: g0.org_id, userId: u.id });
          n++;
        }
        if (g0.by_sms && u.mobile) {
          messages.push({ channel: 'sms', recipient: u.mobile, body: text.sms, purpose: 'dues_alert', orgId: g0.org_id, userId: u.id });
          n++;
        }
      }
      perOffice.set(officeId, n);
    }
    await queueMessages(trx, messages);
    // An office nobody would hear from is not marked as alerted: its bills are alerted on the
    // first day someone is there to receive them.
    const unheard = [...perOffice].filter(([, n]) => n === 0).map(([id]) => id.toString());
    if (unheard.length) await sql`DELETE FROM alerts_sent WHERE run_day = ${day}::date AND office_id = ANY(${unheard}::bigint[])`.execute(trx);
    await sql`
      UPDATE alerts_sent a SET message_count = v.n
        FROM unnest(${[...perOffice.keys()].map(String)}::bigint[], ${[...perOffice.values()]}::int[]) AS v(office_id, n)
       WHERE a.run_day = ${day}::date AND a.office_id = v.office_id`.execute(trx);
    const alerts = groups.filter((g) => perOffice.get(g.office_id)! > 0).reduce((s, g) => s + Number(g.n), 0);
    await trx.updateTable('alert_runs').set({ finished_at: sql<Date>`now()`, alerts, messages: messages.length }).where('day', '=', day).execute();
    return { ran: true, day, alerts, offices: officeIds.length - unheard.length, messages: messages.length };
  });
}

/** The office's digest: e-mail subject and body in English and Hindi, and a short SMS. */
function digest(gs: OfficeGroup[], day: string): { subject: string; body: string; sms: string } {
  const due = gs.find((g) => g.reason === 'due_reminder');
  const risk = gs.find((g) => g.reason === 'disconnection_risk');
  const office = gs[0]!.office_name;
  const en: string[] = [];
  const hi: string[] = [];
  if (due) {
    en.push(`${formatNumber(Number(due.n), 'en')} bill(s) totalling ${formatPaise(due.amount, 'en')} fall due within ${due.reminder_days} day(s), the first on ${formatDate(due.first_due, 'en')}. Pay by the due date to keep the rebate and avoid DPS.`);
    hi.push(`${formatNumber(Number(due.n), 'hi')} बिल, कुल ${formatPaise(due.amount, 'hi')}, ${due.reminder_days} दिन में देय हैं; पहला ${formatDate(due.first_due, 'hi')} को। छूट पाने और DPS से बचने के लिए देय तिथि तक भुगतान करें।`);
    en.push(`  Largest: ${due.top.join(', ')}`);
    hi.push(`  सबसे बड़े: ${due.top.join(', ')}`);
  }
  if (risk) {
    en.push(`${formatNumber(Number(risk.n), 'en')} connection(s) have ${formatPaise(risk.amount, 'en')} overdue, above the disconnection-risk threshold.`);
    hi.push(`${formatNumber(Number(risk.n), 'hi')} कनेक्शनों पर ${formatPaise(risk.amount, 'hi')} अतिदेय है, जो विच्छेदन-जोखिम सीमा से अधिक है।`);
    en.push(`  Largest: ${risk.top.join(', ')}`);
    hi.push(`  सबसे बड़े: ${risk.top.join(', ')}`);
  }
  const subject = `Electricity dues alert / बिजली बकाया सूचना — ${office} — ${day}`;
  const body = [`${office}, ${formatDate(day, 'en')}`, '', ...en, '', 'Open the dues page of the Sangrahan portal for the list.', '', '—', '', ...hi, '', 'सूची के लिए संग्रहण पोर्टल का बकाया पृष्ठ खोलें।'].join('\n');
  const parts: string[] = [];
  if (due) parts.push(`${due.n} bills ${formatPaise(due.amount, 'en')} due in ${due.reminder_days}d`);
  if (risk) parts.push(`${risk.n} conns ${formatPaise(risk.amount, 'en')} overdue (disconnection risk)`);
  return { subject, body, sms: `Sangrahan ${office}: ${parts.join('; ')}. See the portal.` };
}

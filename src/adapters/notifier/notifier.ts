import { sql, type Kysely } from 'kysely';
import nodemailer from 'nodemailer';
import type { DB } from '../../platform/db/schema.ts';

/** Messages carrying a one-time code, and how long the code lives: it is blanked in the stored copy once sent, or once it has expired. */
const CODE_VALIDITY_MINUTES: Record<string, number> = { password_reset: 15, tag_otp: 10, invitation: 7 * 24 * 60 };
const CODE_PURPOSES = new Set(Object.keys(CODE_VALIDITY_MINUTES));
const MAX_ATTEMPTS = 5;

/**
 * Blanks the one-time code in stored messages whose code has expired, sent or not (an unsent SMS
 * of an install with e-mail only, a message its transport kept refusing). Run hourly.
 */
export async function blankExpiredCodes(db: Kysely<DB>): Promise<number> {
  let n = 0;
  for (const [purpose, minutes] of Object.entries(CODE_VALIDITY_MINUTES)) {
    const r = await db
      .updateTable('notifications')
      .set({ body: sql<string>`regexp_replace(body, '\\m[0-9]{6}\\M', '••••••', 'g')` })
      .where('purpose', '=', purpose)
      .where('created_at', '<', sql<Date>`now() - make_interval(mins => ${minutes})`)
      .where(sql<boolean>`body ~ '\\m[0-9]{6}\\M'`)
      .executeTakeFirst();
    n += Number(r.numUpdatedRows);
  }
  return n;
}

/**
 * E-mail and SMS. Every message is first written to the notifications table inside the
 * transaction of the change it reports (so nothing is sent for a change that rolled back, and
 * nothing is lost for one that committed). Delivery then happens outside it: through SMTP and
 * an SMS gateway when configured; otherwise the message stays in the outbox, which the
 * developer page shows.
 */

export interface Message {
  channel: 'sms' | 'email';
  recipient: string;
  subject?: string;
  body: string;
  purpose: string;
  orgId?: bigint | null;
  userId?: bigint | null;
}

export async function queueMessages(trx: Kysely<DB>, messages: Message[]): Promise<void> {
  if (!messages.length) return;
  await trx
    .insertInto('notifications')
    .values(
      messages.map((m) => ({
        channel: m.channel,
        recipient: m.recipient,
        subject: m.subject ?? null,
        body: m.body,
        purpose: m.purpose,
        org_id: m.orgId ?? null,
        user_id: m.userId ?? null,
      })),
    )
    .execute();
}

export interface Transports {
  smtpUrl?: string | undefined;
  smtpFrom: string;
  smsWebhookUrl?: string | undefined;
}

export class NotificationSender {
  private readonly mailer;
  private running: Promise<number> | null = null;

  constructor(
    private readonly db: Kysely<DB>,
    private readonly transports: Transports,
  ) {
    this.mailer = transports.smtpUrl ? nodemailer.createTransport(transports.smtpUrl) : null;
  }

  get configured(): boolean {
    return !!this.mailer || !!this.transports.smsWebhookUrl;
  }

  /** Sends what is waiting, for the channels that have a transport. Safe to call often. */
  flush(): Promise<number> {
    if (!this.configured) return Promise.resolve(0);
    this.running ??= this.send().finally(() => (this.running = null));
    return this.running;
  }

  private async send(): Promise<number> {
    const channels = [...(this.mailer ? ['email' as const] : []), ...(this.transports.smsWebhookUrl ? ['sms' as const] : [])];
    const waiting = await this.db
      .selectFrom('notifications')
      .selectAll()
      .where((eb) => eb.or([eb('status', '=', 'outbox'), eb.and([eb('status', '=', 'failed'), eb('attempts', '<', MAX_ATTEMPTS), eb('next_attempt_at', '<=', sql<Date>`now()`)])]))
      .where('channel', 'in', channels)
      .orderBy('id')
      .limit(100)
      .execute();
    let sent = 0;
    for (const m of waiting) {
      try {
        if (m.channel === 'email') {
          await this.mailer!.sendMail({ from: this.transports.smtpFrom, to: m.recipient, subject: m.subject ?? 'Sangrahan', text: m.body });
        } else {
          const res = await fetch(this.transports.smsWebhookUrl!, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ to: m.recipient, text: m.body }),
            signal: AbortSignal.timeout(10_000),
          });
          if (!res.ok) throw new Error(`SMS gateway answered ${res.status}`);
        }
        // Once delivered, a one-time code has no business staying readable in the database.
        const body = CODE_PURPOSES.has(m.purpose) ? m.body.replace(/\b\d{6}\b/g, '••••••') : m.body;
        await this.db.updateTable('notifications').set({ status: 'sent', sent_at: new Date(), error: null, body }).where('id', '=', m.id).execute();
        sent++;
      } catch (e) {
        // Tried again after 1, 2, 4, 8 minutes; then it stays failed (and its code is blanked once expired).
        await this.db
          .updateTable('notifications')
          .set({ status: 'failed', error: (e as Error).message.slice(0, 500), attempts: m.attempts + 1, next_attempt_at: new Date(Date.now() + 2 ** m.attempts * 60_000) })
          .where('id', '=', m.id)
          .execute();
      }
    }
    return sent;
  }
}

import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { sql, type Kysely } from 'kysely';
import type { Config } from '../../platform/config.ts';
import type { DB } from '../../platform/db/schema.ts';

/**
 * Authenticator (TOTP) secrets are encrypted at rest: AES-256-GCM under a key derived (HKDF)
 * from TOTP_ENCRYPTION_KEY, or on a non-production install without it from a key file made once
 * in DATA_DIR. A stored secret reads `enc1:<key id>:<iv>:<ciphertext>:<tag>`; the key id tells
 * which key sealed it, so that starting with another key is refused by name, not met as
 * "wrong code" at every login. A secret stored in clear (before this existed) still reads, and
 * `sealClearSecrets` encrypts those at start.
 */

const PREFIX = 'enc1:';
let key: Buffer | null = null;
let keyId = 'none';

function derive(material: string): { key: Buffer; id: string } {
  const k = Buffer.from(hkdfSync('sha256', material, 'sangrahan', 'totp secrets at rest', 32));
  const id = Buffer.from(hkdfSync('sha256', material, 'sangrahan', 'totp key id', 6)).toString('hex');
  return { key: k, id };
}

export function setTotpKey(material: string | null): void {
  if (material === null) {
    key = null;
    keyId = 'none';
    return;
  }
  ({ key, id: keyId } = derive(material));
}

export function totpKeyId(): string {
  return keyId;
}

/** TOTP_ENCRYPTION_KEY, or a key file made once in DATA_DIR (never in production: config refuses that). */
export function initTotpKey(config: Config): 'configured' | 'file' {
  if (config.totpEncryptionKey) {
    setTotpKey(config.totpEncryptionKey);
    return 'configured';
  }
  const file = path.join(config.dataDir, 'totp.key');
  fs.mkdirSync(config.dataDir, { recursive: true });
  if (!fs.existsSync(file)) fs.writeFileSync(file, randomBytes(32).toString('base64url'), { mode: 0o600, flag: 'wx' });
  setTotpKey(fs.readFileSync(file, 'utf8').trim());
  return 'file';
}

export class TotpKeyMismatch extends Error {
  override name = 'TotpKeyMismatch';
}

export function sealSecret(plain: string): string {
  if (!key) throw new Error('No TOTP encryption key is set (initTotpKey at start)');
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(Buffer.from('totp'));
  const ct = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
  return `${PREFIX}${keyId}:${iv.toString('base64url')}:${ct.toString('base64url')}:${c.getAuthTag().toString('base64url')}`;
}

export function openSecret(stored: string): string {
  if (!stored.startsWith(PREFIX)) return stored;
  const [id, iv, ct, tag] = stored.slice(PREFIX.length).split(':');
  if (!key || id !== keyId) {
    throw new TotpKeyMismatch(`An authenticator secret was sealed with TOTP key id ${id ?? '?'}, but this process has key id ${keyId}. Start with the TOTP_ENCRYPTION_KEY it was sealed with.`);
  }
  const d = createDecipheriv('aes-256-gcm', key, Buffer.from(iv!, 'base64url'));
  d.setAAD(Buffer.from('totp'));
  d.setAuthTag(Buffer.from(tag!, 'base64url'));
  return Buffer.concat([d.update(Buffer.from(ct!, 'base64url')), d.final()]).toString('utf8');
}

/**
 * At start: refuses a key other than the one the stored secrets were sealed with (naming both
 * ids), and seals any secret still stored in clear.
 */
export async function sealClearSecrets(db: Kysely<DB>): Promise<number> {
  const other = await db
    .selectFrom('users')
    .select(sql<string>`split_part(coalesce(totp_secret, totp_pending_secret), ':', 2)`.as('id'))
    .where((eb) => eb.or([eb('totp_secret', 'like', `${PREFIX}%`), eb('totp_pending_secret', 'like', `${PREFIX}%`)]))
    .where(sql<boolean>`split_part(coalesce(totp_secret, totp_pending_secret), ':', 2) <> ${keyId}`)
    .executeTakeFirst();
  if (other) {
    throw new TotpKeyMismatch(`The authenticator secrets in the database were sealed with TOTP key id ${other.id}, but this process has key id ${keyId}. Start with the TOTP_ENCRYPTION_KEY (or DATA_DIR/totp.key) they were sealed with.`);
  }
  const clear = await db
    .selectFrom('users')
    .select(['id', 'totp_secret', 'totp_pending_secret'])
    .where((eb) => eb.or([eb.and([eb('totp_secret', 'is not', null), eb('totp_secret', 'not like', `${PREFIX}%`)]), eb.and([eb('totp_pending_secret', 'is not', null), eb('totp_pending_secret', 'not like', `${PREFIX}%`)])]))
    .execute();
  for (const u of clear) {
    const seal = (v: string | null) => (v === null || v.startsWith(PREFIX) ? v : sealSecret(v));
    await db.updateTable('users').set({ totp_secret: seal(u.totp_secret), totp_pending_secret: seal(u.totp_pending_secret) }).where('id', '=', u.id).execute();
  }
  return clear.length;
}

/**
 * Key rotation: every stored secret opened with the old key and sealed with the new one, in one
 * transaction (a few rows per user). Run it with the portal stopped, then start with the new key.
 */
export async function resealSecrets(db: Kysely<DB>, oldMaterial: string, newMaterial: string): Promise<number> {
  setTotpKey(oldMaterial);
  return db.transaction().execute(async (trx) => {
    const rows = await trx.selectFrom('users').select(['id', 'totp_secret', 'totp_pending_secret']).where((eb) => eb.or([eb('totp_secret', 'is not', null), eb('totp_pending_secret', 'is not', null)])).forUpdate().execute();
    const opened = rows.map((r) => ({ id: r.id, secret: r.totp_secret && openSecret(r.totp_secret), pending: r.totp_pending_secret && openSecret(r.totp_pending_secret) }));
    setTotpKey(newMaterial);
    for (const r of opened) {
      await trx.updateTable('users').set({ totp_secret: r.secret && sealSecret(r.secret), totp_pending_secret: r.pending && sealSecret(r.pending) }).where('id', '=', r.id).execute();
    }
    return rows.length;
  });
}

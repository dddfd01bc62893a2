import { sql, type Kysely } from 'kysely';
import type { DB } from '../../platform/db/schema.ts';
import { EMAIL, LOGIN_ID, MOBILE } from '../../platform/identifiers.ts';
import { recordAudit } from '../audit/index.ts';
import { hashPassword, passwordProblems } from './passwords.ts';

/**
 * The first discom administrator of a real install (`cli init`): the holding company's, so that
 * they can invite both discoms' staff. Refused on a database with demo data (its logins are
 * published) and on one that already has a discom administrator. Their first login makes them
 * enrol an authenticator, as for every discom role.
 */

export interface FirstAdmin {
  loginId: string;
  name: string;
  email: string;
  mobile: string;
  password: string;
}

/** Every problem with the answers, each naming the field (INIT_ADMIN_… variable). */
export function firstAdminProblems(a: FirstAdmin): string[] {
  const out: string[] = [];
  if (!LOGIN_ID.test(a.loginId)) out.push('login ID (INIT_ADMIN_LOGIN_ID): 3 to 40 characters: small letters, digits, dot, dash or underscore, starting with a letter or digit');
  if (!a.name.trim()) out.push('name (INIT_ADMIN_NAME): required');
  if (!EMAIL.test(a.email)) out.push('e-mail (INIT_ADMIN_EMAIL): an e-mail address');
  if (!MOBILE.test(a.mobile)) out.push('mobile (INIT_ADMIN_MOBILE): a 10-digit mobile number starting with 6 to 9');
  for (const p of passwordProblems(a.password, a.loginId)) out.push(`password (INIT_ADMIN_PASSWORD): ${p.en}`);
  return out;
}

export class InitRefused extends Error {
  override name = 'InitRefused';
}

export async function createFirstAdmin(db: Kysely<DB>, a: FirstAdmin): Promise<bigint> {
  const problems = firstAdminProblems(a);
  if (problems.length) throw new InitRefused(`The first administrator was not created:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  const hash = await hashPassword(a.password);
  return db.transaction().execute(async (trx) => {
    const demo = await trx.selectFrom('installation').select('demo_data').executeTakeFirst();
    if (demo?.demo_data) throw new InitRefused('This database holds demo data, whose logins and password are published: init is for a real install. Use a new DATA_DIR (with DEMO_SEED=false) or a new PostgreSQL database.');
    const admins = await trx.selectFrom('users').select('login_id').where('role', '=', 'discom_admin').execute();
    if (admins.length) throw new InitRefused(`This install already has a discom administrator (${admins.map((u) => u.login_id).join(', ')}): they invite further staff from Staff.`);
    if (await trx.selectFrom('users').select('id').where('login_id', '=', a.loginId).executeTakeFirst()) throw new InitRefused(`The login ID ${a.loginId} is already in use.`);
    const { rows } = await sql<{ id: bigint }>`
      INSERT INTO users (login_id, name, email, mobile, role, holding, status, password_hash, password_changed_at)
      VALUES (${a.loginId}, ${a.name.trim()}, ${a.email}, ${a.mobile}, 'discom_admin', true, 'active', ${hash}, now())
      RETURNING id`.execute(trx);
    const id = rows[0]!.id;
    await recordAudit(trx, { action: 'user.created', actor: null, actorLabel: 'cli:init', orgId: null, target: { type: 'user', id }, details: { login_id: a.loginId, role: 'discom_admin', holding: true }, meta: null });
    return id;
  });
}

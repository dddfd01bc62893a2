import type { Kysely } from 'kysely';
import type { DB, Role } from '../../platform/db/schema.ts';
import { hashPassword, sealSecret, verifyPassword } from '../identity/index.ts';
import { ORGANISATIONS } from './organisations.ts';

/**
 * Demo logins: discom staff of every role, of each discom and of the holding company (BSPHCL,
 * who see both), users of every organisation role in the Education
 * Department (with district offices, and an administrator scoped to one district), an admin for
 * every other organisation, and one registration waiting for approval. All share one password;
 * users whose role needs a second factor have a fixed authenticator secret (README lists them,
 * and the developer page shows their current codes).
 */

export const DEMO_PASSWORD = 'Demo@Sangrahan2026';

export interface DemoLogin {
  loginId: string;
  name: string;
  role: Role;
  org: string | null;
  /** Discom staff: their discom, or the holding company (both discoms). */
  discom?: 'NBPDCL' | 'SBPDCL' | 'holding';
  office?: string;
  totpSecret?: string;
  mobile: string;
  email: string;
}

export const DEMO_LOGINS: readonly DemoLogin[] = [
  { loginId: 'admin.discom', name: 'Sunil Kumar (BSPHCL admin)', role: 'discom_admin', org: null, discom: 'holding', totpSecret: 'KRUGKIDROVUWG2ZAMJZG653OEBTG66BA', mobile: '9430000001', email: 'admin@bsphcl.example.in' },
  { loginId: 'co.nbpdcl', name: 'Meena Kumari (Collection officer, NBPDCL)', role: 'collection_officer', org: null, discom: 'NBPDCL', totpSecret: 'JVSWK3TBEBFXK3LBOJUSA23JEBRW63DM', mobile: '9430000002', email: 'co@nbpdcl.example.in' },
  { loginId: 'accounts.sbpdcl', name: 'Rakesh Sinha (Accounts, SBPDCL)', role: 'accounts', org: null, discom: 'SBPDCL', totpSecret: 'IFRWG33VNZ2HGIDTMJYGIY3MEBQWGY3P', mobile: '9430000003', email: 'accounts@sbpdcl.example.in' },
  { loginId: 'auditor.discom', name: 'Anita Jha (Auditor, BSPHCL)', role: 'auditor', org: null, discom: 'holding', totpSecret: 'IF2WI2LUN5ZCA2DBOMQGC3DMEBUGS5DT', mobile: '9430000004', email: 'audit@bsphcl.example.in' },
  { loginId: 'co.sbpdcl', name: 'Arvind Paswan (Collection officer, SBPDCL)', role: 'collection_officer', org: null, discom: 'SBPDCL', totpSecret: 'OHOXK4CO73BOCBKTCRXLUFIPGW3YQW7W', mobile: '9430000005', email: 'co@sbpdcl.example.in' },
  { loginId: 'accounts.nbpdcl', name: 'Priya Choudhary (Accounts, NBPDCL)', role: 'accounts', org: null, discom: 'NBPDCL', totpSecret: 'Q65AUCO2N7KERX6BDPTXGW4WXJ6HXVV7', mobile: '9430000006', email: 'accounts@nbpdcl.example.in' },
  { loginId: 'admin.nbpdcl', name: 'Manoj Thakur (NBPDCL admin)', role: 'discom_admin', org: null, discom: 'NBPDCL', totpSecret: '3YA3FQ4ILDSTLJ5LUQ7TFVTKKRUANAVY', mobile: '9430000007', email: 'admin@nbpdcl.example.in' },
  { loginId: 'admin.sbpdcl', name: 'Shalini Verma (SBPDCL admin)', role: 'discom_admin', org: null, discom: 'SBPDCL', totpSecret: 'ZU3HKMADVFKDEIKI22DVKCJWRQF26KNZ', mobile: '9430000008', email: 'admin@sbpdcl.example.in' },
  { loginId: 'edu.admin', name: 'Rajesh Prasad (Education HQ admin)', role: 'org_admin', org: 'edu', mobile: '9431100001', email: 'it.cell@edu.bihar.example.in' },
  { loginId: 'edu.patna.admin', name: 'Pooja Singh (Patna district admin)', role: 'org_admin', org: 'edu', office: 'PATNA', mobile: '9431100002', email: 'deo.patna@edu.bihar.example.in' },
  { loginId: 'edu.maker', name: 'Vinod Yadav (DDO assistant, Patna)', role: 'maker', org: 'edu', office: 'PATNA-DEO', mobile: '9431100003', email: 'ddo.asst.patna@edu.bihar.example.in' },
  { loginId: 'edu.approver', name: 'Sanjay Mishra (DDO, Patna)', role: 'approver', org: 'edu', office: 'PATNA', totpSecret: 'ORSWG2DFOIQGC4DQOJXXMZLSEBSGK3LP', mobile: '9431100004', email: 'ddo.patna@edu.bihar.example.in' },
  { loginId: 'edu.viewer', name: 'Kiran Devi (Finance viewer)', role: 'viewer', org: 'edu', mobile: '9431100005', email: 'finance@edu.bihar.example.in' },
  ...ORGANISATIONS.filter((o) => o.key !== 'edu').map(
    (o, i): DemoLogin => ({
      loginId: `${o.key.replaceAll('_', '-')}.admin`,
      name: `Administrator, ${o.name}`,
      role: 'org_admin',
      org: o.key,
      mobile: `94312${String(i + 1).padStart(5, '0')}`,
      email: o.email,
    }),
  ),
];

const EDU_OFFICES = [
  { code: 'PATNA', name: 'District Education Office, Patna', kind: 'district' as const, parent: 'HQ' },
  { code: 'GAYA', name: 'District Education Office, Gaya', kind: 'district' as const, parent: 'HQ' },
  { code: 'MUZAFFARPUR', name: 'District Education Office, Muzaffarpur', kind: 'district' as const, parent: 'HQ' },
  { code: 'PATNA-DEO', name: 'DDO, Patna Sadar', kind: 'office' as const, parent: 'PATNA' },
  { code: 'PATNA-DANAPUR', name: 'DDO, Danapur', kind: 'office' as const, parent: 'PATNA' },
  { code: 'GAYA-DEO', name: 'DDO, Gaya Town', kind: 'office' as const, parent: 'GAYA' },
];

export const PENDING_REGISTRATION = {
  name: 'Bihar Medical Services and Infrastructure Corporation Limited',
  nameHi: 'बिहार चिकित्सा सेवाएँ एवं आधारभूत संरचना निगम लिमिटेड',
  pan: 'AAECB7777K',
  admin: 'bmsicl.admin',
  /** Its home discom: co.nbpdcl (or the holding company's staff) decides it. */
  discom: 'NBPDCL',
};

async function addOffice(trx: Kysely<DB>, orgId: bigint, kind: 'hq' | 'district' | 'office', code: string, name: string, parent: { id: bigint; path: string } | null) {
  const row = await trx
    .insertInto('offices')
    .values({ org_id: orgId, parent_id: parent?.id ?? null, kind, code, name, path: '/' })
    .returning('id')
    .executeTakeFirstOrThrow();
  const path = `${parent?.path ?? '/'}${row.id}/`;
  await trx.updateTable('offices').set({ path }).where('id', '=', row.id).execute();
  return { id: row.id, path };
}

/** Offices and users for the demo organisations (already in the database), and the pending registration. */
export async function seedDemoPeople(db: Kysely<DB>): Promise<number> {
  const passwordHash = await hashPassword(DEMO_PASSWORD);
  return db.transaction().execute(async (trx) => {
    if (await trx.selectFrom('users').select('id').limit(1).executeTakeFirst()) return 0;
    const orgs = new Map((await trx.selectFrom('organisations').select(['id', 'name']).execute()).map((o) => [o.name, o.id]));
    const discoms = new Map((await trx.selectFrom('discoms').select(['id', 'code']).execute()).map((d) => [d.code, d.id]));
    const discomIdOf = (code: string) => {
      const id = discoms.get(code);
      if (id === undefined) throw new Error(`Demo people: discom ${code} is not loaded`);
      return id;
    };
    const orgIdOf = (key: string) => orgs.get(ORGANISATIONS.find((o) => o.key === key)!.name)!;
    const offices = new Map<string, { id: bigint; path: string }>();
    for (const o of ORGANISATIONS) {
      const hq = await addOffice(trx, orgIdOf(o.key), 'hq', 'HQ', 'Head office', null);
      if (o.key === 'edu') {
        offices.set('HQ', hq);
        for (const f of EDU_OFFICES) offices.set(f.code, await addOffice(trx, orgIdOf('edu'), f.kind, f.code, f.name, offices.get(f.parent)!));
      }
    }
    const now = new Date();
    await trx
      .insertInto('users')
      .values(
        DEMO_LOGINS.map((u) => ({
          org_id: u.org ? orgIdOf(u.org) : null,
          login_id: u.loginId,
          name: u.name,
          email: u.email,
          mobile: u.mobile,
          role: u.role,
          office_id: u.office ? offices.get(u.office)!.id : null,
          discom_id: u.discom && u.discom !== 'holding' ? discomIdOf(u.discom) : null,
          holding: u.discom === 'holding',
          status: 'active' as const,
          password_hash: passwordHash,
          password_changed_at: now,
          totp_secret: u.totpSecret ? sealSecret(u.totpSecret) : null,
          totp_enabled_at: u.totpSecret ? now : null,
        })),
      )
      .execute();
    const pending = await trx
      .insertInto('organisations')
      .values({
        type: 'state_psu', name: PENDING_REGISTRATION.name, name_hi: PENDING_REGISTRATION.nameHi, pan: PENDING_REGISTRATION.pan,
        address: 'Shastri Nagar, Patna 800023', email: 'it@bmsicl.example.in', mobile: '9431200099', status: 'pending',
        discom_id: discomIdOf(PENDING_REGISTRATION.discom),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await addOffice(trx, pending.id, 'hq', 'HQ', 'Head office', null);
    await trx
      .insertInto('users')
      .values({
        org_id: pending.id, login_id: PENDING_REGISTRATION.admin, name: 'Administrator, BMSICL', email: 'it@bmsicl.example.in', mobile: '9431200099',
        role: 'org_admin', status: 'active', password_hash: passwordHash, password_changed_at: now,
      })
      .execute();
    return DEMO_LOGINS.length + 1;
  });
}

/**
 * Users who still have a demo login ID and the published demo password: whatever the database's
 * flag says, such an account is open to anyone who has read README. Production refuses to start
 * while there is one.
 */
export async function usersWithPublishedPassword(db: Kysely<DB>): Promise<string[]> {
  const rows = await db.selectFrom('users').select(['login_id', 'password_hash']).where('login_id', 'in', [...DEMO_LOGINS.map((l) => l.loginId), PENDING_REGISTRATION.admin]).where('status', '<>', 'disabled').execute();
  const out: string[] = [];
  for (const r of rows) if (r.password_hash && (await verifyPassword(r.password_hash, DEMO_PASSWORD))) out.push(r.login_id);
  return out.sort();
}

import { sql } from 'kysely';
import { Type } from 'typebox';
import type { App, AppContext } from '../../platform/context.ts';
import type { Role } from '../../platform/db/schema.ts';
import { AppError } from '../../platform/errors.ts';
import { ErrorResponse, IdStr } from '../../platform/http/schemas.ts';
import { discomScope } from '../../platform/principal.ts';
import { orgSeenBy } from '../discoms/index.ts';
import { orgOf, userOf } from '../identity/index.ts';
import { ApiKeyService } from './api-keys.ts';
import { DirectoryService, scopeOf } from './directory.ts';
import { ORGANISATION_TYPES, RegistrationService } from './registration.ts';

const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse, 429: ErrorResponse };
const OrgIdParam = Type.Object({ orgId: IdStr });
const OfficeIdParam = Type.Object({ officeId: IdStr });
const UserIdParam = Type.Object({ userId: IdStr });
const KeyIdParam = Type.Object({ keyId: IdStr });
const OrgType = Type.Union(ORGANISATION_TYPES.map((t) => Type.Literal(t)));
const RoleT = Type.Union(
  (['org_admin', 'maker', 'approver', 'viewer', 'collection_officer', 'accounts', 'discom_admin', 'auditor'] as Role[]).map((r) => Type.Literal(r)),
);
const Opt = (s: ReturnType<typeof Type.String>) => Type.Optional(s);

const Organisation = Type.Object({
  id: Type.String(),
  type: Type.String(),
  name: Type.String(),
  nameHi: Type.Union([Type.String(), Type.Null()]),
  pan: Type.Union([Type.String(), Type.Null()]),
  tan: Type.Union([Type.String(), Type.Null()]),
  gstin: Type.Union([Type.String(), Type.Null()]),
  departmentCode: Type.Union([Type.String(), Type.Null()]),
  address: Type.Union([Type.String(), Type.Null()]),
  email: Type.Union([Type.String(), Type.Null()]),
  mobile: Type.Union([Type.String(), Type.Null()]),
  status: Type.String(),
  discomCode: Type.Union([Type.String(), Type.Null()], { description: 'The home discom, whose staff decide the registration' }),
  decisionReason: Type.Union([Type.String(), Type.Null()]),
  decidedAt: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String(),
  users: Type.Integer(),
});

const User = Type.Object({
  id: Type.String(),
  loginId: Type.String(),
  name: Type.String(),
  email: Type.Union([Type.String(), Type.Null()]),
  mobile: Type.Union([Type.String(), Type.Null()], { description: 'masked' }),
  role: Type.String(),
  status: Type.String(),
  office: Type.Union([Type.Object({ id: Type.String(), code: Type.String(), name: Type.String() }), Type.Null()]),
  discom: Type.Union([Type.String(), Type.Null()], { description: 'Discom staff: their discom (null for the holding company’s staff and organisation users)' }),
  holding: Type.Boolean({ description: 'Discom staff of the holding company (BSPHCL), acting for both discoms' }),
  totpEnabled: Type.Boolean(),
  lastLoginAt: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String(),
});

const Office = Type.Object({
  id: Type.String(),
  parentId: Type.Union([Type.String(), Type.Null()]),
  kind: Type.String(),
  code: Type.String(),
  name: Type.String(),
  depth: Type.Integer(),
  users: Type.Integer(),
});

const ApiKey = Type.Object({
  id: Type.String(),
  name: Type.String(),
  prefix: Type.String(),
  scopes: Type.Array(Type.String()),
  createdBy: Type.String(),
  createdAt: Type.String(),
  lastUsedAt: Type.Union([Type.String(), Type.Null()]),
  revokedAt: Type.Union([Type.String(), Type.Null()]),
});

const InviteBody = Type.Object(
  {
    loginId: Type.String({ maxLength: 40 }),
    name: Type.String({ minLength: 1, maxLength: 120 }),
    email: Opt(Type.String({ maxLength: 200 })),
    mobile: Opt(Type.String({ maxLength: 15 })),
    role: RoleT,
    officeId: Opt(IdStr),
    discomCode: Opt(Type.String({ maxLength: 12, description: 'Discom staff: their discom (the holding company’s admin chooses; a discom’s admin may only name their own)' })),
    holding: Type.Optional(Type.Boolean({ description: 'Discom staff: of the holding company, acting for both discoms (the holding company’s admin only)' })),
  },
  { additionalProperties: false },
);

const UserPatch = Type.Object(
  {
    role: Type.Optional(RoleT),
    officeId: Type.Optional(Type.Union([IdStr, Type.Null()])),
    name: Opt(Type.String({ minLength: 1, maxLength: 120 })),
  },
  { additionalProperties: false },
);

type OrgRow = {
  id: bigint; type: string; name: string; name_hi: string | null; pan: string | null; tan: string | null; gstin: string | null;
  department_code: string | null; address: string | null; email: string | null; mobile: string | null; status: string; discom_code: string | null;
  decision_reason: string | null; decided_at: Date | null; created_at: Date; users: bigint | null;
};

function orgView(o: OrgRow) {
  return {
    id: o.id.toString(), type: o.type, name: o.name, nameHi: o.name_hi, pan: o.pan, tan: o.tan, gstin: o.gstin, departmentCode: o.department_code,
    address: o.address, email: o.email, mobile: o.mobile, status: o.status, discomCode: o.discom_code, decisionReason: o.decision_reason,
    decidedAt: o.decided_at?.toISOString() ?? null, createdAt: o.created_at.toISOString(), users: Number(o.users ?? 0),
  };
}

export async function organisationRoutes(app: App, { ctx }: { ctx: AppContext }): Promise<void> {
  const { db } = ctx.database;
  const registration = new RegistrationService(db);
  const directory = new DirectoryService(db);
  const keys = new ApiKeyService(db);

  const orgQuery = () =>
    db
      .selectFrom('organisations as o')
      .leftJoin('discoms as hd', 'hd.id', 'o.discom_id')
      .select([
        'o.id', 'o.type', 'o.name', 'o.name_hi', 'o.pan', 'o.tan', 'o.gstin', 'o.department_code', 'o.address', 'o.email', 'o.mobile', 'o.status',
        'hd.code as discom_code', 'o.decision_reason', 'o.decided_at', 'o.created_at',
      ])
      .select((eb) => eb.selectFrom('users as u').select(sql<bigint>`count(*)`.as('n')).whereRef('u.org_id', '=', 'o.id').as('users'));

  // ---- registration and the discom's queue --------------------------------------------

  app.post(
    '/api/v1/organisations/register',
    {
      config: { access: { public: true } },
      schema: {
        tags: ['organisations'],
        summary: 'Register an organisation with its first admin and its home discom; it stays pending until an officer of that discom approves it. The answer is the same whether or not the login ID is free: an e-mail to the organisation’s address says which',
        body: Type.Object(
          {
            type: OrgType,
            name: Type.String({ maxLength: 200 }),
            nameHi: Opt(Type.String({ maxLength: 200 })),
            pan: Opt(Type.String({ maxLength: 12 })),
            tan: Opt(Type.String({ maxLength: 12 })),
            gstin: Opt(Type.String({ maxLength: 17 })),
            departmentCode: Opt(Type.String({ maxLength: 20 })),
            address: Type.String({ maxLength: 500 }),
            email: Type.String({ maxLength: 200 }),
            mobile: Type.String({ maxLength: 15 }),
            discomCode: Type.String({ maxLength: 12, description: 'The home discom (NBPDCL or SBPDCL): its staff decide the registration' }),
            admin: Type.Object(
              {
                loginId: Type.String({ maxLength: 40 }),
                name: Type.String({ maxLength: 120 }),
                email: Opt(Type.String({ maxLength: 200 })),
                mobile: Opt(Type.String({ maxLength: 15 })),
                password: Type.String({ maxLength: 128 }),
              },
              { additionalProperties: false },
            ),
          },
          {
            additionalProperties: false,
            examples: [
              {
                type: 'private', name: 'Example Traders Private Limited', pan: 'AAECE1234K', address: 'Fraser Road, Patna 800001',
                email: 'accounts@example.in', mobile: '9431012345', discomCode: 'SBPDCL',
                admin: { loginId: 'example.admin', name: 'Asha Kumari', password: 'A long passphrase 2026' },
              },
            ],
          },
        ),
        response: { 202: Type.Object({ status: Type.Literal('received') }, { description: 'The same answer whether the registration was made or its login ID was taken (an e-mail to the organisation’s address says which)' }), ...errors },
      },
    },
    async (req, reply) => {
      await registration.register(req.body, req.meta);
      return reply.status(202).send({ status: 'received' as const });
    },
  );

  app.get(
    '/api/v1/discom/organisations',
    {
      config: { access: { roles: ['collection_officer', 'discom_admin', 'auditor'] } },
      schema: {
        tags: ['organisations'],
        summary: 'Organisations by status: the approval queue is status=pending, oldest first. A discom’s staff see the organisations whose home discom is theirs or that hold a tag on one of their connections; the holding company’s, all',
        querystring: Type.Object({
          status: Type.Optional(Type.Union([Type.Literal('pending'), Type.Literal('approved'), Type.Literal('rejected')])),
          q: Type.Optional(Type.String({ maxLength: 100 })),
        }),
        response: { 200: Type.Object({ organisations: Type.Array(Organisation) }), ...errors },
      },
    },
    async (req) => {
      const discom = discomScope(req.principal);
      let q = orgQuery().where('o.status', '=', req.query.status ?? 'pending');
      if (discom !== null) q = q.where(orgSeenBy(discom));
      if (req.query.q?.trim()) {
        const like = `%${req.query.q.trim().toLowerCase()}%`;
        q = q.where((eb) => eb.or([eb(sql`lower(o.name)`, 'like', like), eb(sql`lower(coalesce(o.pan, o.department_code, ''))`, 'like', like)]));
      }
      const rows = await q.orderBy('o.created_at').limit(500).execute();
      return { organisations: rows.map(orgView) };
    },
  );

  app.get(
    '/api/v1/discom/organisations/:orgId',
    {
      config: { access: { roles: ['collection_officer', 'discom_admin', 'auditor'] } },
      schema: { tags: ['organisations'], summary: 'One organisation, for the discom', params: OrgIdParam, response: { 200: Organisation, ...errors } },
    },
    async (req) => {
      const discom = discomScope(req.principal);
      const o = await orgQuery()
        .where('o.id', '=', BigInt(req.params.orgId))
        .$if(discom !== null, (q) => q.where(orgSeenBy(discom!)))
        .executeTakeFirst();
      if (!o) throw new AppError('NOT_FOUND');
      return orgView(o);
    },
  );

  app.post(
    '/api/v1/discom/organisations/:orgId/approve',
    {
      config: { access: { roles: ['collection_officer', 'discom_admin'] } },
      schema: { tags: ['organisations'], summary: 'Approve a pending registration (staff of its home discom, or of the holding company)', params: OrgIdParam, response: { 204: Type.Null(), ...errors } },
    },
    async (req, reply) => {
      await registration.decide(BigInt(req.params.orgId), 'approved', null, userOf(req), req.meta);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/api/v1/discom/organisations/:orgId/reject',
    {
      config: { access: { roles: ['collection_officer', 'discom_admin'] } },
      schema: {
        tags: ['organisations'],
        summary: 'Reject a pending registration, with the reason the organisation will see',
        params: OrgIdParam,
        body: Type.Object({ reason: Type.String({ minLength: 1, maxLength: 500 }) }, { examples: [{ reason: 'The PAN does not match the documents sent.' }] }),
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (req, reply) => {
      await registration.decide(BigInt(req.params.orgId), 'rejected', req.body.reason, userOf(req), req.meta);
      return reply.status(204).send(null);
    },
  );

  // ---- the organisation's own profile -----------------------------------------------------

  app.get(
    '/api/v1/org',
    {
      config: { access: { roles: 'org', apiKey: 'read' } },
      schema: { tags: ['organisations'], summary: 'The caller’s organisation', response: { 200: Organisation, ...errors } },
    },
    async (req) => orgView(await orgQuery().where('o.id', '=', orgOf(req)).executeTakeFirstOrThrow()),
  );

  // ---- offices ---------------------------------------------------------------------------

  app.get(
    '/api/v1/org/offices',
    {
      config: { access: { roles: 'org' } },
      schema: { tags: ['offices'], summary: 'The offices the caller may see (their subtree), as a flat list in tree order', response: { 200: Type.Object({ offices: Type.Array(Office) }), ...errors } },
    },
    async (req) => ({ offices: await directory.offices(scopeOf(userOf(req))) }),
  );

  app.post(
    '/api/v1/org/offices',
    {
      config: { access: { roles: ['org_admin'] } },
      schema: {
        tags: ['offices'],
        summary: 'Add a district office under HQ, or an office under HQ or a district',
        body: Type.Object(
          {
            parentId: IdStr,
            kind: Type.Union([Type.Literal('district'), Type.Literal('office')]),
            code: Type.String({ minLength: 1, maxLength: 20 }),
            name: Type.String({ minLength: 1, maxLength: 120 }),
          },
          { additionalProperties: false, examples: [{ parentId: '1', kind: 'district', code: 'PATNA', name: 'District Education Office, Patna' }] },
        ),
        response: { 201: Office, ...errors },
      },
    },
    async (req, reply) => {
      const p = userOf(req);
      return reply.status(201).send(await directory.createOffice(scopeOf(p), p, req.body, req.meta));
    },
  );

  app.patch(
    '/api/v1/org/offices/:officeId',
    {
      config: { access: { roles: ['org_admin'] } },
      schema: {
        tags: ['offices'],
        summary: 'Rename an office',
        params: OfficeIdParam,
        body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 120 }) }, { additionalProperties: false, examples: [{ name: 'District Education Office, Patna (East)' }] }),
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (req, reply) => {
      const p = userOf(req);
      await directory.renameOffice(scopeOf(p), p, BigInt(req.params.officeId), req.body.name, req.meta);
      return reply.status(204).send(null);
    },
  );

  // ---- users: an organisation's, and the discom's staff -----------------------------------

  for (const [base, admin, listRoles] of [
    ['/api/v1/org/users', ['org_admin'], ['org_admin']],
    ['/api/v1/discom/users', ['discom_admin'], ['discom_admin', 'auditor']],
  ] as const) {
    const tags = ['users'];
    app.get(
      base,
      { config: { access: { roles: listRoles } }, schema: { tags, summary: 'Users the caller may manage', response: { 200: Type.Object({ users: Type.Array(User) }), ...errors } } },
      async (req) => ({ users: await directory.users(scopeOf(userOf(req))) }),
    );
    app.post(
      base,
      {
        config: { access: { roles: admin } },
        schema: {
          tags,
          summary: 'Invite a user: a code to set a password goes to their mobile or e-mail',
          body: {
            ...InviteBody,
            examples: [
              base.includes('discom')
                ? { loginId: 'co.patna', name: 'Ravi Ranjan', mobile: '9431099999', role: 'collection_officer', discomCode: 'SBPDCL' }
                : { loginId: 'ddo.patna', name: 'Ravi Ranjan', mobile: '9431099999', role: 'maker', officeId: '2' },
            ],
          },
          response: { 201: User, ...errors },
        },
      },
      async (req, reply) => {
        const p = userOf(req);
        return reply.status(201).send(await directory.invite(scopeOf(p), p, req.body, req.meta));
      },
    );
    app.patch(
      `${base}/:userId`,
      {
        config: { access: { roles: admin } },
        schema: { tags, summary: 'Change a user’s role, office or name', params: UserIdParam, body: { ...UserPatch, examples: [{ name: 'Ravi Ranjan Sinha' }] }, response: { 200: User, ...errors } },
      },
      async (req) => {
        const p = userOf(req);
        return directory.update(scopeOf(p), p, BigInt(req.params.userId), req.body, req.meta);
      },
    );
    for (const action of ['disable', 'enable', 'reset'] as const) {
      app.post(
        `${base}/:userId/${action}`,
        {
          config: { access: { roles: admin } },
          schema: {
            tags,
            summary: action === 'reset' ? 'Send the user a code to set a new password; their sessions end' : `${action === 'disable' ? 'Disable' : 'Enable'} a user`,
            params: UserIdParam,
            response: { 204: Type.Null(), ...errors },
          },
        },
        async (req, reply) => {
          const p = userOf(req);
          const id = BigInt(req.params.userId);
          if (action === 'reset') await directory.sendReset(scopeOf(p), p, id, req.meta);
          else await directory.setStatus(scopeOf(p), p, id, action === 'disable' ? 'disabled' : 'active', req.meta);
          return reply.status(204).send(null);
        },
      );
    }
  }

  // ---- API keys --------------------------------------------------------------------------

  /** Keys act for the whole organisation: only an admin of the whole organisation manages them. */
  const keyAdmin = (req: Parameters<typeof userOf>[0]) => {
    const p = userOf(req);
    if (p.officePath) throw new AppError('FORBIDDEN', [], { en: 'API keys act for the whole organisation; only an administrator of the whole organisation manages them.', hi: 'एपीआई कुंजियाँ पूरी संस्था के लिए काम करती हैं; केवल पूरी संस्था का व्यवस्थापक इन्हें प्रबंधित करता है।' });
    return p;
  };

  app.get(
    '/api/v1/org/api-keys',
    { config: { access: { roles: ['org_admin'] } }, schema: { tags: ['api-keys'], summary: 'The organisation’s API keys (never the secret)', response: { 200: Type.Object({ apiKeys: Type.Array(ApiKey) }), ...errors } } },
    async (req) => {
      keyAdmin(req);
      return { apiKeys: await keys.list(orgOf(req)) };
    },
  );

  app.post(
    '/api/v1/org/api-keys',
    {
      config: { access: { roles: ['org_admin'] } },
      schema: {
        tags: ['api-keys'],
        summary: 'Create an API key; the key is shown in this answer only',
        body: Type.Object(
          { name: Type.String({ minLength: 1, maxLength: 80 }), scopes: Type.Array(Type.Union([Type.Literal('read'), Type.Literal('pay')]), { minItems: 1, maxItems: 2 }) },
          { additionalProperties: false, examples: [{ name: 'SAP ERP (read)', scopes: ['read'] }] },
        ),
        response: { 201: Type.Object({ key: Type.String(), apiKey: ApiKey }), ...errors },
      },
    },
    async (req, reply) => reply.status(201).send(await keys.create(orgOf(req), keyAdmin(req), req.body, req.meta)),
  );

  app.post(
    '/api/v1/org/api-keys/:keyId/revoke',
    {
      config: { access: { roles: ['org_admin'] } },
      schema: { tags: ['api-keys'], summary: 'Revoke an API key at once', params: KeyIdParam, response: { 204: Type.Null(), ...errors } },
    },
    async (req, reply) => {
      await keys.revoke(orgOf(req), keyAdmin(req), BigInt(req.params.keyId), req.meta);
      return reply.status(204).send(null);
    },
  );
}

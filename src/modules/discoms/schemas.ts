import { Type, type Static } from 'typebox';

export const Paise = Type.String({ pattern: '^-?[0-9]+$', description: 'Integer paise as a decimal string' });

const Named = { code: Type.String(), name: Type.String(), nameHi: Type.String() };

export const DiscomSummary = Type.Object({
  ...Named,
  state: Type.String(),
  circles: Type.Integer(),
  divisions: Type.Integer(),
  subdivisions: Type.Integer(),
  connections: Type.Integer(),
  activeConnections: Type.Integer(),
  connectionsDue: Type.Integer({ description: 'Connections with a balance due' }),
  duesPaise: Paise,
  advancePaise: Paise,
});

export const Overview = Type.Object({
  discoms: Type.Array(DiscomSummary),
  organisations: Type.Object({
    total: Type.Integer(),
    byType: Type.Record(Type.String(), Type.Integer()),
  }),
  billing: Type.Object({
    source: Type.Union([Type.String(), Type.Null()]),
    lastSyncedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  }),
  generatedAt: Type.String({ format: 'date-time' }),
});
export type Overview = Static<typeof Overview>;

const Subdivision = Type.Object(Named);
const Division = Type.Object({ ...Named, subdivisions: Type.Array(Subdivision) });
const Circle = Type.Object({ ...Named, divisions: Type.Array(Division) });

export const DiscomDetail = Type.Object({
  ...Named,
  state: Type.String(),
  consumerNoPattern: Type.String(),
  policy: Type.Object({
    rebateDueDateBp: Type.Integer({ description: 'Rebate for payment by the due date, basis points' }),
    rebateOnlineBp: Type.Integer(),
    rebateMaxBp: Type.Integer(),
    dpsMonthlyBp: Type.Integer({ description: 'Delayed payment surcharge per month, basis points' }),
    partPaymentAllowed: Type.Boolean(),
    minPaymentPaise: Paise,
  }),
  circles: Type.Array(Circle),
});

export const DiscomParams = Type.Object({
  code: Type.String({ pattern: '^[A-Za-z]{2,12}$', description: 'Discom code, such as NBPDCL' }),
});

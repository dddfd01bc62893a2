import { Type } from 'typebox';
import { errorCatalog } from '../errors.ts';

const Text = Type.Object({ en: Type.String(), hi: Type.String() });

/** The body of every error response. */
export const ErrorResponse = Type.Object(
  {
    error: Type.Object({
      code: Type.Union(Object.keys(errorCatalog).map((k) => Type.Literal(k))),
      message: Text,
      details: Type.Array(Type.Object({ path: Type.String(), problem: Type.String(), message: Text })),
      requestId: Type.String(),
    }),
  },
  { $id: undefined, description: 'An error: a stable code, a message in English and Hindi, and per-field or per-row details' },
);

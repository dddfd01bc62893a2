import { Type } from 'typebox';
import { errorCatalog } from '../errors.ts';

/**
 * An id in a path, a query or a body: a bigint column's value as decimal text. Eighteen digits
 * always fit a PostgreSQL bigint (2^63 − 1 has nineteen), so a longer one is refused as bad
 * input, naming the field, before any query sees it.
 */
export const ID_PATTERN = '^[0-9]{1,18}$';
export const IdStr = Type.String({ pattern: ID_PATTERN });

/** A row or line number of an upload or a statement (an int column), as a page's cursor. */
export const RowNo = Type.Integer({ minimum: 0, maximum: 2_147_483_647 });

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

import { sql, type RawBuilder } from 'kysely';

/**
 * `= ANY(…)` over a list of ids sent as one text parameter. A list of 1,00,000 ids as `IN ($1, …)`
 * would pass PostgreSQL's limit of 65,535 bind parameters; one parameter has no such limit and
 * plans as a hash or index lookup on both engines.
 */
export function anyId(ids: readonly bigint[]): RawBuilder<unknown> {
  return sql`ANY(string_to_array(${ids.join(',')}, ',')::bigint[])`;
}

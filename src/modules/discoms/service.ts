import type { Kysely } from 'kysely';
import { AppError } from '../../platform/errors.ts';
import type { DB } from '../../platform/db/schema.ts';
import { discomCounts, findDiscom, hierarchy, lastSync, organisationCounts } from './repository.ts';
import type { Overview } from './schemas.ts';

/**
 * The discoms' public overview. Counting a discom's connections reads the whole table, so the
 * overview is cached for a short while per process; it is a summary, not a balance anyone acts on.
 */

const TTL_MS = 30_000;

export class DiscomService {
  private cached: { at: number; value: Overview } | undefined;

  constructor(
    private readonly db: Kysely<DB>,
    private readonly clock: () => Date,
  ) {}

  async overview(): Promise<Overview> {
    const now = this.clock();
    if (this.cached && now.getTime() - this.cached.at < TTL_MS) return this.cached.value;
    const [discoms, orgs, sync] = await Promise.all([discomCounts(this.db), organisationCounts(this.db), lastSync(this.db)]);
    const value: Overview = {
      discoms: discoms.map((d) => ({
        code: d.code,
        name: d.name,
        nameHi: d.name_hi,
        state: d.state,
        circles: Number(d.circles),
        divisions: Number(d.divisions),
        subdivisions: Number(d.subdivisions),
        connections: Number(d.connections),
        activeConnections: Number(d.active_connections),
        connectionsDue: Number(d.connections_due),
        duesPaise: d.dues_paise.toString(),
        advancePaise: d.advance_paise.toString(),
      })),
      organisations: {
        total: orgs.reduce((s, o) => s + Number(o.n), 0),
        byType: Object.fromEntries(orgs.map((o) => [o.type, Number(o.n)])),
      },
      billing: { source: sync?.source ?? null, lastSyncedAt: sync?.last_finished_at?.toISOString() ?? null },
      generatedAt: now.toISOString(),
    };
    this.cached = { at: now.getTime(), value };
    return value;
  }

  invalidate(): void {
    this.cached = undefined;
  }

  async detail(code: string) {
    const d = await findDiscom(this.db, code.toUpperCase());
    if (!d) throw new AppError('NOT_FOUND');
    const h = await hierarchy(this.db, d.id);
    const named = (x: { code: string; name: string; name_hi: string }) => ({ code: x.code, name: x.name, nameHi: x.name_hi });
    return {
      ...named(d),
      state: d.state,
      consumerNoPattern: d.consumer_no_pattern,
      policy: {
        rebateDueDateBp: d.rebate_due_date_bp,
        rebateOnlineBp: d.rebate_online_bp,
        rebateMaxBp: d.rebate_max_bp,
        dpsMonthlyBp: d.dps_monthly_bp,
        partPaymentAllowed: d.part_payment_allowed,
        minPaymentPaise: d.min_payment_paise.toString(),
      },
      circles: h.circles.map((c) => ({
        ...named(c),
        divisions: h.divisions
          .filter((v) => v.circle_id === c.id)
          .map((v) => ({ ...named(v), subdivisions: h.subdivisions.filter((s) => s.division_id === v.id).map(named) })),
      })),
    };
  }
}

import type { App, AppContext } from '../../platform/context.ts';
import { ErrorResponse } from '../../platform/http/schemas.ts';
import { DiscomDetail, DiscomParams, Overview } from './schemas.ts';
import { DiscomService } from './service.ts';

export async function discomRoutes(app: App, { ctx }: { ctx: AppContext }): Promise<void> {
  const service = new DiscomService(ctx.database.db, ctx.clock);

  app.get(
    '/api/v1/overview',
    {
      config: { access: { public: true } },
      schema: {
        tags: ['discoms'],
        summary: 'Discoms with counts of their hierarchy, connections and dues; organisations by type',
        response: { 200: Overview },
      },
    },
    async () => service.overview(),
  );

  app.get(
    '/api/v1/discoms/:code',
    {
      config: { access: { public: true } },
      schema: {
        tags: ['discoms'],
        summary: 'A discom, its payment policy and its circles, divisions and subdivisions',
        params: DiscomParams,
        response: { 200: DiscomDetail, 400: ErrorResponse, 404: ErrorResponse },
      },
    },
    async (req) => service.detail(req.params.code),
  );
}

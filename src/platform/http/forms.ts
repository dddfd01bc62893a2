import type { FastifyInstance } from 'fastify';

/**
 * Form posts (application/x-www-form-urlencoded), read only where a browser must post one: the
 * gateway's checkout returning the payer, and the sandbox gateway's hosted checkout. Nowhere
 * else: a form can be posted to any site from any other without the browser asking first, so an
 * API that took forms could be made to log a visitor in (login CSRF) or act for them.
 */
export function acceptForms(app: FastifyInstance): void {
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 64 * 1024 }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });
}

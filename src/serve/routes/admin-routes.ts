/**
 * @module Admin API (API key required): list versions, activate one, roll back. A switch here is
 * the same atomic pointer flip as `rtrec versions`; this process reloads at once, others within
 * their refresh interval.
 */
import type { RouteDeps, RtrecApp } from '../app-types.js';
import { ActivatedSchema, ERROR_RESPONSES, EmptyQuerySchema, ErrorSchema, VersionListSchema, VersionParamsSchema } from '../schemas.js';

export function registerAdminRoutes(app: RtrecApp, deps: RouteDeps): void {
  const { store, watcher } = deps;
  const security: { [label: string]: string[] }[] = [{ apiKey: [] }, { bearer: [] }];
  const errors = { ...ERROR_RESPONSES, 409: ErrorSchema };

  app.get('/v1/admin/versions', {
    config: { access: 'admin' },
    schema: { summary: 'Published versions', tags: ['admin'], security, querystring: EmptyQuerySchema, response: { 200: VersionListSchema, ...errors } },
  }, async () => {
    const [active, versions] = await Promise.all([store.activeVersion(), store.listVersions()]);
    return {
      active,
      versions: versions.map((r) => ({ version: r.version, status: r.status, createdAt: r.createdAt, readyAt: r.readyAt, counts: r.counts, meta: r.meta })),
    };
  });

  app.post('/v1/admin/versions/:version/activate', {
    config: { access: 'admin' },
    schema: { summary: 'Activate a ready version', tags: ['admin'], security, params: VersionParamsSchema, querystring: EmptyQuerySchema, response: { 200: ActivatedSchema, ...errors } },
  }, async (req) => {
    const previous = await store.activeVersion();
    const record = await store.activate(req.params.version);
    await watcher.refresh();
    return { active: record.version, previous };
  });

  app.post('/v1/admin/versions/rollback', {
    config: { access: 'admin' },
    schema: { summary: 'Activate the version that was active before the current one (among older ready versions)', tags: ['admin'], security, querystring: EmptyQuerySchema, response: { 200: ActivatedSchema, ...errors } },
  }, async () => {
    const { from, to } = await store.rollback();
    await watcher.refresh();
    return { active: to, previous: from };
  });
}

/**
 * @module The read API: personalised recommendations (single and batch), similar items, the popular
 * list and item metadata. Every handler takes the current version snapshot once and uses only it.
 * List answers are sent as JSON text built by answer-json.ts (same shapes as the response schemas).
 */
import type { FastifyReply } from 'fastify';
import { RecError } from '../../core/errors.js';
import type { VersionSnapshot } from '../active-version.js';
import { batchJson, popularJson, similarJson, userRecsAnswer } from '../answer-json.js';
import type { RouteDeps, RtrecApp } from '../app-types.js';
import {
  BatchBodySchema,
  BatchRecsSchema,
  ERROR_RESPONSES,
  ItemInfoSchema,
  ItemParamsSchema,
  EmptyQuerySchema,
  KOnlyQuerySchema,
  ListQuerySchema,
  PopularSchema,
  SimilarSchema,
  UserParamsSchema,
  UserRecsSchema,
  assertIdText,
  parseExcludeCsv,
} from '../schemas.js';

export const DEGRADED_HEADER = 'x-rtrec-degraded';
export const JSON_TYPE = 'application/json; charset=utf-8';
export const USER_RECS_ROUTE = '/v1/users/:userId/recommendations';

/** The snapshot a request uses. @throws RTREC_ERR_STORE_NO_ACTIVE_VERSION before any version is loaded */
export function snapshotOf(deps: RouteDeps): VersionSnapshot {
  const snap = deps.watcher.current();
  if (!snap) {
    const why = deps.watcher.notReadyReason();
    throw new RecError(why?.code ?? 'RTREC_ERR_STORE_NO_ACTIVE_VERSION', why?.message ?? 'no published version is loaded yet');
  }
  return snap;
}

/** Sends JSON text built by answer-json.ts (the typed reply only takes schema-shaped objects). */
function sendJsonText(reply: unknown, text: string): void {
  void (reply as FastifyReply).type(JSON_TYPE).send(text);
}

function markDegraded(deps: RouteDeps, reply: FastifyReply, route: string, degraded: boolean): void {
  if (!degraded) return;
  void reply.header(DEGRADED_HEADER, '1');
  deps.metrics.degraded.inc({ route });
}

export function registerReadRoutes(app: RtrecApp, deps: RouteDeps): void {
  const { service } = deps;

  app.get(USER_RECS_ROUTE, {
    config: { access: 'read' },
    schema: {
      summary: 'Top-k recommendations for a user',
      description: 'Personalised items for a known user; an unknown user gets the popular list with source "popular" (still a 200).',
      tags: ['recommendations'],
      params: UserParamsSchema,
      querystring: ListQuerySchema,
      response: { 200: UserRecsSchema, ...ERROR_RESPONSES },
    },
  }, async (req, reply) => {
    const { userId } = req.params;
    assertIdText('params/userId', userId);
    const exclude = parseExcludeCsv(req.query.exclude);
    const snap = snapshotOf(deps);
    const ans = await service.userRecs(snap, userId, { k: req.query.k, exclude, genre: req.query.genre });
    markDegraded(deps, reply, 'user-recs', ans.degraded);
    sendJsonText(reply, userRecsAnswer(snap, userId, ans.source, ans.selection).text);
    return reply;
  });

  app.post('/v1/recommendations::batch', {
    config: { access: 'read' },
    schema: {
      summary: 'Top-k recommendations for up to 1000 users at once',
      tags: ['recommendations'],
      querystring: EmptyQuerySchema,
      body: BatchBodySchema,
      response: { 200: BatchRecsSchema, ...ERROR_RESPONSES, 413: ERROR_RESPONSES[400], 415: ERROR_RESPONSES[400] },
    },
  }, async (req, reply) => {
    const { userIds, k = 10, exclude = [], genre } = req.body;
    userIds.forEach((id, j) => assertIdText(`body/userIds/${j}`, id));
    exclude.forEach((id, j) => assertIdText(`body/exclude/${j}`, id));
    const snap = snapshotOf(deps);
    const answers = await Promise.all(userIds.map((id) => service.userRecs(snap, id, { k, exclude, genre })));
    markDegraded(deps, reply, 'batch', answers.some((a) => a.degraded));
    sendJsonText(reply, batchJson(snap, answers.map((a, j) => ({ userId: userIds[j], source: a.source, selection: a.selection }))));
    return reply;
  });

  app.get('/v1/items/:itemId/similar', {
    config: { access: 'read' },
    schema: {
      summary: 'Items similar to an item',
      tags: ['items'],
      params: ItemParamsSchema,
      querystring: ListQuerySchema,
      response: { 200: SimilarSchema, ...ERROR_RESPONSES },
    },
  }, async (req, reply) => {
    const { itemId } = req.params;
    assertIdText('params/itemId', itemId);
    const exclude = parseExcludeCsv(req.query.exclude);
    const snap = snapshotOf(deps);
    if (!snap.itemIndex.has(itemId)) throw new RecError('RTREC_ERR_HTTP_NOT_FOUND', `item ${JSON.stringify(itemId)} is not in version ${snap.version}`);
    const ans = await service.similar(snap, itemId, { k: req.query.k, exclude, genre: req.query.genre });
    markDegraded(deps, reply, 'similar', ans.degraded);
    sendJsonText(reply, similarJson(snap, itemId, ans.source, ans.selection));
    return reply;
  });

  app.get('/v1/popular', {
    config: { access: 'read' },
    schema: {
      summary: 'The most popular items (distinct users in training plus recent events, decayed)',
      tags: ['items'],
      querystring: KOnlyQuerySchema,
      response: { 200: PopularSchema, ...ERROR_RESPONSES },
    },
  }, async (req, reply) => {
    const snap = snapshotOf(deps);
    sendJsonText(reply, popularJson(snap, await service.popular(snap, { k: req.query.k, genre: req.query.genre })));
  });

  app.get('/v1/items/:itemId', {
    config: { access: 'read' },
    schema: {
      summary: 'Metadata of an item',
      tags: ['items'],
      params: ItemParamsSchema,
      querystring: EmptyQuerySchema,
      response: { 200: ItemInfoSchema, ...ERROR_RESPONSES },
    },
  }, (req, reply) => {
    const { itemId } = req.params;
    assertIdText('params/itemId', itemId);
    const snap = snapshotOf(deps);
    const idx = snap.itemIndex.get(itemId);
    if (idx === undefined) throw new RecError('RTREC_ERR_HTTP_NOT_FOUND', `item ${JSON.stringify(itemId)} is not in version ${snap.version}`);
    void reply.send({ ...snap.catalog.metadata[idx], itemId, modelVersion: snap.version });
  });
}

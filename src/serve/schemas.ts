/**
 * @module TypeBox schemas of every route: they validate requests (unknown query parameters and
 * body fields are refused), shape the fast JSON serialisation of responses, and generate the
 * OpenAPI document at /docs.
 */
import { Type } from 'typebox';
import { RecError } from '../core/errors.js';
import { idTextProblem } from '../core/ids.js';

export const MAX_ID_BYTES = 256;
export const MAX_K = 100;
export const DEFAULT_K = 10;
export const MAX_BATCH_USERS = 1000;
export const MAX_EXCLUDE = 100;

/** Printable text: no ASCII control characters (they break logs, keys and CSV exports). */
const NO_CONTROL_CHARS = '^[^\\x00-\\x1F\\x7F]+$';

export const IdSchema = Type.String({ minLength: 1, maxLength: MAX_ID_BYTES, pattern: NO_CONTROL_CHARS, description: `An external id: 1-${MAX_ID_BYTES} bytes of UTF-8 (well-formed Unicode), no control characters.` });

const K = Type.Integer({ minimum: 1, maximum: MAX_K, default: DEFAULT_K, description: `Number of items, 1-${MAX_K}.` });
const Genre = Type.String({ minLength: 1, maxLength: 64, pattern: NO_CONTROL_CHARS, description: 'Only items whose genres metadata contains this genre (case-insensitive).' });
const ExcludeCsv = Type.String({ maxLength: MAX_EXCLUDE * (MAX_ID_BYTES + 1), description: `Comma-separated item ids never to return (at most ${MAX_EXCLUDE}).` });

export const ListQuerySchema = Type.Object({ k: K, exclude: Type.Optional(ExcludeCsv), genre: Type.Optional(Genre) }, { additionalProperties: false });
export const KOnlyQuerySchema = Type.Object({ k: K, genre: Type.Optional(Genre) }, { additionalProperties: false });
export const EmptyQuerySchema = Type.Object({}, { additionalProperties: false });

export const UserParamsSchema = Type.Object({ userId: IdSchema }, { additionalProperties: false });
export const ItemParamsSchema = Type.Object({ itemId: IdSchema }, { additionalProperties: false });
export const VersionParamsSchema = Type.Object({ version: Type.Integer({ minimum: 1, description: 'Version number.' }) }, { additionalProperties: false });

export const BatchBodySchema = Type.Object(
  {
    userIds: Type.Array(IdSchema, { minItems: 1, maxItems: MAX_BATCH_USERS, description: `User ids, 1-${MAX_BATCH_USERS}.` }),
    k: Type.Optional(K),
    exclude: Type.Optional(Type.Array(IdSchema, { maxItems: MAX_EXCLUDE, description: 'Item ids never to return.' })),
    genre: Type.Optional(Genre),
  },
  { additionalProperties: false },
);

export const ItemSchema = Type.Object(
  {
    itemId: Type.String(),
    score: Type.Number({ description: 'Model score (higher is better); for popular lists, the number of users.' }),
    rank: Type.Integer({ minimum: 1 }),
  },
  { additionalProperties: true, description: "An item with its score and rank, plus the item's metadata fields (title, genres, …)." },
);

const ModelVersion = Type.Integer({ minimum: 1, description: 'Published version the answer was computed from.' });
const UserSource = Type.Union([Type.Literal('personalized'), Type.Literal('popular')], { description: 'popular: the user is unknown to this version, or their events leave nothing to rank by (then without the items they disliked or saw), or the store is unreachable.' });

export const UserRecsSchema = Type.Object({ userId: Type.String(), modelVersion: ModelVersion, source: UserSource, items: Type.Array(ItemSchema) });
export const BatchRecsSchema = Type.Object({
  modelVersion: ModelVersion,
  results: Type.Array(Type.Object({ userId: Type.String(), source: UserSource, items: Type.Array(ItemSchema) })),
});
export const SimilarSchema = Type.Object({
  itemId: Type.String(),
  modelVersion: ModelVersion,
  source: Type.Union([Type.Literal('similar'), Type.Literal('popular')]),
  items: Type.Array(ItemSchema),
});
export const PopularSchema = Type.Object({ modelVersion: ModelVersion, items: Type.Array(ItemSchema) });
export const ItemInfoSchema = Type.Object({ itemId: Type.String(), modelVersion: ModelVersion }, { additionalProperties: true });

export const ErrorSchema = Type.Object(
  { code: Type.String({ description: 'Stable machine-readable code, RTREC_ERR_*.' }), message: Type.String() },
  { description: 'Every error answer has this shape.' },
);

export const HealthSchema = Type.Object({ status: Type.String() });
export const ReadySchema = Type.Object({
  status: Type.String(),
  modelVersion: Type.Optional(Type.Integer({ description: 'The version being served.' })),
  loadingVersion: Type.Optional(Type.Integer({ description: 'A newly activated version still loading; modelVersion serves meanwhile.' })),
  degraded: Type.Optional(Type.Boolean()),
});

const VersionInfo = Type.Object(
  {
    version: Type.Integer(),
    status: Type.String(),
    createdAt: Type.String(),
    readyAt: Type.Optional(Type.String()),
    counts: Type.Optional(Type.Record(Type.String(), Type.Integer())),
    meta: Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()])),
  },
  { additionalProperties: false },
);
export const VersionListSchema = Type.Object({ active: Type.Union([Type.Integer(), Type.Null()]), versions: Type.Array(VersionInfo) });
export const ActivatedSchema = Type.Object({ active: Type.Integer(), previous: Type.Union([Type.Integer(), Type.Null()]) });

/** Standard error responses, for the OpenAPI document. */
export const ERROR_RESPONSES = {
  400: ErrorSchema,
  401: ErrorSchema,
  404: ErrorSchema,
  429: ErrorSchema,
  503: ErrorSchema,
} as const;

/**
 * Checks what JSON Schema cannot: the UTF-8 byte length of an id (maxLength counts characters) and
 * that it is well-formed Unicode (see idTextProblem).
 * @throws RTREC_ERR_HTTP_VALIDATION
 */
export function assertIdText(what: string, id: string): void {
  if (Buffer.byteLength(id, 'utf8') > MAX_ID_BYTES) {
    throw new RecError('RTREC_ERR_HTTP_VALIDATION', `${what} is longer than ${MAX_ID_BYTES} bytes`);
  }
  const why = idTextProblem(id);
  if (why) throw new RecError('RTREC_ERR_HTTP_VALIDATION', `${what} ${why}`);
}

/** Splits a comma-separated exclude list and checks each id. @throws RTREC_ERR_HTTP_VALIDATION */
export function parseExcludeCsv(csv: string | undefined): string[] {
  if (csv === undefined) return [];
  const ids = csv.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (ids.length > MAX_EXCLUDE) throw new RecError('RTREC_ERR_HTTP_VALIDATION', `querystring/exclude lists ${ids.length} ids, at most ${MAX_EXCLUDE} are allowed`);
  for (const id of ids) assertIdText('querystring/exclude id', id);
  return ids;
}

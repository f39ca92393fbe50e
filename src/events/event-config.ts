/**
 * @module Event types and their weights: one TypeBox schema is the type, the defaults and the
 * validator. A weight is the interaction strength one event adds to its (user, item) pair, both in
 * the online update and in exported training data; a type with a negative weight is a dislike (the
 * item is removed from the user's interactions and never recommended to them). `rating` is built in:
 * its strength is its value (0.5–5). Configure with `RTREC_EVENT_WEIGHTS="view=1,click=2,…"`: the
 * listed types replace the defaults' weights and add new types.
 */
import { Type, type Static } from 'typebox';
import { Value } from 'typebox/value';
import { RecError } from '../core/errors.js';

export const RATING_TYPE = 'rating';
export const RATING_MIN = 0.5;
export const RATING_MAX = 5;
export const EVENT_WEIGHTS_ENV = 'RTREC_EVENT_WEIGHTS';

const TYPE_NAME = '^[a-z][a-z0-9_]{0,31}$';
const TYPE_NAME_RE = new RegExp(TYPE_NAME);

export const EventConfigSchema = Type.Object(
  {
    weights: Type.Record(Type.String({ pattern: TYPE_NAME }), Type.Number({ minimum: -100, maximum: 100 }), {
      description: 'Event type → strength one event adds to its (user, item) pair; negative = dislike. `rating` takes its strength from its value.',
    }),
  },
  { additionalProperties: false },
);

export type EventConfig = Static<typeof EventConfigSchema>;

/** Defaults: stronger intent weighs more; a dislike outweighs any positive signal. */
export const DEFAULT_EVENT_WEIGHTS: Readonly<Record<string, number>> = Object.freeze({
  [RATING_TYPE]: 1,
  view: 1,
  click: 2,
  add_to_cart: 3,
  purchase: 5,
  dislike: -5,
});

/**
 * The event configuration from `RTREC_EVENT_WEIGHTS` (comma-separated `type=weight` pairs) over the
 * defaults; `source` names where `text` came from in errors (a flag, the variable).
 * @throws RTREC_ERR_CONFIG_INVALID naming the source and the bad pair
 */
export function loadEventConfig(text: string | undefined = process.env[EVENT_WEIGHTS_ENV], source: string = EVENT_WEIGHTS_ENV): EventConfig {
  const weights: Record<string, number> = { ...DEFAULT_EVENT_WEIGHTS };
  for (const pair of (text ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const m = /^([^=\s]+)\s*=\s*(\S+)$/.exec(pair);
    const weight = m ? Number(m[2]) : NaN;
    if (!m || !Number.isFinite(weight)) throw new RecError('RTREC_ERR_CONFIG_INVALID', `${source}: ${JSON.stringify(pair)} is not type=weight`);
    if (!TYPE_NAME_RE.test(m[1])) throw new RecError('RTREC_ERR_CONFIG_INVALID', `${source}: event type ${JSON.stringify(m[1])} must be 1-32 lower-case letters, digits or _, starting with a letter`);
    if (m[1] === RATING_TYPE) throw new RecError('RTREC_ERR_CONFIG_INVALID', `${source}: rating events weigh their value; leave rating out`);
    weights[m[1]] = weight;
  }
  const config = { weights };
  const first = [...Value.Errors(EventConfigSchema, config)][0];
  if (first) throw new RecError('RTREC_ERR_CONFIG_INVALID', `${source}: ${first.instancePath.slice('/weights/'.length) || 'weights'} ${first.message}`);
  return Object.freeze({ weights: Object.freeze(weights) });
}

/** Strength of one event: the rating for `rating` events, else the type's weight (0 for an unknown type). */
export function eventStrength(config: EventConfig, type: string, value: number | undefined): number {
  if (type === RATING_TYPE) return value ?? 0;
  return config.weights[type] ?? 0;
}

export function isDislike(config: EventConfig, type: string): boolean {
  return type !== RATING_TYPE && (config.weights[type] ?? 0) < 0;
}

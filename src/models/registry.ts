/**
 * @module Model types by name: `rtrec train --model X` and model loading look factories up here.
 */
import { RecError } from '../core/errors.js';
import { alsFactory } from './als.js';
import { easeFactory } from './ease.js';
import { ialsFactory } from './ials.js';
import { popularityFactory } from './popularity.js';
import { MODEL_TYPES, type ModelType, type RecommenderFactory } from './recommender.js';

const FACTORIES: Readonly<Record<ModelType, RecommenderFactory>> = {
  als: alsFactory,
  ials: ialsFactory,
  ease: easeFactory,
  pop: popularityFactory,
};

export function isModelType(name: string): name is ModelType {
  return (MODEL_TYPES as readonly string[]).includes(name);
}

export function getFactory(type: string): RecommenderFactory {
  if (!isModelType(type)) {
    throw new RecError('RTREC_ERR_MODEL_UNKNOWN_TYPE', `unknown model type ${JSON.stringify(type)}; known types: ${MODEL_TYPES.join(', ')}`);
  }
  return FACTORIES[type];
}

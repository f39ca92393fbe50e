/**
 * @module Explicit-feedback ALS with Spark MLlib's semantics (`ALS(implicitPrefs=false)`, ALS-WR of
 * Zhou et al. 2008): minimises Σ_(u,i) (r_ui − x_uᵀy_i)² + λ(Σ_u n_u‖x_u‖² + Σ_i n_i‖y_i‖²), where
 * n_u, n_i count ratings. Each half-step solves, per row, (Σ y yᵀ + λ n_u I) x_u = Σ r y by Cholesky,
 * or by NNLS when `nonnegative`. Factors start as Gaussian rows scaled to unit length; each iteration
 * solves items from users, then users from items (Spark's order). Predictions are ratings.
 */
import { DEFAULT_SEED } from '../core/rng.js';
import type { CsrMatrix } from '../core/csr.js';
import { MfModel } from './mf-base.js';
import { resolveParams, type ParamSpec } from './mf-params.js';
import { createSolveWorkspace, solveExplicitRow, type SolveWorkspace } from './mf-solve.js';
import { trainMf } from './mf-trainer.js';
import type { FitOptions, FitReport, HyperParameters, ModelState, Recommender, RecommenderFactory } from './recommender.js';

/** Hyper-parameters; names follow `rtrec train` flags and Spark's ALS parameters. */
export const ALS_PARAMS: ParamSpec = {
  rank: { kind: 'int', min: 1, description: 'Number of latent factors (Spark rank).' },
  iterations: { kind: 'int', min: 0, description: 'ALS iterations, each an item then a user half-step (Spark maxIter).' },
  reg: { kind: 'number', min: 0, description: 'Regularisation λ, scaled per row by its number of ratings (Spark regParam).' },
  nonnegative: { kind: 'boolean', description: 'Constrain factors to be ≥ 0 (NNLS solver), as Spark nonnegative.' },
  seed: { kind: 'int', min: 0, description: 'Seed of the factor initialisation.' },
};

// Tuned by `npm run bench:tune` (3 validation folds carved from the MovieLens 100K benchmark train split; BENCHMARKS.md, section tune): best RMSE.
export const ALS_DEFAULTS: HyperParameters = { rank: 10, iterations: 15, reg: 0.15, nonnegative: false, seed: DEFAULT_SEED };

function isZeroRow(factors: Float32Array, offset: number, rank: number): boolean {
  for (let a = 0; a < rank; a++) if (factors[offset + a] !== 0) return false;
  return true;
}

class AlsModel extends MfModel implements Recommender {
  readonly type = 'als' as const;
  readonly predictsRatings = true;
  private readonly iterations: number;
  private readonly reg: number;
  private readonly nonnegative: boolean;
  private readonly seed: number;
  private readonly ws: SolveWorkspace;
  private readonly foldX: Float32Array;

  constructor(hyperParameters: HyperParameters) {
    const p = resolveParams('als', ALS_PARAMS, ALS_DEFAULTS, hyperParameters);
    super(p, p.rank as number);
    this.iterations = p.iterations as number;
    this.reg = p.reg as number;
    this.nonnegative = p.nonnegative as boolean;
    this.seed = p.seed as number;
    this.ws = createSolveWorkspace(this.rank);
    this.foldX = new Float32Array(this.rank);
  }

  async fit(userItems: CsrMatrix, options?: FitOptions): Promise<FitReport> {
    const result = await trainMf(
      userItems,
      { kind: 'als', rank: this.rank, iterations: this.iterations, reg: this.reg, alpha: 0, cgSteps: 0, nonnegative: this.nonnegative, seed: this.seed },
      options,
    );
    this.setFactors(result.userFactors, result.itemFactors);
    return result.report;
  }

  /**
   * Fold-in: the user half-step of a fit for a user rating exactly `items` with `values` (entries
   * with an unknown item or a non-finite value are ignored; duplicates count twice).
   */
  protected foldIn(items: Int32Array, values: Float32Array): Float32Array {
    const { items: itemFactors } = this.fitted();
    solveExplicitRow(itemFactors, this.rank, items, values, this.reg, this.nonnegative, this.ws);
    for (let a = 0; a < this.rank; a++) this.foldX[a] = this.ws.x[a];
    return this.foldX;
  }

  /**
   * Predicted rating; NaN for an index out of range or a user/item that had no rating in training
   * (its factor is zero, as Spark has no factor for it: the caller drops the pair, coldStartStrategy 'drop').
   */
  override predict(userIdx: number, itemIdx: number): number {
    const value = super.predict(userIdx, itemIdx);
    if (Number.isNaN(value)) return value;
    const { users, items } = this.fitted();
    if (isZeroRow(users, userIdx * this.rank, this.rank) || isZeroRow(items, itemIdx * this.rank, this.rank)) return NaN;
    return value;
  }

  restore(numUsers: number, numItems: number, state: ModelState): this {
    this.restoreFactors(numUsers, numItems, state);
    return this;
  }
}

export const alsFactory: RecommenderFactory = {
  type: 'als',
  defaults: ALS_DEFAULTS,
  explicit: true,
  create: (hyperParameters) => new AlsModel(hyperParameters),
  restore: (hyperParameters, numUsers, numItems, state) => new AlsModel(hyperParameters).restore(numUsers, numItems, state),
};

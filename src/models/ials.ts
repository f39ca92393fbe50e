/**
 * @module Implicit-feedback ALS (Hu, Koren & Volinsky 2008, "Collaborative Filtering for Implicit
 * Feedback Datasets"), as the implicit library's CPU model: confidence c_ui = 1 + α|r_ui|,
 * preference p_ui = 1 when r_ui > 0, else 0; minimises Σ_(u,i) c_ui (p_ui − x_uᵀy_i)² + λ(‖X‖² + ‖Y‖²)
 * over all pairs (unobserved pairs: c = 1, p = 0). A negative strength (a dislike) therefore means
 * "preference 0 with confidence 1 + α|r|", as in implicit and Spark. λ is not scaled by counts (unlike
 * Spark's implicit mode). Each half-step runs `cgSteps` conjugate-gradient steps per row warm-started
 * from the previous factors (Takács et al. 2011), using YᵀY + λI and only the row's nonzeros. Users are
 * solved first, then items. Scores rank items; they are not ratings.
 */
import { DEFAULT_SEED } from '../core/rng.js';
import type { CsrMatrix } from '../core/csr.js';
import { MfModel } from './mf-base.js';
import { resolveParams, type ParamSpec } from './mf-params.js';
import { createSolveWorkspace, gramMatrix, solveImplicitRow, type SolveWorkspace } from './mf-solve.js';
import { trainMf } from './mf-trainer.js';
import type { FitOptions, FitReport, HyperParameters, ModelState, Recommender, RecommenderFactory } from './recommender.js';

export const IALS_PARAMS: ParamSpec = {
  rank: { kind: 'int', min: 1, description: 'Number of latent factors (implicit: factors).' },
  iterations: { kind: 'int', min: 0, description: 'ALS iterations, each a user then an item half-step.' },
  reg: { kind: 'number', min: 0, description: 'Regularisation λ on ‖X‖² + ‖Y‖² (implicit: regularization).' },
  alpha: { kind: 'number', min: 0, description: 'Confidence slope: c = 1 + alpha·|strength|.' },
  cgSteps: { kind: 'int', min: 1, description: 'Conjugate-gradient steps per row and half-step (implicit: cg_steps).' },
  seed: { kind: 'int', min: 0, description: 'Seed of the factor initialisation.' },
};

// Tuned by `npm run bench:tune` (3 validation folds carved from the MovieLens 100K benchmark train split; BENCHMARKS.md, section tune): best nDCG@10.
export const IALS_DEFAULTS: HyperParameters = { rank: 16, iterations: 15, reg: 50, alpha: 3, cgSteps: 3, seed: DEFAULT_SEED };

class IalsModel extends MfModel implements Recommender {
  readonly type = 'ials' as const;
  readonly predictsRatings = false;
  private readonly iterations: number;
  private readonly reg: number;
  private readonly alpha: number;
  private readonly cgSteps: number;
  private readonly seed: number;
  private readonly ws: SolveWorkspace;
  private readonly foldX: Float32Array;
  private itemGram: Float64Array | null = null;

  constructor(hyperParameters: HyperParameters) {
    const p = resolveParams('ials', IALS_PARAMS, IALS_DEFAULTS, hyperParameters);
    super(p, p.rank as number);
    this.iterations = p.iterations as number;
    this.reg = p.reg as number;
    this.alpha = p.alpha as number;
    this.cgSteps = p.cgSteps as number;
    this.seed = p.seed as number;
    this.ws = createSolveWorkspace(this.rank);
    this.foldX = new Float32Array(this.rank);
  }

  async fit(userItems: CsrMatrix, options?: FitOptions): Promise<FitReport> {
    const result = await trainMf(
      userItems,
      { kind: 'ials', rank: this.rank, iterations: this.iterations, reg: this.reg, alpha: this.alpha, cgSteps: this.cgSteps, nonnegative: false, seed: this.seed },
      options,
    );
    this.setFactors(result.userFactors, result.itemFactors);
    return result.report;
  }

  protected override onFactorsChanged(): void {
    this.itemGram = null;
  }

  /**
   * Fold-in: the exact least-squares user half-step (Cholesky; the point the training CG steps
   * approach) for a user with interactions `items`/`values` against the fixed item factors. YᵀY is
   * cached, so a call costs O(n·rank² + rank³).
   */
  protected foldIn(items: Int32Array, values: Float32Array): Float32Array {
    const { items: itemFactors } = this.fitted();
    if (!this.itemGram) {
      this.itemGram = new Float64Array(this.rank * this.rank);
      gramMatrix(itemFactors, this.rank, this.itemGram);
    }
    solveImplicitRow(itemFactors, this.rank, this.itemGram, items, values, this.reg, this.alpha, this.ws);
    for (let a = 0; a < this.rank; a++) this.foldX[a] = this.ws.x[a];
    return this.foldX;
  }

  restore(numUsers: number, numItems: number, state: ModelState): this {
    this.restoreFactors(numUsers, numItems, state);
    return this;
  }
}

export const ialsFactory: RecommenderFactory = {
  type: 'ials',
  defaults: IALS_DEFAULTS,
  explicit: false,
  create: (hyperParameters) => new IalsModel(hyperParameters),
  restore: (hyperParameters, numUsers, numItems, state) => new IalsModel(hyperParameters).restore(numUsers, numItems, state),
};

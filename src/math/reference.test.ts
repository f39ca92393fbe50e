import { describe, it, expect } from 'vitest';
import { quadraticObjective, solveDense } from './reference.js';

describe('reference solvers', () => {
  it('solves a hand-computed 3×3 system that needs pivoting', () => {
    // [0 1 1; 1 0 1; 1 1 0] x = [5; 4; 3]  →  x = [1, 2, 3]
    const x = solveDense([0, 1, 1, 1, 0, 1, 1, 1, 0], 3, [5, 4, 3]);
    expect(Array.from(x).map((v) => Math.round(v * 1e9) / 1e9)).toEqual([1, 2, 3]);
  });

  it('returns NaN for a singular system', () => {
    expect(Number.isNaN(solveDense([1, 2, 2, 4], 2, [1, 2])[0])).toBe(true);
  });

  it('evaluates ½xᵀAx − bᵀx', () => {
    // A = [2 0; 0 4], b = [1, 1], x = [1, 2]: ½(2 + 16) − 3 = 6
    expect(quadraticObjective([2, 0, 0, 4], 2, [1, 1], [1, 2])).toBe(6);
  });
});

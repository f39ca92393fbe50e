import { describe, expect, it } from 'vitest';
import { DEFAULT_EVENT_WEIGHTS, eventStrength, isDislike, loadEventConfig } from './event-config.js';

describe('loadEventConfig', () => {
  it('uses the default types and weights when nothing is set', () => {
    const c = loadEventConfig('');
    expect(c.weights).toEqual(DEFAULT_EVENT_WEIGHTS);
    expect(Object.keys(c.weights).sort()).toEqual(['add_to_cart', 'click', 'dislike', 'purchase', 'rating', 'view']);
  });

  it('overrides weights and adds types from "type=weight" pairs', () => {
    const c = loadEventConfig(' view=0.5, share=4 ,dislike=-2');
    expect(c.weights.view).toBe(0.5);
    expect(c.weights.share).toBe(4);
    expect(c.weights.purchase).toBe(5);
    expect(isDislike(c, 'dislike')).toBe(true);
    expect(isDislike(c, 'share')).toBe(false);
  });

  it('refuses malformed pairs, bad type names, out-of-range weights and a rating weight', () => {
    for (const bad of ['view', 'view=abc', 'View=1', 'a-b=1', 'view=1000', 'rating=2']) {
      expect(() => loadEventConfig(bad), bad).toThrow(expect.objectContaining({ code: 'RTREC_ERR_CONFIG_INVALID' }));
    }
  });

  it('gives rating events their value and other events their weight', () => {
    const c = loadEventConfig('');
    expect(eventStrength(c, 'rating', 3.5)).toBe(3.5);
    expect(eventStrength(c, 'purchase', undefined)).toBe(5);
    expect(eventStrength(c, 'nope', undefined)).toBe(0);
  });
});

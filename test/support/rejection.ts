/**
 * @module The RecError a promise rejects with, for tests that check an error's code and message.
 */
import { expect } from 'vitest';
import { RecError } from '../../src/core/errors.js';

/** Awaits `promise` and returns its RecError; fails the test when it resolves or rejects with anything else. */
export async function rejection(promise: Promise<unknown>): Promise<RecError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(RecError);
    return err as RecError;
  }
  throw new Error('expected a rejection');
}

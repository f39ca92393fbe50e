/**
 * @module Request ids: a caller's plain `x-request-id` is reused (it ends up in logs, so only short,
 * plain values), else one is generated from a random prefix per process and a counter — unique
 * across a fleet for all practical purposes, and cheaper than a UUID per request. Shared by the
 * Fastify app and the fast lane, so both name requests the same way.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** Incoming x-request-id values are reused only when short and plain (they end up in logs). */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function createRequestIds(): (req: IncomingMessage) => string {
  const prefix = randomBytes(6).toString('hex');
  let n = 0;
  return (req) => {
    const given = req.headers['x-request-id'];
    return typeof given === 'string' && REQUEST_ID.test(given) ? given : `${prefix}-${(++n).toString(36)}`;
  };
}

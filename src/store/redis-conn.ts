/**
 * @module One way to send commands to Redis, whether a single server (`redis://`, `rediss://`) or a
 * cluster (`redis+cluster://h1:p1,h2:p2`): node-redis underneath, commands never queued while
 * disconnected (they fail at once, so a server can answer from its fallbacks instead of hanging), and
 * reconnection in the background with a backoff capped at 500 ms so service returns quickly. Every
 * command has a deadline on its reply (reply-deadline.ts), default DEFAULT_REPLY_TIMEOUT_MS.
 */
import { createClient, createCluster, RESP_TYPES } from 'redis';
import { RecError } from '../core/errors.js';
import { redactUrl } from '../core/redact-url.js';
import { ReplyTimeoutError, withReplyDeadline } from './reply-deadline.js';

export interface RedisTarget {
  readonly kind: 'single' | 'cluster';
  /** node-redis URLs: one for a single server, one per seed node for a cluster. */
  readonly urls: readonly string[];
  /** Prefix of every key rtrec writes (URL parameter `prefix`, default `rtrec`). */
  readonly prefix: string;
  /** The URL without password, for messages. */
  readonly description: string;
}

export interface RedisConnOptions {
  /**
   * 'wait': connecting fails after `connectTimeoutMs` (command-line use). 'background': returns at
   * once and keeps connecting (servers, which report not-ready meanwhile).
   */
  readonly connect?: 'wait' | 'background';
  readonly connectTimeoutMs?: number;
}

export interface SendOptions {
  /** Return bulk strings as Buffers (binary values) instead of strings. */
  readonly buffers?: boolean;
  /**
   * Fail the command (RTREC_ERR_STORE_UNAVAILABLE, see isReplyTimeout) when no reply came within this
   * many ms of sending it, round trip included. Default DEFAULT_REPLY_TIMEOUT_MS.
   */
  readonly timeoutMs?: number;
}

export interface RedisConn {
  /** Sends one command; `key` (any key it touches) routes it to the right node of a cluster. */
  send(key: string | undefined, args: readonly (string | Buffer)[], options?: SendOptions): Promise<unknown>;
  /**
   * Every master as the cluster's slot map shows them now (a single server: itself), for the few
   * commands whose answer is per node, such as SCAN; keyed commands go through `send`.
   */
  masters(): Promise<RedisNode[]>;
  readonly isReady: boolean;
  close(): Promise<void>;
}

/** One server of the store, for commands answered per node. */
export interface RedisNode {
  /** `host:port`, for messages. */
  readonly address: string;
  send(args: readonly (string | Buffer)[], options?: SendOptions): Promise<unknown>;
}

/** Reply deadline of commands sent without `timeoutMs`, in ms. */
export const DEFAULT_REPLY_TIMEOUT_MS = 30_000;

const PREFIX_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;
const MAX_BACKOFF_MS = 500;

/** Parses a `redis://`, `rediss://` or `redis+cluster://` store URL. @throws RTREC_ERR_CONFIG_INVALID */
export function parseRedisUrl(url: string): RedisTarget {
  // node-redis parses the URL again (WHATWG rules): what it would misread or reject is refused here,
  // with a message that never shows the password.
  if (url.indexOf('@') !== url.lastIndexOf('@')) throw invalid(url, 'more than one @: percent-encode an @ in the user name or password as %40');
  const m = /^(redis|rediss|redis\+cluster):\/\/(?:([^@/]*)@)?([^/?#@]+)(\/\d+)?\/?(?:\?(.*))?$/.exec(url);
  if (!m) throw invalid(url, 'expected redis://[user:password@]host:port[/db][?prefix=name] or redis+cluster://host1:port1,host2:port2 (percent-encode / ? # @ in a password)');
  const [, scheme, auth, hosts, db, query] = m;
  if (auth !== undefined) checkUserInfo(url, auth);
  const params = new URLSearchParams(query ?? '');
  for (const key of params.keys()) if (key !== 'prefix') throw invalid(url, `unknown parameter ${JSON.stringify(key)} (only prefix)`);
  const prefix = params.get('prefix') ?? 'rtrec';
  if (!PREFIX_PATTERN.test(prefix)) throw invalid(url, 'prefix must be 1-64 letters, digits, _ . or -');
  const hostList = hosts.split(',').filter((h) => h !== '');
  for (const h of hostList) checkHost(url, h);
  const authPart = auth === undefined ? '' : `${auth}@`;
  if (scheme === 'redis+cluster') {
    if (db !== undefined) throw invalid(url, 'a cluster has only database 0; leave out the /db part');
    if (hostList.length === 0) throw invalid(url, 'name at least one cluster node');
    return {
      kind: 'cluster',
      urls: hostList.map((h) => `redis://${authPart}${h}`),
      prefix,
      description: redactUrl(`redis+cluster://${authPart}${hostList.join(',')}${query ? `?${query}` : ''}`),
    };
  }
  if (hostList.length !== 1) throw invalid(url, 'a single-server URL names exactly one host (use redis+cluster:// for several)');
  return {
    kind: 'single',
    urls: [`${scheme}://${authPart}${hostList[0]}${db ?? ''}`],
    prefix,
    description: redactUrl(`${scheme}://${authPart}${hostList[0]}${db ?? ''}${query ? `?${query}` : ''}`),
  };
}

/** Connects to `target` (see RedisConnOptions for when this resolves). */
export async function connectRedis(target: RedisTarget, options: RedisConnOptions = {}): Promise<RedisConn> {
  const mode = options.connect ?? 'wait';
  const waitMs = options.connectTimeoutMs ?? 5_000;
  const started = Date.now();
  let everConnected = false;
  const reconnectStrategy = (retries: number): number | Error => {
    if (!everConnected && mode === 'wait' && Date.now() - started > waitMs) {
      return new Error(`no connection within ${waitMs} ms`);
    }
    return Math.min(25 * 2 ** retries, MAX_BACKOFF_MS);
  };
  const base = { disableOfflineQueue: true, socket: { reconnectStrategy, connectTimeout: Math.min(waitMs, 2_000) } };
  let conn: ConnImpl;
  try {
    conn = target.kind === 'single' ? singleConn(target, base) : clusterConn(target, base);
  } catch (err) {
    // parseRedisUrl refuses what node-redis is known to reject; this is the net for the rest. The
    // error is not kept as the cause: node-redis's may quote the URL, password included.
    throw new RecError('RTREC_ERR_CONFIG_INVALID', `node-redis cannot use ${target.description} (${(err as Error).name})`);
  }
  const connecting = conn.connect().then(() => {
    everConnected = true;
  });
  if (mode === 'background') {
    connecting.catch(() => undefined);
    return conn;
  }
  try {
    await connecting;
  } catch (err) {
    await conn.close().catch(() => undefined);
    throw new RecError('RTREC_ERR_STORE_UNAVAILABLE', `cannot connect to ${target.description}: ${(err as Error).message}`, { cause: err });
  }
  return conn;
}

interface ConnImpl extends RedisConn {
  connect(): Promise<void>;
}

type BaseOptions = { disableOfflineQueue: boolean; socket: { reconnectStrategy: (retries: number) => number | Error; connectTimeout: number } };

const BUFFERS = { [RESP_TYPES.BLOB_STRING]: Buffer } as const;

function singleConn(target: RedisTarget, base: BaseOptions): ConnImpl {
  const client = createClient({ url: target.urls[0], ...base });
  // node-redis emits 'error' for every failed (re)connection; the failures surface per command.
  client.on('error', () => undefined);
  let closed = false;
  const send = async (args: readonly (string | Buffer)[], options: SendOptions = {}): Promise<unknown> => {
    try {
      return await withReplyDeadline(client.sendCommand(args, commandOptions(options)), options.timeoutMs ?? DEFAULT_REPLY_TIMEOUT_MS, commandName(args));
    } catch (err) {
      throw unavailable(target, args, err);
    }
  };
  return {
    async connect() {
      await client.connect();
    },
    get isReady() {
      return client.isReady;
    },
    send: (_key, args, options) => send(args, options),
    masters: () => Promise.resolve([{ address: target.description, send }]),
    async close() {
      if (closed) return;
      closed = true;
      if (client.isOpen) await client.close();
      else client.destroy();
    },
  };
}

/**
 * node-redis per-command options for our SendOptions: Buffer replies, and node-redis's own timeout
 * off (0), since it only counts the wait before the command is written (see reply-deadline.ts).
 */
function commandOptions(options: SendOptions) {
  return { timeout: 0, ...(options.buffers ? { typeMapping: BUFFERS } : {}) };
}

function commandName(args: readonly (string | Buffer)[]): string {
  return typeof args[0] === 'string' ? args[0] : 'command';
}

/** True when `err` (from RedisConn.send) means the reply did not come in time, not that the command failed. */
export function isReplyTimeout(err: unknown): boolean {
  return err instanceof RecError && err.cause instanceof ReplyTimeoutError;
}

function clusterConn(target: RedisTarget, base: BaseOptions): ConnImpl {
  const cluster = createCluster({ rootNodes: target.urls.map((url) => ({ url })), defaults: base, minimizeConnections: false });
  cluster.on('error', () => undefined);
  let ready = false;
  let closed = false;
  return {
    async connect() {
      // A cluster client gives up when no seed node answers; keep trying until closed.
      let delay = 25;
      for (;;) {
        try {
          await cluster.connect();
          ready = true;
          return;
        } catch (err) {
          const verdict = base.socket.reconnectStrategy(0);
          if (closed || verdict instanceof Error) throw err;
          await new Promise((r) => setTimeout(r, delay));
          delay = Math.min(delay * 2, MAX_BACKOFF_MS);
        }
      }
    },
    get isReady() {
      return ready && cluster.isOpen;
    },
    async send(key, args, options = {}) {
      try {
        const reply = cluster.sendCommand(key, false, args as (string | Buffer)[], commandOptions(options));
        return await withReplyDeadline(reply, options.timeoutMs ?? DEFAULT_REPLY_TIMEOUT_MS, commandName(args));
      } catch (err) {
        throw unavailable(target, args, err);
      }
    },
    async masters() {
      return Promise.all(
        cluster.masters.map(async (master): Promise<RedisNode> => {
          const client = await cluster.nodeClient(master);
          return {
            address: master.address,
            async send(args, options = {}) {
              try {
                return await withReplyDeadline(client.sendCommand(args as (string | Buffer)[], commandOptions(options)), options.timeoutMs ?? DEFAULT_REPLY_TIMEOUT_MS, commandName(args));
              } catch (err) {
                throw unavailable(target, args, err);
              }
            },
          };
        }),
      );
    },
    async close() {
      if (closed) return;
      closed = true;
      if (cluster.isOpen) await cluster.close();
      else cluster.destroy();
    },
  };
}

function unavailable(target: RedisTarget, args: readonly (string | Buffer)[], err: unknown): RecError {
  if (err instanceof ReplyTimeoutError) return new RecError('RTREC_ERR_STORE_UNAVAILABLE', `${target.description}: ${err.message}`, { cause: err });
  // Some node-redis errors (e.g. TimeoutError) carry no message, only a class name.
  const why = err instanceof Error ? err.message || err.name : String(err);
  return new RecError('RTREC_ERR_STORE_UNAVAILABLE', `${target.description}: ${commandName(args)} failed: ${why}`, { cause: err });
}

/** A `host`, `host:port`, `[v6]` or `[v6]:port` with a port of 1-65535. */
function checkHost(url: string, h: string): void {
  const m = /^(?:[^:[\]]+|\[[0-9a-fA-F:.]+\])(?::(\d{1,5}))?$/.exec(h);
  if (!m) throw invalid(url, `bad host ${JSON.stringify(h)}`);
  const port = m[1] === undefined ? undefined : Number(m[1]);
  if (port !== undefined && !(port >= 1 && port <= 65535)) throw invalid(url, `port ${port} is not 1-65535`);
}

/** User name and password as node-redis will read them: ? and # would end them, % must escape. */
function checkUserInfo(url: string, auth: string): void {
  if (/[?#]/.test(auth)) throw invalid(url, 'the user name or password holds ? or #: percent-encode them (%3F, %23)');
  try {
    decodeURIComponent(auth);
  } catch {
    throw invalid(url, 'malformed %-escape in the user name or password');
  }
}

function invalid(url: string, why: string): RecError {
  return new RecError('RTREC_ERR_CONFIG_INVALID', `bad Redis store URL ${JSON.stringify(redactUrl(url))}: ${why}`);
}

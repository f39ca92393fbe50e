/**
 * @module A lean HTTP/1.1 client for the load generators: keep-alive TCP connections to one local
 * port, one request at a time per connection (no pipelining), requests written as one string,
 * answers read by their status line and content-length. node:http's client costs the load
 * generator about 200 µs of CPU per request on these machines (agent bookkeeping, a request and a
 * response object, header parsing, streams), which it takes from the server it measures on a shared
 * 2-core machine; autocannon, bench:serve's saturation load, is built the same lean way.
 *
 * Answers without content-length (chunked, or delimited by close) are not read: such an exchange
 * fails with status 0, so a server that starts sending them shows up as errors, not as wrong timings.
 */
import { connect, type Socket } from 'node:net';

export interface Exchange {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  /** JSON body (POST). */
  readonly body?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/** Status 0: the exchange failed (connection error, timeout, or an answer this client cannot read). */
export interface Answer {
  readonly status: number;
  readonly body: string;
}

const HEAD_END = Buffer.from('\r\n\r\n');
const CONTENT_LENGTH = /\r\ncontent-length:[ \t]*(\d+)/i;
const CLOSE = /\r\nconnection:[ \t]*close/i;

interface Waiting {
  readonly request: string;
  readonly resolve: (answer: Answer) => void;
}

/** One keep-alive connection; `exchange` may only be called when it is idle. */
class Connection {
  readonly socket: Socket;
  #chunks: Buffer[] = [];
  #size = 0;
  #done: ((answer: Answer) => void) | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** Set when the server closes the connection after this answer (or sent more than one answer). */
  #retiring = false;
  closed = false;

  constructor(port: number, onClose: (c: Connection) => void) {
    this.socket = connect({ port, host: '127.0.0.1', noDelay: true });
    this.socket.on('data', (d: Buffer) => this.#onData(d));
    const close = () => {
      if (this.closed) return;
      this.closed = true;
      this.#finish({ status: 0, body: '' });
      onClose(this);
    };
    this.socket.on('error', close);
    this.socket.on('close', close);
  }

  exchange(request: string, timeoutMs: number, done: (answer: Answer) => void): void {
    this.#done = done;
    this.#timer = setTimeout(() => this.socket.destroy(), timeoutMs);
    this.socket.write(request);
  }

  #onData(d: Buffer): void {
    this.#chunks.push(d);
    this.#size += d.length;
    const all = this.#chunks.length === 1 ? d : Buffer.concat(this.#chunks, this.#size);
    this.#chunks = [all];
    const headEnd = all.indexOf(HEAD_END);
    if (headEnd < 0) return;
    const head = all.toString('latin1', 0, headEnd);
    const length = CONTENT_LENGTH.exec(head);
    if (!length) {
      this.socket.destroy();
      return;
    }
    const bodyStart = headEnd + HEAD_END.length;
    const bodyEnd = bodyStart + Number(length[1]);
    if (all.length < bodyEnd) return;
    const status = Number(head.slice(9, 12));
    const answer = { status: Number.isInteger(status) ? status : 0, body: all.toString('utf8', bodyStart, bodyEnd) };
    this.#chunks = [];
    this.#size = 0;
    if (all.length > bodyEnd || CLOSE.test(head)) {
      // More bytes than one answer (this client never pipelines), or the server closes: start afresh.
      this.#retiring = true;
      this.socket.destroy();
    }
    this.#finish(answer);
  }

  #finish(answer: Answer): void {
    clearTimeout(this.#timer);
    const done = this.#done;
    this.#done = undefined;
    done?.(answer);
  }

  /** Idle and open: may take the next exchange. */
  get reusable(): boolean {
    return this.#done === undefined && !this.closed && !this.#retiring;
  }
}

/** Up to `connections` keep-alive connections to 127.0.0.1:`port`; calls beyond them wait their turn. */
export class HttpPool {
  readonly #port: number;
  readonly #max: number;
  readonly #timeoutMs: number;
  readonly #idle: Connection[] = [];
  readonly #all = new Set<Connection>();
  readonly #queue: Waiting[] = [];
  #queueHead = 0;

  constructor(port: number, connections: number, timeoutMs = 10_000) {
    this.#port = port;
    this.#max = connections;
    this.#timeoutMs = timeoutMs;
  }

  send(x: Exchange): Promise<Answer> {
    let text = `${x.method} ${x.path} HTTP/1.1\r\nhost: 127.0.0.1:${this.#port}\r\n`;
    for (const [name, value] of Object.entries(x.headers ?? {})) text += `${name}: ${value}\r\n`;
    text += x.body === undefined ? '\r\n' : `content-length: ${Buffer.byteLength(x.body)}\r\n\r\n${x.body}`;
    return new Promise((resolve) => {
      const idle = this.#idle.pop();
      if (idle) this.#run(idle, { request: text, resolve });
      else if (this.#all.size < this.#max) this.#run(this.#open(), { request: text, resolve });
      else this.#queue.push({ request: text, resolve });
    });
  }

  /** True when a call sent now would wait: every connection busy and no room to open another. */
  get saturated(): boolean {
    return this.#idle.length === 0 && this.#all.size >= this.#max;
  }

  /** Closes every connection (exchanges still in flight fail with status 0). */
  close(): void {
    for (const c of this.#all) c.socket.destroy();
  }

  #open(): Connection {
    const c = new Connection(this.#port, (gone) => {
      this.#all.delete(gone);
      const at = this.#idle.indexOf(gone);
      if (at >= 0) this.#idle.splice(at, 1);
      // A waiting call gets a fresh connection in place of the one that closed.
      const next = this.#dequeue();
      if (next) this.#run(this.#open(), next);
    });
    this.#all.add(c);
    return c;
  }

  #run(c: Connection, w: Waiting): void {
    c.exchange(w.request, this.#timeoutMs, (answer) => {
      w.resolve(answer);
      if (!c.reusable) return;
      const next = this.#dequeue();
      if (next) this.#run(c, next);
      else this.#idle.push(c);
    });
  }

  #dequeue(): Waiting | undefined {
    if (this.#queueHead >= this.#queue.length) return undefined;
    const next = this.#queue[this.#queueHead++];
    if (this.#queueHead > 1024 && this.#queueHead * 2 > this.#queue.length) {
      this.#queue.splice(0, this.#queueHead);
      this.#queueHead = 0;
    }
    return next;
  }
}

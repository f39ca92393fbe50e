/** @module A pino destination for tests: keeps the JSON lines a server logged, to read back. */
import { Writable } from 'node:stream';

export interface LogRecord {
  readonly reqId?: string;
  readonly msg?: string;
  readonly level?: number;
  readonly statusCode?: number;
  readonly [field: string]: unknown;
}

export interface LineSink {
  readonly stream: Writable;
  /** Every line logged so far, parsed. */
  records(): LogRecord[];
  /** Every line logged so far, as written. */
  text(): string;
}

export function lineSink(): LineSink {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      cb();
    },
  });
  return { stream, records: () => lines.map((l) => JSON.parse(l) as LogRecord), text: () => lines.join('\n') };
}

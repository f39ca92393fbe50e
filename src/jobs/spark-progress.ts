/**
 * @module Relays what the Spark job prints on stderr: its progress events (`RTREC_SPARK {json}`
 * lines from train_als.py --progress json) become readable lines, with stage task counts as one
 * line rewritten in place on a terminal or an occasional line otherwise; Spark's own log lines are
 * filtered (errors shown, the rest kept in a short tail for the error message if the job fails).
 */

/** A progress event of the job: a step (read, prepare, fit, write, recommend, done) or a stage's task count. */
export interface SparkEvent {
  /** 'step' or 'stage' (other names may come from newer jobs and are shown as steps). */
  readonly event: string;
  readonly message: string;
  readonly step?: string;
  readonly stage?: number;
  readonly done?: number;
  readonly total?: number;
}

const EVENT_PREFIX = 'RTREC_SPARK ';
/** Lines of Spark's output kept for the error message of a failed job. */
const TAIL_LINES = 40;
/** Exception lines kept at the start and at the end of the run. */
const CAUSE_LINES = 3;
/** A Java or Python exception line: `java.lang.X: msg`, `Caused by: …`, `org.apache.spark.SparkException: …`, `ValueError: …`. */
const EXCEPTION_LINE = /^(?:Caused by: )?(?:[\w$]+\.)*[\w$]*(?:Exception|Error)(?::|$)/;
/** Without a terminal, at most one stage line per this many milliseconds. */
const STAGE_LINE_INTERVAL_MS = 10_000;

/** The event on a line, or null for any other line (or a malformed event). */
export function parseSparkEvent(line: string): SparkEvent | null {
  if (!line.startsWith(EVENT_PREFIX)) return null;
  try {
    const value = JSON.parse(line.slice(EVENT_PREFIX.length)) as unknown;
    if (typeof value === 'object' && value !== null && typeof (value as SparkEvent).event === 'string' && typeof (value as SparkEvent).message === 'string') {
      return value as SparkEvent;
    }
  } catch {
    // Not one of ours after all: treated as a log line.
  }
  return null;
}

/** Spark/JVM lines worth showing as they come: errors (log4j ERROR, Python tracebacks are kept for the end). */
function isErrorLine(line: string): boolean {
  return /^\d\d\/\d\d\/\d\d \d\d:\d\d:\d\d ERROR /.test(line);
}

export interface SparkRelayOptions {
  /** Writes a complete line (no newline); default stderr. */
  readonly log?: (line: string) => void;
  /** Rewrites one status line in place (terminal only); when absent, stage lines are throttled into `log`. */
  readonly status?: (text: string) => void;
  /** Milliseconds clock (tests). */
  readonly now?: () => number;
}

export class SparkOutputRelay {
  readonly #log: (line: string) => void;
  readonly #status: ((text: string) => void) | undefined;
  readonly #now: () => number;
  readonly #tail: string[] = [];
  readonly #causes: string[] = [];
  #carry = '';
  #lastStageLine = -Infinity;
  #statusShown = false;
  /** The job's own error message (`train_als.py: error: …`), when it printed one. */
  jobError: string | undefined;
  readonly events: SparkEvent[] = [];

  constructor(options: SparkRelayOptions = {}) {
    this.#log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
    this.#status = options.status;
    this.#now = options.now ?? Date.now;
  }

  /** Feeds a chunk of output (any split; lines are reassembled). */
  write(chunk: string): void {
    const text = this.#carry + chunk;
    const lines = text.split('\n');
    this.#carry = lines.pop() ?? '';
    for (const line of lines) this.line(line.replace(/\r$/, ''));
  }

  /** Flushes a last unterminated line and clears the status line. */
  end(): void {
    if (this.#carry) this.line(this.#carry);
    this.#carry = '';
    this.#clearStatus();
  }

  /** Spark's last output lines (events excluded), for a failure message. */
  tail(): string[] {
    return this.#tail.slice();
  }

  /**
   * Exception lines seen (`java.lang.StackOverflowError`, `Caused by: …`, Python `ValueError: …`),
   * the first few and the last few: the root cause is usually the first, long before the tail.
   */
  causes(): string[] {
    return this.#causes.slice();
  }

  line(line: string): void {
    const event = parseSparkEvent(line);
    if (event) {
      this.events.push(event);
      this.#onEvent(event);
      return;
    }
    if (line.trim() === '') return;
    this.#tail.push(line);
    if (this.#tail.length > TAIL_LINES) this.#tail.shift();
    if (EXCEPTION_LINE.test(line) && !this.#causes.includes(line)) {
      // Keep the first CAUSE_LINES and a sliding window of the last CAUSE_LINES.
      if (this.#causes.length >= 2 * CAUSE_LINES) this.#causes.splice(CAUSE_LINES, 1);
      this.#causes.push(line);
    }
    const jobError = /^train_als\.py: error: (.*)$/.exec(line);
    if (jobError) this.jobError = jobError[1];
    else if (isErrorLine(line)) this.#print(`spark: ${line}`);
  }

  #onEvent(event: SparkEvent): void {
    if (event.event !== 'stage') {
      this.#print(`spark: ${event.message}`);
      return;
    }
    if (this.#status) {
      this.#status(`spark: ${event.message}`);
      this.#statusShown = true;
      return;
    }
    const now = this.#now();
    if (now - this.#lastStageLine >= STAGE_LINE_INTERVAL_MS) {
      this.#lastStageLine = now;
      this.#log(`spark: ${event.message}`);
    }
  }

  #print(line: string): void {
    this.#clearStatus();
    this.#log(line);
  }

  #clearStatus(): void {
    if (this.#statusShown && this.#status) this.#status('');
    this.#statusShown = false;
  }
}

/** A status line on an interactive stderr: `\r` + clear-to-end, so each update replaces the last. */
export function terminalStatus(stream: NodeJS.WriteStream = process.stderr): (text: string) => void {
  return (text) => {
    const width = stream.columns > 0 ? stream.columns - 1 : 100;
    stream.write(`\r\x1b[K${text.slice(0, width)}`);
  };
}

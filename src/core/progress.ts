/**
 * @module Progress reporting for long steps (loading, training, scoring). A bar on an interactive
 * stderr; nothing when stderr is not a terminal or output is JSON, so logs and pipes stay clean.
 */
import cliProgress from 'cli-progress';

export interface Progress {
  /** Advances by `n` (default 1). */
  tick(n?: number): void;
  /** Sets the absolute value. */
  update(value: number, payload?: Record<string, string | number>): void;
  /** Ends the bar (idempotent). */
  stop(): void;
}

export interface ProgressOptions {
  /** Force on/off; by default on only when stderr is a TTY and RTREC_NO_PROGRESS is unset. */
  enabled?: boolean;
  /** Extra payload keys shown after the bar, e.g. { loss: '0.123' }. */
  extra?: string[];
}

const SILENT: Progress = { tick: () => undefined, update: () => undefined, stop: () => undefined };

export function progressEnabledByDefault(): boolean {
  return Boolean(process.stderr.isTTY) && !process.env.RTREC_NO_PROGRESS;
}

export function createProgress(label: string, total: number, options: ProgressOptions = {}): Progress {
  const enabled = options.enabled ?? progressEnabledByDefault();
  if (!enabled || total <= 0) return SILENT;
  const extra = (options.extra ?? []).map((key) => ` ${key} {${key}}`).join('');
  const bar = new cliProgress.SingleBar(
    {
      format: `${label.padEnd(18)} [{bar}] {percentage}% {value}/{total} eta {eta_formatted}${extra}`,
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: false,
      etaBuffer: 20,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, Object.fromEntries((options.extra ?? []).map((key) => [key, ''])));
  let stopped = false;
  let value = 0;
  return {
    tick(n = 1) {
      value += n;
      bar.update(value);
    },
    update(v, payload) {
      value = v;
      bar.update(v, payload);
    },
    stop() {
      if (stopped) return;
      stopped = true;
      bar.stop();
    },
  };
}

/**
 * A bar over training iterations, created at the first iteration event (when the total is known),
 * showing the loss when the model reports one.
 */
export function iterationProgress(label: string, enabled: boolean): {
  onIteration: (e: { iteration: number; total: number; loss?: number }) => void;
  stop: () => void;
} {
  let bar: Progress | undefined;
  return {
    onIteration(e) {
      bar ??= createProgress(label, e.total, { enabled, extra: ['loss'] });
      bar.update(e.iteration, { loss: e.loss === undefined ? '' : e.loss.toFixed(4) });
    },
    stop() {
      bar?.stop();
    },
  };
}

/**
 * @module Prometheus counters and histograms for the per-request path, cheap to update. prom-client
 * validates and hashes the label set on every observe, even through a labelled child, and builds a
 * few objects each time: a visible share of a cheap request. Here a caller takes a series once per
 * label set (`series(labels)`) and updates plain numbers on it; the registry reads them only when
 * /metrics is scraped. The metric objects implement what prom-client's Registry asks of a metric
 * (`name`, `help`, `type`, `aggregator`, `get()`), so they sit in the same registry and text output
 * as prom-client's own metrics, with the same exposition format.
 */
import type { Aggregator, MetricObjectWithValues, MetricType, MetricValueWithName, Registry } from 'prom-client';

type Labels = Readonly<Record<string, string>>;

interface MetricOptions {
  readonly name: string;
  readonly help: string;
  readonly registers?: readonly Registry[];
}

abstract class FastMetric<S> {
  readonly name: string;
  readonly help: string;
  /** The Prometheus type name (prom-client's typings call it an enum; at run time it is this string). */
  abstract readonly type: 'counter' | 'histogram';
  readonly aggregator: Aggregator = 'sum';
  readonly #series = new Map<string, { labels: Labels; series: S }>();

  constructor(options: MetricOptions) {
    this.name = options.name;
    this.help = options.help;
    // The registry only keeps the object and calls get() at scrape time.
    for (const r of options.registers ?? []) r.registerMetric(this as never);
  }

  /** The series of one label set (created at first use); keep it and update it directly. */
  series(labels: Labels): S {
    const key = JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    let entry = this.#series.get(key);
    if (!entry) this.#series.set(key, (entry = { labels: { ...labels }, series: this.createSeries() }));
    return entry.series;
  }

  /** Called by prom-client's Registry when metrics are read. */
  collect(): void {}

  get(): Promise<MetricObjectWithValues<MetricValueWithName<string>>> {
    const values: MetricValueWithName<string>[] = [];
    for (const { labels, series } of this.#series.values()) this.valuesOf(labels, series, values);
    return Promise.resolve({ name: this.name, help: this.help, type: this.type as unknown as MetricType, aggregator: this.aggregator, collect: () => undefined, values });
  }

  protected abstract createSeries(): S;
  protected abstract valuesOf(labels: Labels, series: S, out: MetricValueWithName<string>[]): void;
}

export class CounterSeries {
  value = 0;

  inc(by = 1): void {
    this.value += by;
  }
}

export class FastCounter extends FastMetric<CounterSeries> {
  readonly type = 'counter' as const;

  protected createSeries(): CounterSeries {
    return new CounterSeries();
  }

  protected valuesOf(labels: Labels, series: CounterSeries, out: MetricValueWithName<string>[]): void {
    out.push({ labels: { ...labels }, value: series.value });
  }
}

export class HistogramSeries {
  /** Observations per bucket (not cumulative); the last one is above every bound. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  readonly #bounds: readonly number[];

  constructor(bounds: readonly number[]) {
    this.#bounds = bounds;
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const bounds = this.#bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]) i++;
    this.counts[i]++;
    this.sum += value;
    this.count++;
  }
}

export class FastHistogram extends FastMetric<HistogramSeries> {
  readonly type = 'histogram' as const;
  readonly #bounds: readonly number[];

  /** @param buckets upper bounds, ascending (the +Inf bucket is implied) */
  constructor(options: MetricOptions & { readonly buckets: readonly number[] }) {
    super(options);
    this.#bounds = [...options.buckets];
    for (let i = 1; i < this.#bounds.length; i++) {
      if (!(this.#bounds[i] > this.#bounds[i - 1])) throw new TypeError(`histogram ${options.name}: buckets must be ascending`);
    }
  }

  protected createSeries(): HistogramSeries {
    return new HistogramSeries(this.#bounds);
  }

  protected valuesOf(labels: Labels, series: HistogramSeries, out: MetricValueWithName<string>[]): void {
    let cumulative = 0;
    for (let i = 0; i < this.#bounds.length; i++) {
      cumulative += series.counts[i];
      out.push({ metricName: `${this.name}_bucket`, labels: { le: this.#bounds[i], ...labels }, value: cumulative });
    }
    out.push({ metricName: `${this.name}_bucket`, labels: { le: '+Inf', ...labels }, value: series.count });
    out.push({ metricName: `${this.name}_sum`, labels: { ...labels }, value: series.sum });
    out.push({ metricName: `${this.name}_count`, labels: { ...labels }, value: series.count });
  }
}

// A small, dependency-free metrics registry rendered in the Prometheus text exposition format (version 0.0.4),
// served at /metrics. Any module may register its own series on the shared `metrics` registry:
//
//   const files = metrics.counter({ name: 'shopflow_files_total', help: 'Sales files seen', labelNames: ['status'] });
//   files.inc({ status: 'loaded' });
//
// Registering the same name twice returns the first instrument (so modules imported by several servers in one
// process, e.g. in tests, do not collide); the same name with another type or other labels is a programming error.
// Label values must come from small, fixed sets (a route pattern, a status): never a key, an id or a URL, which
// would make the series count unbounded.

export type LabelValues = Record<string, string | number>;

type Kind = 'counter' | 'gauge' | 'histogram';

interface MetricOptions {
  name: string;
  help: string;
  labelNames?: readonly string[];
}

export interface GaugeOptions extends MetricOptions {
  /** runs before every render, e.g. to read a queue depth; a failing collector keeps the gauge's last values */
  collect?: (gauge: Gauge) => void | Promise<void>;
}

export interface HistogramOptions extends MetricOptions {
  /** upper bounds, ascending; `+Inf` is added */
  buckets?: readonly number[];
}

/** Suited to request and job durations in seconds. */
export const DEFAULT_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

abstract class Metric<V> {
  abstract readonly kind: Kind;
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  protected readonly series = new Map<string, { labels: string; value: V }>();

  constructor(o: MetricOptions) {
    if (!NAME.test(o.name)) throw new Error(`invalid metric name ${o.name}`);
    for (const l of o.labelNames ?? []) {
      if (!LABEL.test(l) || l.startsWith('__') || l === 'le') throw new Error(`invalid label name ${l} on ${o.name}`);
    }
    this.name = o.name;
    this.help = o.help;
    this.labelNames = [...(o.labelNames ?? [])];
  }

  private key(labels: LabelValues | undefined): { key: string; values: string[] } {
    const given = labels ?? {};
    const values = this.labelNames.map((l) => {
      const v = given[l];
      if (v === undefined) throw new Error(`metric ${this.name} needs label ${l}`);
      return String(v);
    });
    if (Object.keys(given).length !== this.labelNames.length) {
      throw new Error(`metric ${this.name} takes labels [${this.labelNames.join(', ')}]`);
    }
    return { key: values.join('\u0000'), values };
  }

  protected slot(labels: LabelValues | undefined, init: () => V): { labels: string; value: V } {
    const { key, values } = this.key(labels);
    let s = this.series.get(key);
    if (!s) {
      s = { labels: this.labelNames.map((l, i) => `${l}="${escapeLabel(values[i]!)}"`).join(','), value: init() };
      this.series.set(key, s);
    }
    return s;
  }

  /** the series' current value, without creating it */
  protected peek(labels: LabelValues | undefined): V | undefined {
    return this.series.get(this.key(labels).key)?.value;
  }

  /** forgets every series (for tests, and for gauges that are recomputed from scratch) */
  reset(): void {
    this.series.clear();
  }

  protected header(): string {
    return `# HELP ${this.name} ${escapeHelp(this.help)}\n# TYPE ${this.name} ${this.kind}\n`;
  }

  abstract render(): string;
}

export class Counter extends Metric<{ n: number }> {
  readonly kind = 'counter';
  inc(labels?: LabelValues, by = 1): void {
    if (!(by >= 0)) throw new Error(`counter ${this.name} can only go up (got ${by})`);
    this.slot(labels, () => ({ n: 0 })).value.n += by;
  }
  get(labels?: LabelValues): number {
    return this.peek(labels)?.n ?? 0;
  }
  render(): string {
    let out = this.header();
    for (const s of this.series.values()) out += `${this.name}${braces(s.labels)} ${num(s.value.n)}\n`;
    return out;
  }
}

export class Gauge extends Metric<{ n: number }> {
  readonly kind = 'gauge';
  readonly collect: GaugeOptions['collect'];
  constructor(o: GaugeOptions) {
    super(o);
    this.collect = o.collect;
  }
  set(labels: LabelValues | undefined, value: number): void {
    this.slot(labels, () => ({ n: 0 })).value.n = value;
  }
  inc(labels?: LabelValues, by = 1): void {
    this.slot(labels, () => ({ n: 0 })).value.n += by;
  }
  dec(labels?: LabelValues, by = 1): void {
    this.slot(labels, () => ({ n: 0 })).value.n -= by;
  }
  get(labels?: LabelValues): number {
    return this.peek(labels)?.n ?? 0;
  }
  render(): string {
    let out = this.header();
    for (const s of this.series.values()) out += `${this.name}${braces(s.labels)} ${num(s.value.n)}\n`;
    return out;
  }
}

interface HistogramSeries {
  counts: number[];
  sum: number;
  count: number;
}

export class Histogram extends Metric<HistogramSeries> {
  readonly kind = 'histogram';
  readonly buckets: readonly number[];
  constructor(o: HistogramOptions) {
    super(o);
    const b = [...(o.buckets ?? DEFAULT_BUCKETS)];
    if (b.length === 0 || b.some((x, i) => !Number.isFinite(x) || (i > 0 && x <= b[i - 1]!))) {
      throw new Error(`histogram ${o.name} needs finite, strictly ascending buckets`);
    }
    this.buckets = b;
  }
  observe(labels: LabelValues | undefined, value: number): void {
    if (Number.isNaN(value)) return;
    const s = this.slot(labels, () => ({ counts: this.buckets.map(() => 0), sum: 0, count: 0 })).value;
    // Counts are stored per bucket and made cumulative when rendered, so an observation costs one increment.
    const i = this.buckets.findIndex((b) => value <= b);
    if (i >= 0) s.counts[i]! += 1;
    s.sum += value;
    s.count += 1;
  }
  /** count and sum of the series, undefined before its first observation */
  get(labels?: LabelValues): { count: number; sum: number } | undefined {
    const s = this.peek(labels);
    return s && { count: s.count, sum: s.sum };
  }
  /** Starts a timer; the returned function observes the elapsed seconds. */
  startTimer(labels?: LabelValues): (more?: LabelValues) => number {
    const t0 = process.hrtime.bigint();
    return (more) => {
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      this.observe({ ...labels, ...more }, seconds);
      return seconds;
    };
  }
  render(): string {
    let out = this.header();
    for (const s of this.series.values()) {
      const sep = s.labels ? ',' : '';
      let cumulative = 0;
      this.buckets.forEach((b, i) => {
        cumulative += s.value.counts[i]!;
        out += `${this.name}_bucket{${s.labels}${sep}le="${num(b)}"} ${cumulative}\n`;
      });
      out += `${this.name}_bucket{${s.labels}${sep}le="+Inf"} ${s.value.count}\n`;
      out += `${this.name}_sum${braces(s.labels)} ${num(s.value.sum)}\n`;
      out += `${this.name}_count${braces(s.labels)} ${s.value.count}\n`;
    }
    return out;
  }
}

export class Registry {
  private readonly metrics = new Map<string, Counter | Gauge | Histogram>();

  counter(o: MetricOptions): Counter {
    return this.register('counter', o, () => new Counter(o));
  }
  gauge(o: GaugeOptions): Gauge {
    return this.register('gauge', o, () => new Gauge(o));
  }
  histogram(o: HistogramOptions): Histogram {
    return this.register('histogram', o, () => new Histogram(o));
  }

  get(name: string): Counter | Gauge | Histogram | undefined {
    return this.metrics.get(name);
  }

  /** The whole registry in the Prometheus text format; serve it as CONTENT_TYPE. */
  async render(): Promise<string> {
    const gauges = [...this.metrics.values()].filter((m): m is Gauge => m instanceof Gauge && !!m.collect);
    await Promise.allSettled(gauges.map(async (g) => g.collect!(g)));
    return [...this.metrics.values()].map((m) => m.render()).join('');
  }

  private register<M extends Counter | Gauge | Histogram>(kind: Kind, o: MetricOptions, make: () => M): M {
    const existing = this.metrics.get(o.name);
    if (existing) {
      const same =
        existing.kind === kind &&
        existing.labelNames.length === (o.labelNames ?? []).length &&
        existing.labelNames.every((l, i) => l === o.labelNames?.[i]);
      if (!same) throw new Error(`metric ${o.name} is already registered as another ${existing.kind}`);
      return existing as M;
    }
    const m = make();
    this.metrics.set(o.name, m);
    return m;
  }
}

export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** The process-wide registry that /metrics serves. */
export const metrics = new Registry();

function braces(labels: string): string {
  return labels ? `{${labels}}` : '';
}

function num(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Number.POSITIVE_INFINITY) return '+Inf';
  if (n === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(n);
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

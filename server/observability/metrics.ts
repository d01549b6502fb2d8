// GET /metrics: the few figures an operator graphs, in Prometheus' text format (version
// 0.0.4). Small on purpose — counters, gauges and one histogram kind, no labels beyond the
// ones named here — so it needs no client library.

type Labels = Record<string, string>;

function labelText(labels: Labels): string {
  const parts = Object.entries(labels).map(
    ([name, value]) =>
      `${name}="${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`,
  );
  return parts.length ? `{${parts.join(',')}}` : '';
}

interface Metric {
  render(): string[];
}

export class Counter implements Metric {
  private readonly values = new Map<string, number>();

  constructor(
    readonly name: string,
    private readonly help: string,
  ) {}

  inc(labels: Labels = {}, by = 1): void {
    const key = labelText(labels);
    this.values.set(key, (this.values.get(key) ?? 0) + by);
  }

  render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    if (this.values.size === 0) lines.push(`${this.name} 0`);
    for (const [key, value] of this.values) lines.push(`${this.name}${key} ${value}`);
    return lines;
  }
}

/**
 * A value read when scraped (open streams, running conversions, queued jobs), or — `counter`
 * — a count another part keeps (the bucket's retries), read the same way.
 */
export class Gauge implements Metric {
  constructor(
    readonly name: string,
    private readonly help: string,
    private readonly read: () => number | undefined,
    private readonly type: 'gauge' | 'counter' = 'gauge',
  ) {}

  render(): string[] {
    const value = this.read();
    return [
      `# HELP ${this.name} ${this.help}`,
      `# TYPE ${this.name} ${this.type}`,
      ...(value === undefined ? [] : [`${this.name} ${value}`]),
    ];
  }
}

export class Histogram implements Metric {
  private readonly series = new Map<string, { counts: number[]; sum: number; count: number }>();

  constructor(
    readonly name: string,
    private readonly help: string,
    private readonly buckets: number[],
  ) {}

  observe(value: number, labels: Labels = {}): void {
    const key = labelText(labels);
    let entry = this.series.get(key);
    if (!entry) {
      entry = { counts: this.buckets.map(() => 0), sum: 0, count: 0 };
      this.series.set(key, entry);
    }
    this.buckets.forEach((bound, i) => {
      if (value <= bound) entry.counts[i]! += 1;
    });
    entry.sum += value;
    entry.count += 1;
  }

  render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const [key, entry] of this.series) {
      const inner = key ? key.slice(1, -1) + ',' : '';
      this.buckets.forEach((bound, i) =>
        lines.push(`${this.name}_bucket{${inner}le="${bound}"} ${entry.counts[i]}`),
      );
      lines.push(`${this.name}_bucket{${inner}le="+Inf"} ${entry.count}`);
      lines.push(`${this.name}_sum${key} ${entry.sum}`, `${this.name}_count${key} ${entry.count}`);
    }
    return lines;
  }
}

/** Everything one server instance reports. */
export class Metrics {
  readonly requests = new Counter(
    'reelchat_http_requests_total',
    'HTTP requests answered, by method, route and status class.',
  );
  readonly uploadBytes = new Counter(
    'reelchat_upload_bytes_total',
    'Bytes of upload bodies received.',
  );
  readonly conversions = new Counter(
    'reelchat_conversions_total',
    'Conversions finished, by outcome (ready, failed) and path (job, live).',
  );
  readonly conversionSeconds = new Histogram(
    'reelchat_conversion_duration_seconds',
    'Wall time of finished conversions, by path.',
    [0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300],
  );
  readonly tryLater = new Counter(
    'reelchat_http_try_later_total',
    'Answers that asked the client to come back later (503, 507), by status.',
  );
  private readonly gauges: Gauge[] = [];

  gauge(name: string, help: string, read: () => number | undefined): void {
    this.gauges.push(new Gauge(name, help, read));
  }

  /** A count kept elsewhere, read when scraped. */
  countOf(name: string, help: string, read: () => number | undefined): void {
    this.gauges.push(new Gauge(name, help, read, 'counter'));
  }

  /** The exposition text; `extra` are gauges read asynchronously just before (queue sizes). */
  render(extra: Record<string, { help: string; value: number | undefined }> = {}): string {
    const metrics: Metric[] = [
      this.requests,
      this.uploadBytes,
      this.conversions,
      this.conversionSeconds,
      this.tryLater,
      ...this.gauges,
      ...Object.entries(extra).map(([name, { help, value }]) => new Gauge(name, help, () => value)),
    ];
    return metrics.flatMap((metric) => metric.render()).join('\n') + '\n';
  }
}

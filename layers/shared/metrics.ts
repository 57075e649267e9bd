import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

/**
 * Business metrics (the Operations issue), written as CloudWatch embedded metric format lines by
 * Powertools Metrics: each data point is published at once with its own dimensions, so one
 * invocation can count several outcomes. Code records through {@link MetricSink}; tests pass a
 * recorder, handlers the Powertools one. Locally the runtime turns them off
 * (`POWERTOOLS_METRICS_DISABLED`): they would only print JSON lines into the console.
 */
export interface MetricSink {
  /** Adds `value` (default 1) to a count, under the given dimensions. */
  count(name: string, dimensions?: Readonly<Record<string, string>>, value?: number): void;
  /** Records a measurement in seconds or MB/s. */
  measure(name: string, unit: 'Seconds' | 'MegabytesPerSecond', value: number, dimensions?: Readonly<Record<string, string>>): void;
}

/** The namespace of every Symbiont metric. */
export const METRICS_NAMESPACE = 'Symbiont';

const powertools = new Metrics({ namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? METRICS_NAMESPACE, serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'symbiont' });

function publish(name: string, unit: (typeof MetricUnit)[keyof typeof MetricUnit], value: number, dimensions: Readonly<Record<string, string>>): void {
  const single = powertools.singleMetric();
  for (const [key, dimension] of Object.entries(dimensions)) single.addDimension(key, dimension);
  single.addMetric(name, unit, value);
}

/** The sink handlers use: Powertools Metrics, to CloudWatch through the function's log. */
export const metrics: MetricSink = {
  count: (name, dimensions = {}, value = 1) => publish(name, MetricUnit.Count, value, dimensions),
  measure: (name, unit, value, dimensions = {}) => publish(name, unit === 'Seconds' ? MetricUnit.Seconds : MetricUnit.MegabytesPerSecond, value, dimensions),
};

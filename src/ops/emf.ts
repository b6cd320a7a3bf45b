// CloudWatch embedded metric format: a JSON log line that CloudWatch turns into metrics, with no API call from the
// function (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html).
// The ingest Lambda writes one per invocation; the FilesFailed alarm in infra/ reads it.

export interface EmfMetric {
  name: string;
  value: number;
  unit?: 'Count' | 'Milliseconds';
}

export function emfLine(
  namespace: string,
  dimensions: Record<string, string>,
  metrics: EmfMetric[],
  now = Date.now(),
): string {
  return JSON.stringify({
    _aws: {
      Timestamp: now,
      CloudWatchMetrics: [
        {
          Namespace: namespace,
          Dimensions: [Object.keys(dimensions)],
          Metrics: metrics.map((m) => ({ Name: m.name, Unit: m.unit ?? 'Count' })),
        },
      ],
    },
    ...dimensions,
    ...Object.fromEntries(metrics.map((m) => [m.name, m.value])),
  });
}

/** FilesLoaded / FilesFailed / FilesDuplicate for one ingest invocation's outcomes. */
export function ingestMetrics(outcomes: Array<{ status: string }>): EmfMetric[] {
  const count = (s: string[]) => outcomes.filter((o) => s.includes(o.status)).length;
  return [
    { name: 'FilesLoaded', value: count(['loaded', 'replaced']) },
    { name: 'FilesFailed', value: count(['failed']) },
    { name: 'FilesDuplicate', value: count(['duplicate', 'superseded']) },
  ];
}

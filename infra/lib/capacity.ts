// The database connection budget. Every Lambda instance that runs holds its own pool, so the worst case is reserved
// concurrency × pool for each function, on top of the API servers' pools. MySQL answers "Too many connections" past
// max_connections, which would turn a burst of sales files into a burst of failures; the stack refuses to
// synthesize a configuration that can reach that.
import type { InfraConfig } from './config.ts';

export interface ConnectionConsumer {
  name: string;
  instances: number;
  poolPerInstance: number;
}

export interface ConnectionBudget {
  maxConnections: number;
  /** kept free for administration, backups, migrations and the replication of a spike */
  headroom: number;
  api: number;
  lambdas: number;
  /** connections the Lambdas may use: max − API − headroom */
  lambdaAllowance: number;
  consumers: ConnectionConsumer[];
  ok: boolean;
}

export const HEADROOM_FRACTION = 0.1;

export function connectionBudget(
  maxConnections: number,
  api: ConnectionConsumer,
  lambdas: ConnectionConsumer[],
): ConnectionBudget {
  const headroom = Math.ceil(maxConnections * HEADROOM_FRACTION);
  const apiUse = api.instances * api.poolPerInstance;
  const lambdaUse = lambdas.reduce((sum, l) => sum + l.instances * l.poolPerInstance, 0);
  const lambdaAllowance = maxConnections - apiUse - headroom;
  return {
    maxConnections,
    headroom,
    api: apiUse,
    lambdas: lambdaUse,
    lambdaAllowance,
    consumers: [api, ...lambdas],
    ok: lambdaUse <= lambdaAllowance,
  };
}

export function budgetFor(c: InfraConfig): ConnectionBudget {
  const scale = c.scaleOut.enabled;
  return connectionBudget(
    scale ? c.scaleOut.dbMaxConnections : c.database.maxConnections,
    { name: 'api', instances: scale ? c.scaleOut.maxInstances : 1, poolPerInstance: c.database.apiPool },
    [
      { name: 'ingest', instances: c.ingest.reservedConcurrency, poolPerInstance: c.ingest.dbPool },
      { name: 'alerts', instances: c.alerts.reservedConcurrency, poolPerInstance: c.alerts.dbPool },
    ],
  );
}

export function describeBudget(b: ConnectionBudget): string {
  const parts = b.consumers.map((x) => `${x.name} ${x.instances}×${x.poolPerInstance}`).join(', ');
  return (
    `Lambda connections ${b.lambdas} must be ≤ max_connections ${b.maxConnections} − API ${b.api} − ` +
    `headroom ${b.headroom} = ${b.lambdaAllowance} (${parts})`
  );
}

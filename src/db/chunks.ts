// Rows per statement for the multi-row reads and writes: well inside SQLite's and MySQL's limits on bound
// parameters and packet size, and large enough that a statement's fixed cost is spread thin.
export const ROWS_PER_STATEMENT = 500;

/** `rows` in consecutive parts of at most ROWS_PER_STATEMENT. */
export const chunks = <T>(rows: readonly T[]): T[][] =>
  Array.from({ length: Math.ceil(rows.length / ROWS_PER_STATEMENT) }, (_, i) =>
    rows.slice(i * ROWS_PER_STATEMENT, (i + 1) * ROWS_PER_STATEMENT),
  );

/** The result of a query: the subset of pg's `QueryResult` Mailroom reads. */
export interface PgQueryResult<R = any> {
  rows: R[];
  rowCount: number | null;
}

/** Anything that runs a parameterized query: a pg `Pool`, `Client` or `PoolClient`. */
export interface PgQueryable {
  query<R = any>(text: string, values?: unknown[]): Promise<PgQueryResult<R>>;
}

/** A client checked out of a pool: the subset of pg's `PoolClient` Mailroom uses. */
export interface PgPoolClient extends PgQueryable {
  /** Returns the client to its pool; an error (or true) destroys it instead. */
  release(err?: Error | boolean): void;
  /** pg emits `error` on a checked-out client whose connection dies between queries. */
  on(event: 'error', listener: (error: Error) => void): unknown;
  removeListener(event: 'error', listener: (error: Error) => void): unknown;
}

/** The user's connection pool: the subset of pg's `Pool` Mailroom uses (a pg 8 `Pool` fits as it is). */
export interface PgPool extends PgQueryable {
  connect(): Promise<PgPoolClient>;
}

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

/** A query with a name: pg prepares it once per connection and reuses the plan. */
export interface PgNamedQuery {
  readonly name: string;
  readonly text: string;
  readonly values: unknown[];
}

/** A notification a listening pg client receives. */
export interface PgNotification {
  readonly channel: string;
  readonly payload?: string | undefined;
}

/** A client that listens: the subset of pg's `PoolClient` the transport's wake-up connection uses. */
export interface PgListeningClient extends PgPoolClient {
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'notification', listener: (message: PgNotification) => void): unknown;
  on(event: 'end', listener: () => void): unknown;
  removeAllListeners(event?: string): unknown;
}

/**
 * The pool the PostgreSQL transport works on: a pg 8 `Pool` fits as it is. Besides {@link PgPool},
 * it runs named (prepared) queries and hands out clients that can `LISTEN`.
 */
export interface PgTransportPool extends PgPool {
  query<R = any>(text: string, values?: unknown[]): Promise<PgQueryResult<R>>;
  query<R = any>(query: PgNamedQuery): Promise<PgQueryResult<R>>;
  connect(): Promise<PgListeningClient>;
  /** Closes the pool (called only for a pool the transport created itself). */
  end(): Promise<void>;
}

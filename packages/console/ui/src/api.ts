// The console API as the UI calls it: same-origin JSON, the session cookie sent by the browser.

/** A problem+json answer, thrown by {@link api}. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Record<string, unknown>,
  ) {
    super(typeof problem.detail === 'string' ? problem.detail : `HTTP ${status}`);
  }
}

/** Called when the server answers 401: the UI shows the login form. */
let onUnauthorized: () => void = () => {};
export function setUnauthorizedHandler(handler: () => void): void {
  onUnauthorized = handler;
}

/** GET or POST (JSON) to the console API; throws {@link ApiError} on a non-2xx answer. */
export async function api<T>(path: string, body?: unknown): Promise<T> {
  const response = await fetch(path, {
    method: body === undefined ? 'GET' : 'POST',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? null : JSON.stringify(body),
    credentials: 'same-origin',
  });
  const text = await response.text();
  const parsed = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
  if (response.status === 401 && path !== '/login') onUnauthorized();
  if (!response.ok) throw new ApiError(response.status, parsed);
  return parsed as T;
}

export interface Group {
  fingerprint: string;
  reason: string;
  message: string;
  topFrame: string | undefined;
  count: number;
  firstSeen: string;
  lastSeen: string;
  endpoints: string[];
  types: string[];
  sampleId: string;
}

export interface LetterSummary {
  id: string;
  endpoint: string;
  messageId: string;
  type: string;
  reason: string;
  errorMessage: string;
  attempts: number;
  deadLetteredAt: string;
  archivedAt?: string;
  archivedBy?: string;
  editedTo?: string;
}

export interface LetterView extends LetterSummary {
  headers: Record<string, string>;
  body: string;
  bodyIsJson: boolean;
  errorStack: string | undefined;
  firstFailureAt: string;
  lastFailureAt: string;
  traceId: string | undefined;
  editedFrom: string | undefined;
}

export interface ContractInfo {
  known: boolean;
  type: string;
  version: number | undefined;
  jsonSchema: Record<string, unknown> | undefined;
  note: string;
}

export interface Job {
  id: string;
  kind: string;
  who: string;
  state: 'running' | 'done' | 'failed';
  total: number | undefined;
  done: number;
  failed: number;
  errors: { id: string; message: string }[];
  startedAt: string;
  finishedAt: string | undefined;
}

export interface QueueInfo {
  endpoint: string;
  name: string;
  depth: number;
  inFlight: number | undefined;
  consumers: number | undefined;
  deadLetters: number;
  oldestMessageAgeMs?: number;
}

export interface Heartbeat {
  endpoint: string;
  instanceId: string;
  version: string;
  host: string;
  pid: number;
  alive: boolean;
  lastSeen: string;
  intervalMs: number;
  concurrency: number;
  inFlight: number;
  breakers: Record<string, string>;
}

export interface AuditEntry {
  who: string;
  at: string;
  action: string;
  ids?: string[];
  status?: number;
  outcome?: string;
  detail?: string;
}

export interface GraphNode {
  id: string;
  label: string;
  kind: 'endpoint' | 'event' | 'command';
  orphan: boolean;
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface GraphLayout {
  width: number;
  height: number;
  nodes: GraphNode[];
  edges: { from: string; to: string; label: string | undefined }[];
}

/** A destructive action: the first call answers 428 with a confirm token; `confirmed` sends it back. */
export async function confirmable<T>(path: string, body: Record<string, unknown>, ask: (detail: string) => Promise<boolean>): Promise<T | undefined> {
  try {
    return await api<T>(path, body);
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 428) throw error;
    if (!(await ask(error.message))) return undefined;
    return api<T>(path, { ...body, confirmToken: error.problem.confirmToken });
  }
}

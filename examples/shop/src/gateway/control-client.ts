import { CONTROL_TOKEN_HEADER, type Faults, type SupervisorStatus } from '../supervisor/control-api.js';

/** The gateway's handle on the supervisor's loopback control channel. */
export interface ControlClient {
  status(): Promise<SupervisorStatus>;
  /** Asks the supervisor to stop (and not restart) or start every process of a service. */
  setDesired(service: string, desired: 'running' | 'stopped'): Promise<void>;
  setFaults(faults: Faults): Promise<Faults>;
}

/** A supervisor answer other than 2xx, with its status kept for the gateway's own answer. */
export class ControlError extends Error {
  override readonly name = 'ControlError';
  constructor(
    message: string,
    readonly statusCode: number,
  ) {
    super(message);
  }
}

/**
 * The client of the supervisor's control channel at `baseUrl` (loopback only, with the token the
 * supervisor generated). Each call gives up after 3 s. Without a supervisor (the gateway started by
 * hand) every call rejects with a 503 {@link ControlError}.
 */
export function createControlClient(baseUrl: string | undefined, token: string | undefined): ControlClient {
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    if (!baseUrl || !token) throw new ControlError('This gateway runs without the shop supervisor (npm start); there is no process to control', 503);
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { [CONTROL_TOKEN_HEADER]: token, ...(body !== undefined && { 'content-type': 'application/json' }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(3000),
    });
    const text = await response.text();
    if (!response.ok) throw new ControlError(`The supervisor answered ${response.status}: ${text}`, response.status >= 500 ? 502 : response.status);
    return (text === '' ? undefined : JSON.parse(text)) as T;
  };
  return {
    status: () => call<SupervisorStatus>('GET', '/status'),
    setDesired: (service, desired) => call<void>('POST', `/services/${encodeURIComponent(service)}/${desired === 'running' ? 'start' : 'stop'}`),
    setFaults: (faults) => call<Faults>('PUT', '/faults', faults),
  };
}

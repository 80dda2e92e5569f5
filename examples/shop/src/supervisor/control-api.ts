/** The supervisor's control channel as the gateway sees it: the status it reports and what it accepts. */
import type { ServiceName } from '../service-names.js';

/** Where one worker process of a service stands. */
export type WorkerState = 'starting' | 'running' | 'stopping' | 'stopped' | 'restarting';

/** One worker process of a service. */
export interface WorkerStatus {
  /** 1-based number among the service's workers. */
  readonly index: number;
  readonly pid: number | undefined;
  readonly state: WorkerState;
  /** Times the supervisor restarted it after a crash. */
  readonly restarts: number;
  /** When it entered its current state (RFC 3339). */
  readonly since: string;
  /** How its last process ended, e.g. `exit code 1` or `signal SIGKILL`. */
  readonly lastExit: string | undefined;
}

/** One service: whether it should run (the stop/start buttons set this) and its workers. */
export interface ServiceStatus {
  readonly name: ServiceName;
  readonly desired: 'running' | 'stopped';
  readonly workers: readonly WorkerStatus[];
}

/** The fault switches the supervisor holds and pushes to every process. */
export interface Faults {
  /** While on, inventory's handler fails on orders of the poison product. */
  readonly poison: boolean;
}

/** `GET /status` of the control channel. */
export interface SupervisorStatus {
  readonly services: readonly ServiceStatus[];
  readonly faults: Faults;
}

/** The header carrying the control channel's secret (a random token the supervisor gives the gateway). */
export const CONTROL_TOKEN_HEADER = 'x-shop-control-token';

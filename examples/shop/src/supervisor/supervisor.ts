import { SERVICE_NAMES, type ServiceName } from '../service-names.js';
import type { Faults, ServiceStatus, SupervisorStatus } from './control-api.js';
import type { LogPrefixer } from './log-prefixer.js';
import { ManagedProcess } from './managed-process.js';

/** What the supervisor runs. */
export interface SupervisorOptions {
  /** The entry script of a service. */
  scriptOf: (service: ServiceName) => string;
  execArgv: readonly string[];
  /** Worker processes per service. */
  workers: Record<ServiceName, number>;
  /** The environment of a service's worker (the fault state is added to it). */
  envOf: (service: ServiceName, worker: number) => NodeJS.ProcessEnv;
  logs: LogPrefixer;
  restartDelayMs: number;
  faults: Faults;
  /** Called when the gateway announces its URL. */
  onGatewayUrl?: (url: string) => void;
  /** Called when a process exits saying it cannot start until a setting changes (it is not restarted). */
  onCannotStart?: (label: string, message: string) => void;
  /** Called when a process announces its operations URL (`/metrics`, `/health/*`). */
  onOpsUrl?: (service: ServiceName, worker: number, url: string) => void;
}

interface Service {
  name: ServiceName;
  desired: 'running' | 'stopped';
  processes: ManagedProcess[];
}

/**
 * The shop's supervisor: every service as its own OS process (several competing worker processes
 * when asked), restarted with backoff when it crashes, stopped and started on request, and the
 * fault switches pushed to every process.
 */
export class Supervisor {
  private readonly services: Service[];
  private faults: Faults;

  constructor(private readonly options: SupervisorOptions) {
    this.faults = { ...options.faults };
    this.services = SERVICE_NAMES.map((name) => ({
      name,
      desired: 'running' as const,
      processes: Array.from({ length: options.workers[name] }, (_, i) => {
        const index = i + 1;
        const label = options.workers[name] > 1 ? `${name}#${index}` : name;
        return new ManagedProcess({
          label,
          onCannotStart: (message: string) => options.onCannotStart?.(label, message),
          index,
          script: options.scriptOf(name),
          execArgv: options.execArgv,
          env: () => ({ ...options.envOf(name, index), SHOP_POISON_FAULT: this.faults.poison ? 'on' : 'off' }),
          logs: options.logs,
          restartDelayMs: options.restartDelayMs,
          onReady: ({ url, opsUrl }) => {
            if (name === 'gateway' && url) options.onGatewayUrl?.(url);
            if (opsUrl) options.onOpsUrl?.(name, index, opsUrl);
          },
        });
      }),
    }));
  }

  /** Starts every process of the services (or all services) and resolves once each said it is ready. */
  async start(names: readonly ServiceName[] = SERVICE_NAMES): Promise<void> {
    const ready: Promise<void>[] = [];
    for (const service of this.services.filter((s) => names.includes(s.name))) {
      service.desired = 'running';
      for (const process of service.processes) {
        process.start();
        ready.push(process.ready());
      }
    }
    await Promise.all(ready);
  }

  /** Stops every process of the services (or all services, the gateway first) and resolves once they exited. */
  async stop(names: readonly ServiceName[] = SERVICE_NAMES): Promise<void> {
    const chosen = this.services.filter((s) => names.includes(s.name));
    for (const service of chosen) service.desired = 'stopped';
    // Released at once, not only once the gateway exited: a service that exits by itself meanwhile (Ctrl-C signals
    // the whole process group) must not be restarted.
    for (const service of chosen) for (const process of service.processes) process.release();
    const gateway = chosen.find((s) => s.name === 'gateway');
    if (gateway) await Promise.all(gateway.processes.map((p) => p.stop()));
    await Promise.all(chosen.flatMap((s) => s.processes.map((p) => p.stop())));
  }

  /** Whether a service of this name exists. */
  has(name: string): name is ServiceName {
    return this.services.some((s) => s.name === name);
  }

  /** Every service with its processes. */
  status(): SupervisorStatus {
    return {
      services: this.services.map((s): ServiceStatus => ({ name: s.name, desired: s.desired, workers: s.processes.map((p) => p.status()) })),
      faults: this.faults,
    };
  }

  /** Sets the fault switches, tells every running process, and starts new ones with them. */
  setFaults(faults: Faults): Faults {
    this.faults = { ...faults };
    for (const service of this.services) for (const process of service.processes) process.send({ type: 'faults', ...this.faults });
    this.options.logs.line('supervisor', `poison fault switched ${this.faults.poison ? 'on' : 'off'}`);
    return this.faults;
  }
}

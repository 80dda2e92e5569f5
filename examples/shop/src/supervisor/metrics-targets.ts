import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * The shop's processes as a Prometheus file-based service discovery file (`file_sd_configs`): one
 * target per process (its operations port), labelled with `service` and `worker`. Rewritten (by a
 * rename, so Prometheus never reads half a file) whenever a process announces its port; a process
 * restarted on another port replaces its old entry.
 */
export class MetricsTargets {
  private readonly targets = new Map<string, { target: string; service: string; worker: number }>();

  constructor(readonly path: string) {}

  /** Records the operations URL of a service's worker and rewrites the file. */
  set(service: string, worker: number, url: string): void {
    this.targets.set(`${service}#${worker}`, { target: new URL(url).host, service, worker });
    const groups = [...this.targets.values()]
      .sort((a, b) => a.service.localeCompare(b.service) || a.worker - b.worker)
      .map(({ target, service: name, worker: index }) => ({ targets: [target], labels: { service: name, worker: String(index) } }));
    mkdirSync(dirname(this.path), { recursive: true });
    const temporary = `${this.path}.${process.pid}.tmp`;
    writeFileSync(temporary, `${JSON.stringify(groups, null, 2)}\n`);
    renameSync(temporary, this.path);
  }
}

import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './free-port.js';

/** Where Debian's prometheus package puts the server. */
export const PROMETHEUS = '/usr/bin/prometheus';

/** One series of a PromQL instant-query answer. */
export interface PromSample {
  readonly metric: Record<string, string>;
  readonly value: number;
}

/**
 * A Prometheus server of the test's own: a random loopback port, a config and a data directory in
 * `dir`, scraping every second the targets of a file_sd file (the shop's `prometheus-targets.json`).
 */
export class OwnPrometheus {
  private child: ChildProcess | undefined;
  private output = '';
  url = '';

  constructor(
    private readonly dir: string,
    private readonly targetsFile: string,
  ) {}

  async start(): Promise<void> {
    const port = await freePort();
    const config = join(this.dir, 'prometheus.yml');
    writeFileSync(
      config,
      [
        'global:',
        '  scrape_interval: 1s',
        '  scrape_timeout: 1s',
        'scrape_configs:',
        '  - job_name: shop',
        '    file_sd_configs:',
        `      - files: ['${this.targetsFile}']`,
        '        refresh_interval: 1s',
        '',
      ].join('\n'),
    );
    this.url = `http://127.0.0.1:${port}`;
    const child = spawn(
      PROMETHEUS,
      [`--config.file=${config}`, `--storage.tsdb.path=${join(this.dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child = child;
    child.stdout?.on('data', (chunk: Buffer) => (this.output += chunk.toString('utf8')));
    child.stderr?.on('data', (chunk: Buffer) => (this.output += chunk.toString('utf8')));
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode}:\n${this.output}`);
      const ready = await fetch(`${this.url}/-/ready`).then(
        (response) => response.ok,
        () => false,
      );
      if (ready) return;
      if (Date.now() > deadline) throw new Error(`prometheus was not ready within 30 s:\n${this.output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Runs a PromQL instant query over the HTTP API. */
  async query(promql: string): Promise<PromSample[]> {
    const response = await fetch(`${this.url}/api/v1/query?query=${encodeURIComponent(promql)}`);
    const body = (await response.json()) as {
      status: string;
      error?: string;
      data?: { result: { metric: Record<string, string>; value: [number, string] }[] };
    };
    if (body.status !== 'success') throw new Error(`PromQL ${promql} failed: ${body.error}`);
    return (body.data?.result ?? []).map((series) => ({ metric: series.metric, value: Number(series.value[1]) }));
  }

  /** What the server printed (for failures). */
  logs(): string {
    return this.output;
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}

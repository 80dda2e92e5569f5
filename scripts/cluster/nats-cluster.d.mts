/** One server of a NATS cluster started by nats-cluster.mjs. */
export interface NatsNode {
  readonly name: string;
  readonly clientPort: number;
  readonly routePort: number;
  readonly monitorPort: number;
  readonly dir: string;
  readonly pidFile: string;
}

/** The layout of a cluster: its servers, their client URLs and one URL naming them all. */
export interface NatsCluster {
  readonly engine: 'nats';
  readonly dir: string;
  readonly basePort: number;
  readonly nodes: readonly NatsNode[];
  readonly servers: readonly string[];
  readonly url: string;
}

export function natsServerBinary(): string | undefined;
export function natsClusterLayout(options: { dir: string; basePort: number; size?: number }): NatsCluster;
export function natsNodeHealthy(node: NatsNode): Promise<boolean>;
export function natsNodeUp(node: NatsNode): Promise<boolean>;
export function startNatsNode(cluster: NatsCluster, node: NatsNode, timeoutMs?: number): Promise<void>;
export function startNatsCluster(options: { dir: string; basePort?: number; size?: number }): Promise<NatsCluster>;
export function killNatsNode(node: NatsNode): Promise<void>;
export function stopNatsCluster(options: { dir: string }): Promise<void>;
export function natsTestDir(): Promise<string>;

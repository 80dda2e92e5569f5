/** One node of a RabbitMQ cluster started by rabbitmq-cluster.mjs. */
export interface RabbitMqNode {
  readonly name: string;
  readonly amqpPort: number;
  readonly distPort: number;
  readonly dir: string;
  readonly pidFile: string;
}

/** The layout of a cluster: its nodes and the URL naming them all. */
export interface RabbitMqCluster {
  readonly engine: 'rabbitmq';
  readonly dir: string;
  readonly basePort: number;
  readonly nodes: readonly RabbitMqNode[];
  readonly url: string;
}

export function rabbitMqScriptsDir(): string | undefined;
export function rabbitMqClusterLayout(options: { dir: string; basePort: number; size?: number }): RabbitMqCluster;
export function rabbitmqctl(cluster: RabbitMqCluster, node: RabbitMqNode, args: readonly string[], timeoutMs?: number): Promise<string>;
export function rabbitMqNodeUp(node: RabbitMqNode): Promise<boolean>;
export function startRabbitMqNode(cluster: RabbitMqCluster, node: RabbitMqNode, timeoutMs?: number): Promise<void>;
export function runningNodes(cluster: RabbitMqCluster, node: RabbitMqNode): Promise<string[]>;
export function startRabbitMqCluster(options: { dir: string; basePort?: number; size?: number }): Promise<RabbitMqCluster>;
export function killRabbitMqNode(node: RabbitMqNode): Promise<void>;
export function stopRabbitMqCluster(options: { dir: string }): Promise<void>;
export function quorumLeader(cluster: RabbitMqCluster, queue: string): Promise<RabbitMqNode | undefined>;
export function rabbitMqTestDir(): Promise<string>;

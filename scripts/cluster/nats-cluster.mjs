#!/usr/bin/env node
/**
 * A 3-node NATS JetStream cluster on this machine: three nats-server processes with routes to each
 * other, each with its own name (`mr<i>-<basePort>`), client, route and monitoring ports, store
 * directory, log and pid file under one directory. It never touches a server it did not start.
 *
 *   node scripts/cluster/nats-cluster.mjs start  [--dir .cluster/nats] [--base-port 34222]
 *   node scripts/cluster/nats-cluster.mjs status [--dir .cluster/nats]
 *   node scripts/cluster/nats-cluster.mjs stop   [--dir .cluster/nats] [--clean]
 *
 * `start` is idempotent (running servers are kept), waits until every server reports JetStream
 * healthy with a meta leader, and prints the URL to give Mailroom
 * (`nats://127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3?replicas=3`).
 */
import { existsSync, mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { alive, findFreeBase, killAndWait, ownedTempDir, parseFlags, portAnswers, readPid, sleep, spawnDetached, waitFor } from './node-processes.mjs';

/** Route port of server i = its client port + this; monitoring port = client port + 2 × this. */
const PORT_STEP = 10;
const STATE_FILE = 'cluster.json';

/** The nats-server binary (`NATS_SERVER` overrides, else /usr/sbin/nats-server or the first on PATH), or undefined. */
export function natsServerBinary() {
  const candidates = [process.env.NATS_SERVER, '/usr/sbin/nats-server', ...(process.env.PATH ?? '').split(':').map((dir) => join(dir, 'nats-server'))];
  for (const candidate of candidates) if (candidate && existsSync(candidate)) return realpathSync(candidate);
  return undefined;
}

/** The servers of a cluster whose first client port is `basePort`, with their directories under `dir`. */
export function natsClusterLayout({ dir, basePort, size = 3 }) {
  const root = resolve(dir);
  const nodes = Array.from({ length: size }, (_, i) => {
    const clientPort = basePort + i;
    const nodeDir = join(root, `mr${i + 1}`);
    return {
      name: `mr${i + 1}-${basePort}`,
      clientPort,
      routePort: clientPort + PORT_STEP,
      monitorPort: clientPort + 2 * PORT_STEP,
      dir: nodeDir,
      pidFile: join(nodeDir, 'nats-server.pid'),
    };
  });
  return {
    engine: 'nats',
    dir: root,
    basePort,
    nodes,
    servers: nodes.map((node) => `nats://127.0.0.1:${node.clientPort}`),
    url: `nats://${nodes.map((node) => `127.0.0.1:${node.clientPort}`).join(',')}`,
  };
}

function serverArgs(cluster, node) {
  return [
    ...['-a', '127.0.0.1', '-p', String(node.clientPort), '-n', node.name, '-m', String(node.monitorPort)],
    ...['-js', '-sd', join(node.dir, 'jetstream'), '-P', node.pidFile, '-l', join(node.dir, 'nats-server.log')],
    ...['--cluster_name', `mailroom-${cluster.basePort}`, '--cluster', `nats://127.0.0.1:${node.routePort}`],
    ...[
      '--routes',
      cluster.nodes
        .filter((other) => other !== node)
        .map((other) => `nats://127.0.0.1:${other.routePort}`)
        .join(','),
    ],
  ];
}

/** JetStream health of one server from its monitoring port: true once it serves JetStream in the cluster. */
export async function natsNodeHealthy(node) {
  try {
    const response = await fetch(`http://127.0.0.1:${node.monitorPort}/healthz`, { signal: AbortSignal.timeout(2000) });
    if (!response.ok) return false;
    const body = await response.json();
    return body.status === 'ok';
  } catch {
    return false;
  }
}

/** True while the server's process runs and its client port answers. */
export async function natsNodeUp(node) {
  return alive(readPid(node.pidFile)) && (await portAnswers(node.clientPort));
}

/** Starts one server of the cluster (again, after a stop or a kill) unless it runs, and waits until its JetStream is healthy. */
export async function startNatsNode(cluster, node, timeoutMs = 60_000) {
  if (!(await natsNodeUp(node))) {
    const binary = natsServerBinary();
    if (!binary) throw new Error('nats-server is not installed (set NATS_SERVER to its path)');
    mkdirSync(node.dir, { recursive: true });
    rmSync(node.pidFile, { force: true });
    const pid = spawnDetached(binary, serverArgs(cluster, node), { env: process.env, logFile: join(node.dir, 'stdout.log'), cwd: node.dir });
    writeFileSync(node.pidFile, String(pid));
  }
  await waitFor(() => natsNodeHealthy(node), timeoutMs, `${node.name} to report JetStream healthy on ${node.monitorPort}`);
}

/** The JetStream meta leader's name as server `node` sees it, or undefined. */
async function metaLeader(node) {
  try {
    const response = await fetch(`http://127.0.0.1:${node.monitorPort}/jsz`, { signal: AbortSignal.timeout(2000) });
    return (await response.json()).meta_cluster?.leader;
  } catch {
    return undefined;
  }
}

/**
 * Starts the cluster (idempotent): starts the servers that do not run, waits until each reports
 * JetStream healthy and every one knows the same meta leader. `basePort` defaults to the one
 * recorded in `dir`, else a free block. Resolves with the layout.
 */
export async function startNatsCluster({ dir, basePort, size = 3 }) {
  const state = join(resolve(dir), STATE_FILE);
  const recorded = existsSync(state) ? JSON.parse(readFileSync(state, 'utf8')) : undefined;
  const offsets = [0, 1, 2].flatMap((i) => [i, i + PORT_STEP, i + 2 * PORT_STEP]);
  const base = basePort ?? recorded?.basePort ?? (await findFreeBase(offsets));
  const cluster = natsClusterLayout({ dir, basePort: base, size: recorded?.size ?? size });
  mkdirSync(cluster.dir, { recursive: true });
  writeFileSync(state, JSON.stringify({ basePort: cluster.basePort, size: cluster.nodes.length }, null, 2));
  await Promise.all(cluster.nodes.map((node) => startNatsNode(cluster, node)));
  await waitFor(
    async () => {
      const leaders = await Promise.all(cluster.nodes.map(metaLeader));
      return leaders[0] !== undefined && leaders.every((leader) => leader === leaders[0]);
    },
    60_000,
    'every server to know the JetStream meta leader',
    200,
  );
  return cluster;
}

/** Kills one server with SIGKILL (a crash) and waits until it is gone. */
export async function killNatsNode(node) {
  const pid = readPid(node.pidFile);
  if (pid !== undefined) await killAndWait(pid, 'SIGKILL');
}

/** Stops every server of the cluster in `dir` (SIGTERM, then SIGKILL if it lingers). Idempotent. */
export async function stopNatsCluster({ dir }) {
  const state = join(resolve(dir), STATE_FILE);
  if (!existsSync(state)) return;
  const recorded = JSON.parse(readFileSync(state, 'utf8'));
  const cluster = natsClusterLayout({ dir, basePort: recorded.basePort, size: recorded.size });
  await Promise.all(cluster.nodes.map((node) => killAndWait(readPid(node.pidFile), 'SIGTERM', 10_000)));
}

/**
 * A temp directory for a test's cluster, after stopping and deleting the clusters of earlier test
 * runs that died before cleaning up.
 */
export function natsTestDir() {
  return ownedTempDir('mailroom-nats-cluster-', stopNatsCluster);
}

async function main() {
  const [command, ...rest] = process.argv.slice(2);
  const flags = parseFlags(rest);
  const dir = flags.dir ?? '.cluster/nats';
  if (command === 'start') {
    if (!natsServerBinary()) throw new Error('nats-server is not installed: apt-get install nats-server');
    const cluster = await startNatsCluster({ dir, basePort: flags['base-port'] === undefined ? undefined : Number(flags['base-port']) });
    console.log(`NATS cluster running: ${cluster.nodes.map((n) => `${n.name} (client ${n.clientPort})`).join(', ')}`);
    console.log(`MAILROOM_TRANSPORT=${cluster.url}?replicas=3`);
  } else if (command === 'stop') {
    await stopNatsCluster({ dir });
    if (flags.clean !== undefined) rmSync(resolve(dir), { recursive: true, force: true });
    console.log('NATS cluster stopped');
  } else if (command === 'status') {
    const state = join(resolve(dir), STATE_FILE);
    if (!existsSync(state)) {
      console.log(`no cluster in ${dir}`);
      return;
    }
    const recorded = JSON.parse(readFileSync(state, 'utf8'));
    const cluster = natsClusterLayout({ dir, basePort: recorded.basePort, size: recorded.size });
    for (const node of cluster.nodes) console.log(`${node.name} client ${node.clientPort}: ${(await natsNodeHealthy(node)) ? 'up' : 'down'}`);
    console.log(`MAILROOM_TRANSPORT=${cluster.url}?replicas=3`);
  } else {
    console.error('usage: nats-cluster.mjs start|stop|status [--dir DIR] [--base-port PORT] [--clean]');
    process.exitCode = 2;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
  await main().catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
  await sleep(0);
}

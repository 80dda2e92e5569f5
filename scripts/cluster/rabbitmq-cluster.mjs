#!/usr/bin/env node
/**
 * A 3-node RabbitMQ cluster on this machine, for the chaos tests and for trying Mailroom on a
 * cluster. Every node has its own name (`mr<i>-<basePort>@localhost`), AMQP and distribution
 * ports, data, log and config files and Erlang cookie under one directory; no management plugin.
 * It never touches a node it did not start: every rabbitmqctl call names its node with `-n`.
 *
 *   node scripts/cluster/rabbitmq-cluster.mjs start  [--dir .cluster/rabbitmq] [--base-port 35672]
 *   node scripts/cluster/rabbitmq-cluster.mjs status [--dir .cluster/rabbitmq]
 *   node scripts/cluster/rabbitmq-cluster.mjs stop   [--dir .cluster/rabbitmq]
 *
 * `start` is idempotent (running nodes are kept), waits until the three nodes run as one cluster
 * and prints the URL to give Mailroom (`amqp://guest:guest@127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3`).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { alive, findFreeBase, killAndWait, ownedTempDir, parseFlags, portAnswers, readPid, sleep, spawnDetached, waitFor } from './node-processes.mjs';

const run = promisify(execFile);
/** The distribution port of node i is its AMQP port plus this. */
const DIST_OFFSET = 20_000;
const STATE_FILE = 'cluster.json';

/**
 * The directory of RabbitMQ's own scripts (rabbitmq-server, rabbitmqctl), or undefined when
 * RabbitMQ is not installed. `RABBITMQ_SCRIPTS_DIR` overrides. Debian's /usr/sbin commands are a
 * wrapper that switches to the rabbitmq user; the scripts behind it run as the caller.
 */
export function rabbitMqScriptsDir() {
  const candidates = [process.env.RABBITMQ_SCRIPTS_DIR, '/usr/lib/rabbitmq/bin'];
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const server = join(dir, 'rabbitmq-server');
    if (existsSync(server)) candidates.push(dirname(realpathSync(server)));
  }
  for (const dir of candidates) {
    if (!dir) continue;
    const server = join(dir, 'rabbitmq-server');
    if (existsSync(server) && existsSync(join(dir, 'rabbitmqctl')) && basename(realpathSync(server)) !== 'rabbitmq-script-wrapper') return dir;
  }
  return undefined;
}

/** The nodes of a cluster whose first AMQP port is `basePort`, with their directories under `dir`. */
export function rabbitMqClusterLayout({ dir, basePort, size = 3 }) {
  const root = resolve(dir);
  const nodes = Array.from({ length: size }, (_, i) => {
    const amqpPort = basePort + i;
    const name = `mr${i + 1}-${basePort}@localhost`;
    const nodeDir = join(root, `mr${i + 1}`);
    return { name, amqpPort, distPort: amqpPort + DIST_OFFSET, dir: nodeDir, pidFile: join(nodeDir, 'rabbitmq.pid') };
  });
  return {
    engine: 'rabbitmq',
    dir: root,
    basePort,
    nodes,
    url: `amqp://guest:guest@${nodes.map((node) => `127.0.0.1:${node.amqpPort}`).join(',')}`,
  };
}

/** The environment of a RabbitMQ script acting for `node`: its own files, cookie (HOME) and no system-wide config. */
function nodeEnv(cluster, node) {
  return {
    ...process.env,
    HOME: cluster.dir,
    RABBITMQ_NODENAME: node.name,
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(node.amqpPort),
    RABBITMQ_DIST_PORT: String(node.distPort),
    RABBITMQ_CONF_ENV_FILE: join(cluster.dir, 'rabbitmq-env.conf'),
    RABBITMQ_CONFIG_FILE: join(node.dir, 'rabbitmq.conf'),
    RABBITMQ_ADVANCED_CONFIG_FILE: join(node.dir, 'advanced.config'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(cluster.dir, 'enabled_plugins'),
    RABBITMQ_MNESIA_BASE: join(node.dir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(node.dir, 'log'),
    RABBITMQ_PID_FILE: node.pidFile,
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
    ERL_EPMD_ADDRESS: '127.0.0.1',
    ERL_CRASH_DUMP_SECONDS: '0',
  };
}

/** Runs `rabbitmqctl -n <node> ...args` for a node of the cluster; resolves with its stdout. */
export async function rabbitmqctl(cluster, node, args, timeoutMs = 120_000) {
  const dir = rabbitMqScriptsDir();
  if (!dir) throw new Error('RabbitMQ is not installed (no rabbitmq-server / rabbitmqctl found)');
  const { stdout } = await run(join(dir, 'rabbitmqctl'), ['-n', node.name, ...args], { env: nodeEnv(cluster, node), timeout: timeoutMs });
  return stdout;
}

function writeFiles(cluster) {
  mkdirSync(cluster.dir, { recursive: true });
  const cookie = join(cluster.dir, '.erlang.cookie');
  if (!existsSync(cookie)) {
    writeFileSync(cookie, randomBytes(20).toString('hex').toUpperCase());
    chmodSync(cookie, 0o400);
  }
  writeFileSync(join(cluster.dir, 'rabbitmq-env.conf'), '# Empty on purpose: the system-wide rabbitmq-env.conf names the shared node.\n');
  writeFileSync(join(cluster.dir, 'enabled_plugins'), '[].\n');
  for (const node of cluster.nodes) {
    mkdirSync(join(node.dir, 'log'), { recursive: true });
    writeFileSync(
      join(node.dir, 'rabbitmq.conf'),
      [
        `listeners.tcp.default = 127.0.0.1:${node.amqpPort}`,
        // A node cut off from the majority stops serving instead of diverging (what production should use too).
        'cluster_partition_handling = pause_minority',
        'log.file.level = info',
        'log.console = false',
        '',
      ].join('\n'),
    );
    writeFileSync(join(node.dir, 'advanced.config'), '[].\n');
  }
  writeFileSync(join(cluster.dir, STATE_FILE), JSON.stringify({ basePort: cluster.basePort, size: cluster.nodes.length }, null, 2));
}

/** True while the node's process runs and its AMQP port answers. */
export async function rabbitMqNodeUp(node) {
  return alive(readPid(node.pidFile)) && (await portAnswers(node.amqpPort));
}

/**
 * Starts one node of the cluster (again, after a stop or a kill) unless it runs, and waits until
 * its RabbitMQ application runs. A node that was in the cluster rejoins it by itself.
 */
export async function startRabbitMqNode(cluster, node, timeoutMs = 180_000) {
  if (!(alive(readPid(node.pidFile)) && (await portAnswers(node.amqpPort)))) {
    const dir = rabbitMqScriptsDir();
    if (!dir) throw new Error('RabbitMQ is not installed (no rabbitmq-server found)');
    rmSync(node.pidFile, { force: true });
    const pid = spawnDetached(join(dir, 'rabbitmq-server'), [], { env: nodeEnv(cluster, node), logFile: join(node.dir, 'log', 'stdout.log'), cwd: node.dir });
    // The script execs erl, which execs beam: this pid is the node's. RabbitMQ writes it to the pid file too.
    writeFileSync(node.pidFile, String(pid));
  }
  await rabbitmqctl(cluster, node, ['wait', node.pidFile, '--timeout', String(Math.ceil(timeoutMs / 1000))], timeoutMs + 5000);
  await waitFor(() => portAnswers(node.amqpPort), timeoutMs, `${node.name} to accept AMQP connections on ${node.amqpPort}`);
}

/** The names of the nodes `node` sees running in its cluster. */
export async function runningNodes(cluster, node) {
  const status = JSON.parse(await rabbitmqctl(cluster, node, ['cluster_status', '--formatter', 'json']));
  return status.running_nodes ?? [];
}

/**
 * Starts the cluster (idempotent): writes the nodes' files, starts the nodes that do not run,
 * joins nodes 2..n to node 1 with `rabbitmqctl join_cluster`, waits until every node runs in one
 * cluster. `basePort` defaults to the one recorded in `dir`, else a free block. Resolves with the layout.
 */
export async function startRabbitMqCluster({ dir, basePort, size = 3 }) {
  const state = join(resolve(dir), STATE_FILE);
  const recorded = existsSync(state) ? JSON.parse(readFileSync(state, 'utf8')) : undefined;
  const base = basePort ?? recorded?.basePort ?? (await findFreeBase([0, 1, 2, DIST_OFFSET, DIST_OFFSET + 1, DIST_OFFSET + 2]));
  const cluster = rabbitMqClusterLayout({ dir, basePort: base, size: recorded?.size ?? size });
  writeFiles(cluster);
  await Promise.all(cluster.nodes.map((node) => startRabbitMqNode(cluster, node)));
  const [first, ...others] = cluster.nodes;
  for (const node of others) {
    if ((await runningNodes(cluster, node)).includes(first.name)) continue;
    await rabbitmqctl(cluster, node, ['stop_app']);
    await rabbitmqctl(cluster, node, ['join_cluster', first.name]);
    await rabbitmqctl(cluster, node, ['start_app']);
  }
  await waitFor(async () => (await runningNodes(cluster, first)).length === cluster.nodes.length, 60_000, 'every node to run in the cluster', 250);
  return cluster;
}

/** Kills one node with SIGKILL (a crash: no goodbye to its peers or clients) and waits until it is gone. */
export async function killRabbitMqNode(node) {
  const pid = readPid(node.pidFile);
  if (pid !== undefined) await killAndWait(pid, 'SIGKILL');
}

/** Stops every node of the cluster in `dir` (rabbitmqctl stop, then SIGKILL if it lingers). Idempotent. */
export async function stopRabbitMqCluster({ dir }) {
  const state = join(resolve(dir), STATE_FILE);
  if (!existsSync(state)) return;
  const recorded = JSON.parse(readFileSync(state, 'utf8'));
  const cluster = rabbitMqClusterLayout({ dir, basePort: recorded.basePort, size: recorded.size });
  await Promise.all(
    cluster.nodes.map(async (node) => {
      const pid = readPid(node.pidFile);
      if (!alive(pid)) return;
      await rabbitmqctl(cluster, node, ['stop'], 60_000).catch(() => undefined);
      await killAndWait(pid, 'SIGTERM', 15_000);
    }),
  );
}

/**
 * The node leading quorum queue `queue` (in vhost `/`), asked of the first node that answers, or
 * undefined while it has no leader.
 */
export async function quorumLeader(cluster, queue) {
  for (const node of cluster.nodes) {
    if (!(await rabbitMqNodeUp(node))) continue;
    try {
      const rows = JSON.parse(await rabbitmqctl(cluster, node, ['list_queues', '-p', '/', 'name', 'leader', '--formatter', 'json'], 30_000));
      const row = rows.find((r) => r.name === queue);
      const leader = cluster.nodes.find((n) => n.name === row?.leader);
      if (leader) return leader;
    } catch {
      // this node is not ready to answer: ask the next
    }
  }
  return undefined;
}

/**
 * A temp directory for a test's cluster, after stopping and deleting the clusters of earlier test
 * runs that died before cleaning up.
 */
export function rabbitMqTestDir() {
  return ownedTempDir('mailroom-rabbitmq-cluster-', stopRabbitMqCluster);
}

async function main() {
  const [command, ...rest] = process.argv.slice(2);
  const flags = parseFlags(rest);
  const dir = flags.dir ?? '.cluster/rabbitmq';
  if (command === 'start') {
    if (!rabbitMqScriptsDir()) throw new Error('RabbitMQ is not installed: apt-get install rabbitmq-server');
    const cluster = await startRabbitMqCluster({ dir, basePort: flags['base-port'] === undefined ? undefined : Number(flags['base-port']) });
    console.log(`RabbitMQ cluster running: ${cluster.nodes.map((n) => `${n.name} (amqp ${n.amqpPort})`).join(', ')}`);
    console.log(`MAILROOM_TRANSPORT=${cluster.url}`);
  } else if (command === 'stop') {
    await stopRabbitMqCluster({ dir });
    if (flags.clean !== undefined) rmSync(resolve(dir), { recursive: true, force: true });
    console.log('RabbitMQ cluster stopped');
  } else if (command === 'status') {
    const state = join(resolve(dir), STATE_FILE);
    if (!existsSync(state)) {
      console.log(`no cluster in ${dir}`);
      return;
    }
    const recorded = JSON.parse(readFileSync(state, 'utf8'));
    const cluster = rabbitMqClusterLayout({ dir, basePort: recorded.basePort, size: recorded.size });
    for (const node of cluster.nodes) console.log(`${node.name} amqp ${node.amqpPort}: ${(await rabbitMqNodeUp(node)) ? 'up' : 'down'}`);
    console.log(`MAILROOM_TRANSPORT=${cluster.url}`);
  } else {
    console.error('usage: rabbitmq-cluster.mjs start|stop|status [--dir DIR] [--base-port PORT] [--clean]');
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

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { SERVICE_NAMES } from '../src/service-names.js';

const root = join(import.meta.dirname, '..', '..', '..');
const dir = join(root, 'deploy', 'k8s');

interface Probe {
  httpGet?: { path?: string; port?: string | number };
}
interface Container {
  name: string;
  command?: string[];
  ports?: { name?: string; containerPort: number }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  resources?: { requests?: Record<string, string> };
}
interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  spec?: {
    replicas?: number;
    selector?: Record<string, string> | { matchLabels: Record<string, string> };
    template?: { metadata: { labels: Record<string, string> }; spec: { containers: Container[] } };
    ports?: { port: number; targetPort: string | number }[];
    scaleTargetRef?: { kind: string; name: string };
  };
}

/** Every object of every YAML file in deploy/k8s; a file that does not parse fails the test. */
function manifests(): Manifest[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith('.yaml'))
    .flatMap((file) =>
      parseAllDocuments(readFileSync(join(dir, file), 'utf8')).map((document) => {
        expect(document.errors, file).toEqual([]);
        return document.toJS() as Manifest;
      }),
    );
}

const matches = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([key, value]) => labels[key] === value);

describe('the Kubernetes manifests of the shop (deploy/k8s)', () => {
  const all = manifests();
  const deployments = all.filter((m) => m.kind === 'Deployment');
  const named = (kind: string, name: string) => all.find((m) => m.kind === kind && m.metadata.name === name);

  it('run every service as a Deployment of its own, starting its built script', () => {
    expect(deployments.map((d) => d.metadata.name).sort()).toEqual([...SERVICE_NAMES].sort());
    for (const deployment of deployments) {
      const name = deployment.metadata.name;
      const spec = deployment.spec as Required<NonNullable<Manifest['spec']>>;
      expect(matches((spec.selector as { matchLabels: Record<string, string> }).matchLabels, spec.template.metadata.labels), name).toBe(true);
      const [container] = spec.template.spec.containers;
      expect(container?.command?.at(-1), name).toBe(`examples/shop/dist/services/${name}.js`);
      expect(existsSync(join(root, 'examples', 'shop', 'src', 'services', `${name}.ts`)), name).toBe(true);
      expect(container?.resources?.requests, name).toBeDefined();
      const from = container?.envFrom ?? [];
      for (const ref of from) {
        if (ref.configMapRef) expect(named('ConfigMap', ref.configMapRef.name), `${name}: ConfigMap ${ref.configMapRef.name}`).toBeDefined();
        if (ref.secretRef) expect(named('Secret', ref.secretRef.name), `${name}: Secret ${ref.secretRef.name}`).toBeDefined();
      }
      expect(
        from.some((ref) => ref.secretRef),
        `${name} reads the broker URL from the Secret`,
      ).toBe(true);
    }
  });

  it('probe every service on /health/live (liveness, startup) and /health/ready (readiness), on a port it declares', () => {
    for (const deployment of deployments) {
      const [container] = deployment.spec?.template?.spec.containers ?? [];
      const ports = new Set((container?.ports ?? []).flatMap((port) => [port.name, port.containerPort]));
      for (const [probe, path] of [
        [container?.livenessProbe, '/health/live'],
        [container?.startupProbe, '/health/live'],
        [container?.readinessProbe, '/health/ready'],
      ] as const) {
        expect(probe?.httpGet?.path, deployment.metadata.name).toBe(path);
        expect(ports.has(probe?.httpGet?.port), `${deployment.metadata.name} probes a port it declares`).toBe(true);
      }
    }
  });

  it('reach every Service a Deployment backs, on a port it declares, and point the gateway at inventory through one', () => {
    for (const service of all.filter((m) => m.kind === 'Service')) {
      const backing = deployments.find((d) => matches(service.spec?.selector as Record<string, string>, d.spec?.template?.metadata.labels ?? {}));
      expect(backing, service.metadata.name).toBeDefined();
      const declared = backing?.spec?.template?.spec.containers.flatMap((c) => (c.ports ?? []).map((p) => p.name)) ?? [];
      for (const port of service.spec?.ports ?? []) expect(declared, service.metadata.name).toContain(port.targetPort);
    }
    const config = named('ConfigMap', 'shop-config')?.data ?? {};
    const inventory = new URL(config.SHOP_INVENTORY_URL as string);
    const service = named('Service', inventory.hostname);
    expect(service?.spec?.ports?.map((p) => p.port)).toContain(Number(inventory.port));
    expect(config.SHOP_INVENTORY_PORT).toBe(inventory.port);
  });

  it('scale only Deployments that exist, and name every node of a replicated broker in the transport URL', () => {
    for (const scaler of all.filter((m) => m.kind === 'HorizontalPodAutoscaler')) {
      expect(named('Deployment', scaler.spec?.scaleTargetRef?.name as string), scaler.metadata.name).toBeDefined();
    }
    const transport = named('Secret', 'shop-broker')?.stringData?.MAILROOM_TRANSPORT as string;
    expect(transport).toMatch(/^amqps?:\/\/[^@]+@([^,/]+,){2}[^,/]+\/\?replicas=3$/);
  });
});

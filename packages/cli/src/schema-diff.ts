import type { JsonSchema } from './contracts-lock.js';

/** What changed about one field between two JSON Schemas of the same message version. */
export type SchemaChangeKind = 'field-removed' | 'field-retyped' | 'field-required' | 'field-optional' | 'field-added';

/** One difference found by {@link diffSchemas}. */
export interface SchemaChange {
  readonly change: SchemaChangeKind;
  /** Dotted path of the field (`total.amount`, `lines[].sku`, `tags[0]`); empty for the payload itself. */
  readonly path: string;
  /** True when messages written with one schema can fail for readers of the other. */
  readonly breaking: boolean;
  /** One sentence saying what changed. */
  readonly detail: string;
}

type Node = Record<string, unknown>;

const MAX_DEPTH = 64;

function isNode(value: unknown): value is Node {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Follows local `$ref`s (`#`, `#/$defs/X`, any JSON pointer into the root); stops at unresolvable or cyclic refs. */
function resolveRef(node: Node, root: Node): Node {
  let current = node;
  for (let hops = 0; typeof current.$ref === 'string' && hops < 32; hops++) {
    const ref = current.$ref as string;
    if (!ref.startsWith('#')) return current;
    let target: unknown = root;
    for (const segment of ref.slice(1).split('/').filter(Boolean)) {
      const key = decodeURIComponent(segment).replace(/~1/g, '/').replace(/~0/g, '~');
      target = isNode(target) ? target[key] : undefined;
    }
    if (!isNode(target)) return current;
    const { $ref: _ref, ...siblings } = current;
    current = { ...target, ...siblings };
  }
  return current;
}

function members(node: Node, root: Node, keys: readonly string[]): Node[] {
  return keys.flatMap((key) => (Array.isArray(node[key]) ? (node[key] as unknown[]).filter(isNode).map((m) => resolveRef(m, root)) : []));
}

function jsonTypeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

/** The JSON types a node allows, including its unions; `any` when it does not say. */
function typesOf(node: Node, root: Node, depth = 0): Set<string> {
  const types = new Set<string>();
  if (typeof node.type === 'string') types.add(node.type);
  if (Array.isArray(node.type)) for (const t of node.type) if (typeof t === 'string') types.add(t);
  if ('const' in node) types.add(jsonTypeOf(node.const));
  if (Array.isArray(node.enum)) for (const v of node.enum) types.add(jsonTypeOf(v));
  if (depth < MAX_DEPTH) for (const member of members(node, root, ['anyOf', 'oneOf'])) for (const t of typesOf(member, root, depth + 1)) types.add(t);
  if (types.size === 0) types.add('any');
  return types;
}

/** The allowed values of a node (`enum` / `const`), as JSON texts; undefined when any value of its types is allowed. */
function valuesOf(node: Node): Set<string> | undefined {
  if ('const' in node) return new Set([JSON.stringify(node.const)]);
  if (Array.isArray(node.enum)) return new Set(node.enum.map((v) => JSON.stringify(v)));
  return undefined;
}

function propertiesOf(node: Node, root: Node): Map<string, Node> {
  const properties = new Map<string, Node>();
  for (const source of [node, ...members(node, root, ['allOf', 'anyOf', 'oneOf'])]) {
    if (!isNode(source.properties)) continue;
    for (const [name, schema] of Object.entries(source.properties)) if (isNode(schema) && !properties.has(name)) properties.set(name, schema);
  }
  return properties;
}

function requiredOf(node: Node, root: Node): Set<string> {
  const required = new Set<string>();
  for (const source of [node, ...members(node, root, ['allOf'])]) {
    if (Array.isArray(source.required)) for (const name of source.required) if (typeof name === 'string') required.add(name);
  }
  return required;
}

function describeTypes(types: Set<string>, values: Set<string> | undefined): string {
  const base = [...types].sort().join(' | ');
  return values ? `${base} (${[...values].sort().join(', ')})` : base;
}

function join(path: string, name: string): string {
  return path === '' ? name : `${path}.${name}`;
}

function sameSet(a: Set<string>, b: Set<string>): boolean {
  return a.size === b.size && [...a].every((x) => b.has(x));
}

/**
 * Compares two JSON Schemas of one message version and lists how their fields differ. Breaking:
 * a removed field, a retyped field (its JSON types or allowed values changed), a field that became
 * required without a default, a required field made optional (readers of the old schema reject
 * messages without it). Compatible: a new optional field or one with a default. Follows local
 * `$ref`s, nested objects, array items and tuples. Constraints such as `minLength`, `pattern` or
 * `format` are not compared.
 */
export function diffSchemas(before: JsonSchema, after: JsonSchema): SchemaChange[] {
  const changes: SchemaChange[] = [];
  const seen = new Set<string>();
  const walk = (oldRaw: Node, newRaw: Node, path: string, depth: number): void => {
    if (depth > MAX_DEPTH) return;
    const oldNode = resolveRef(oldRaw, before);
    const newNode = resolveRef(newRaw, after);
    // Only $refs can make a cycle (recursive schemas): compare each pair of referenced definitions once.
    if (typeof oldRaw.$ref === 'string' || typeof newRaw.$ref === 'string') {
      const key = `${String(oldRaw.$ref ?? path)}\u0000${String(newRaw.$ref ?? path)}`;
      if (seen.has(key)) return;
      seen.add(key);
    }

    const oldTypes = typesOf(oldNode, before);
    const newTypes = typesOf(newNode, after);
    const oldValues = valuesOf(oldNode);
    const newValues = valuesOf(newNode);
    const valuesChanged = (oldValues || newValues) && !(oldValues && newValues && sameSet(oldValues, newValues));
    if (!oldTypes.has('any') && !newTypes.has('any') && (!sameSet(oldTypes, newTypes) || valuesChanged)) {
      changes.push({
        change: 'field-retyped',
        path,
        breaking: true,
        detail: `${path === '' ? 'the payload' : `field "${path}"`} changed type: ${describeTypes(oldTypes, oldValues)} -> ${describeTypes(newTypes, newValues)}`,
      });
      return;
    }

    const oldProperties = propertiesOf(oldNode, before);
    const newProperties = propertiesOf(newNode, after);
    const oldRequired = requiredOf(oldNode, before);
    const newRequired = requiredOf(newNode, after);
    for (const [name, schema] of oldProperties) {
      const field = join(path, name);
      const next = newProperties.get(name);
      if (!next) {
        changes.push({ change: 'field-removed', path: field, breaking: true, detail: `field "${field}" was removed` });
        continue;
      }
      const hasDefault = 'default' in resolveRef(next, after);
      if (newRequired.has(name) && !oldRequired.has(name) && !hasDefault) {
        changes.push({ change: 'field-required', path: field, breaking: true, detail: `field "${field}" became required (without a default)` });
      } else if (oldRequired.has(name) && !newRequired.has(name)) {
        changes.push({
          change: 'field-optional',
          path: field,
          breaking: true,
          detail: `field "${field}" is no longer required: readers of the old schema reject messages without it`,
        });
      }
      walk(schema, next, field, depth + 1);
    }
    for (const [name, schema] of newProperties) {
      if (oldProperties.has(name)) continue;
      const field = join(path, name);
      const hasDefault = 'default' in resolveRef(schema, after);
      if (newRequired.has(name) && !hasDefault) {
        changes.push({ change: 'field-required', path: field, breaking: true, detail: `new field "${field}" is required and has no default` });
      } else {
        changes.push({
          change: 'field-added',
          path: field,
          breaking: false,
          detail: `new ${hasDefault ? 'field with a default' : 'optional field'} "${field}"`,
        });
      }
    }

    if (isNode(oldNode.items) && isNode(newNode.items)) walk(oldNode.items, newNode.items, `${path}[]`, depth + 1);
    if (Array.isArray(oldNode.prefixItems) && Array.isArray(newNode.prefixItems)) {
      const length = Math.min(oldNode.prefixItems.length, newNode.prefixItems.length);
      for (let i = 0; i < length; i++) {
        const a = oldNode.prefixItems[i];
        const b = newNode.prefixItems[i];
        if (isNode(a) && isNode(b)) walk(a, b, `${path}[${i}]`, depth + 1);
      }
      if (oldNode.prefixItems.length !== newNode.prefixItems.length) {
        changes.push({
          change: 'field-retyped',
          path,
          breaking: true,
          detail: `tuple "${path}" changed length: ${oldNode.prefixItems.length} -> ${newNode.prefixItems.length}`,
        });
      }
    }
    if (isNode(oldNode.additionalProperties) && isNode(newNode.additionalProperties)) {
      walk(oldNode.additionalProperties, newNode.additionalProperties, `${path}{}`, depth + 1);
    }
  };
  seen.add('#\u0000#');
  walk(before, after, '', 0);
  return changes;
}

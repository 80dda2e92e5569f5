import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { failureFingerprint, normalizeErrorMessage, normalizeFramePath, topStackFrame } from './failure-fingerprint.js';

const data = fc.oneof(
  fc.uuid().map((v) => ({ kind: 'uuid', v })),
  fc.integer({ min: -1_000_000, max: 1_000_000 }).map((v) => ({ kind: 'number', v: String(v) })),
  fc.double({ min: 0, max: 1e6, noNaN: true }).map((v) => ({ kind: 'number', v: v.toFixed(3) })),
  fc.string({ unit: fc.constantFrom('a', 'b', 'x', ' ', '1', '-') }).map((v) => ({ kind: 'string', v: `'${v}'` })),
  fc.date({ min: new Date(0), max: new Date(4e12), noInvalidDate: true }).map((v) => ({ kind: 'time', v: v.toISOString() })),
  fc.bigInt({ min: 1n, max: 2n ** 64n }).map((v) => ({ kind: 'hex', v: `0x${v.toString(16)}` })),
  fc.stringMatching(/^[a-z]{2,4}_[a-z0-9]{3,10}[0-9]$/).map((v) => ({ kind: 'id', v })),
);

describe('failure fingerprints', () => {
  it('replaces ids, uuids, numbers, quoted strings, hex and timestamps by placeholders', () => {
    expect(
      normalizeErrorMessage(
        `Order ord_8F7a61 for customer 3f2b9a3e-1c7d-4e5f-9a0b-1c2d3e4f5a6b failed at 2026-12-05T17:05:32.123Z: amount 12.50 > limit 10, key "abc", hash 0xdeadBEEF, digest 9f86d081884c7d65`,
      ),
    ).toBe('Order <id> for customer <uuid> failed at <timestamp>: amount <n> > limit <n>, key <string>, hash <hex>, digest <hex>');
    expect(normalizeErrorMessage("Cannot read properties of undefined (reading 'total')")).toBe('Cannot read properties of undefined (reading <string>)');
    expect(normalizeErrorMessage("customer doesn't exist: 'c-1'")).toBe("customer doesn't exist: <string>");
  });

  it('gives messages that differ only in their data the same normalized form (property)', () => {
    fc.assert(
      fc.property(data, data, fc.constantFrom('Payment for', 'Stock of', 'Lookup'), (a, b, prefix) => {
        fc.pre(a.kind === b.kind);
        expect(normalizeErrorMessage(`${prefix} ${a.v} failed`)).toBe(normalizeErrorMessage(`${prefix} ${b.v} failed`));
      }),
    );
  });

  it('is idempotent (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        const once = normalizeErrorMessage(text);
        expect(normalizeErrorMessage(once)).toBe(once);
      }),
    );
  });

  it('takes the top frame as function and file, without line, column or absolute prefix', () => {
    const stack = 'Error: boom\n    at chargeCard (file:///srv/app/services/billing/dist/charge.js:12:34)\n    at next (/srv/app/x.js:1:1)';
    expect(topStackFrame(stack)).toBe('chargeCard (billing/dist/charge.js)');
    expect(topStackFrame('Error: x\n    at async Promise.all (index 0)')).toBe('Promise.all (index 0)');
    expect(topStackFrame('Error: x\n    at /home/me/shop/dist/handler.js:3:9')).toBe('shop/dist/handler.js');
    expect(topStackFrame('TypeError: x')).toBeUndefined();
    expect(topStackFrame(undefined)).toBeUndefined();
    expect(normalizeFramePath('/opt/app/node_modules/pg/lib/client.js:45:11')).toBe('node_modules/pg/lib/client.js');
    expect(normalizeFramePath('C:\\work\\app\\dist\\a.js:1:2')).toBe('app/dist/a.js');
    expect(normalizeFramePath('node:internal/process/task_queues:95:5')).toBe('node:internal/process/task_queues');
  });

  it('is the same for the same failure deployed in another directory, and differs by reason, message shape or frame', () => {
    const at = (dir: string, fn = 'reserve') => `Error: x\n    at ${fn} (${dir}/services/stock/dist/reserve.js:10:5)`;
    const base = { reason: 'MAILROOM_ERR_HANDLER_FAILED', errorMessage: 'Out of stock for sku 42', errorStack: at('/srv/a') };
    const fp = failureFingerprint(base);
    expect(failureFingerprint({ ...base, errorMessage: 'Out of stock for sku 7', errorStack: at('/home/b/checkout') })).toBe(fp);
    expect(failureFingerprint({ ...base, reason: 'MAILROOM_ERR_CONTRACT_VALIDATION' })).not.toBe(fp);
    expect(failureFingerprint({ ...base, errorMessage: 'Unknown sku 42' })).not.toBe(fp);
    expect(failureFingerprint({ ...base, errorStack: at('/srv/a', 'release') })).not.toBe(fp);
    expect(failureFingerprint({ ...base, errorStack: undefined })).not.toBe(fp);
  });
});

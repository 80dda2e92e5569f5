import { describe, expect, it } from 'vitest';
import { HeaderTable } from './header-table.js';

describe('HeaderTable', () => {
  it('reuses one object while the names stay the same, with the new values', () => {
    const table = new HeaderTable();
    const first = table.fill({ a: '1', b: '2' });
    const second = table.fill({ a: '3', b: '4' });
    expect(second).toBe(first);
    expect(second).toEqual({ a: '3', b: '4' });
  });

  it('starts a new object when names change, are added or removed, or come in another order', () => {
    const table = new HeaderTable();
    const first = table.fill({ a: '1', b: '2' });
    expect(table.fill({ b: '2', a: '1' })).not.toBe(first);
    expect(table.fill({ a: '1' })).toEqual({ a: '1' });
    expect(table.fill({ a: '1', c: '3' })).toEqual({ a: '1', c: '3' });
    expect(table.fill(undefined)).toBeUndefined();
  });

  it('keeps a header named __proto__ as a plain header on every publish', () => {
    const table = new HeaderTable();
    for (const value of ['x', 'y']) {
      const headers = JSON.parse(`{"__proto__":"${value}","a":"1"}`) as Record<string, string>;
      const filled = table.fill(headers) as Record<string, unknown>;
      expect(Object.keys(filled)).toEqual(['__proto__', 'a']);
      expect(Object.getPrototypeOf(filled)).toBe(Object.prototype);
      expect(Object.getOwnPropertyDescriptor(filled, '__proto__')?.value).toBe(value);
    }
  });
});

import { describe, expect, it } from 'vitest';
import { deprecationHeaders, requestedVersion } from './versioned-route.js';

describe('requestedVersion', () => {
  it('reads the major version of Accept-Version in its usual spellings', () => {
    expect(['2', 'v2', 'V2', '2.0', '2.1.3', '2.x', ' 2 '].map((value) => requestedVersion(value))).toEqual(Array(7).fill('2'));
    expect(requestedVersion('02')).toBe('2');
    expect(requestedVersion(undefined)).toBeUndefined();
    expect(requestedVersion('')).toBeUndefined();
    expect(['latest', '2;q=1', '-1', '1.2.3.4'].map((value) => requestedVersion(value))).toEqual(Array(4).fill('invalid'));
  });
});

describe('deprecationHeaders', () => {
  it('writes Deprecation as an RFC 9745 date, Sunset as an HTTP-date, and the links', () => {
    expect(deprecationHeaders({ since: '2025-06-30T23:59:59Z', sunset: new Date('2026-01-01T00:00:00Z'), link: 'https://example.com/v2' }, '/v2/x')).toEqual({
      deprecation: '@1751327999',
      sunset: 'Thu, 01 Jan 2026 00:00:00 GMT',
      link: '<https://example.com/v2>; rel="deprecation"; type="text/html", </v2/x>; rel="successor-version"',
    });
    expect(deprecationHeaders({ since: new Date(0) })).toEqual({ deprecation: '@0' });
  });
});

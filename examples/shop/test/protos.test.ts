// The shop's protos (inventory's catalog API, v1 and v2): lint clean, no breaking change against
// the released protos in protos.lock.json, and src/gen is what they generate. Fails npm test on a
// breaking change (packages/rpc/test/protos.test.ts shows it failing on a removed field).
import { fileURLToPath } from 'node:url';
import { checkProtos } from '@mailroom/rpc/protos';
import { describe, expect, it } from 'vitest';

describe("the shop's protos", () => {
  it('pass buf lint, have no breaking change against protos.lock.json, and the committed generated code is up to date', async () => {
    const result = await checkProtos(fileURLToPath(new URL('..', import.meta.url)));
    expect({ lint: result.lint, breaking: result.breaking, stale: result.stale }).toEqual({ lint: [], breaking: [], stale: [] });
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { itemFailed, TurnBatcher } from './turn-batcher.js';

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (error: unknown) => void } {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('TurnBatcher', () => {
  it('flushes the items of one turn together, in order, each submitter getting its own result', async () => {
    const batches: number[][] = [];
    const batcher = new TurnBatcher<number, number>((items) => {
      batches.push([...items]);
      return items.map((n) => n * 10);
    });
    const first = [1, 2, 3].map((n) => batcher.submit(n));
    expect(batches).toEqual([]);
    expect(await Promise.all(first)).toEqual([10, 20, 30]);
    const second = await Promise.all([batcher.submit(4), batcher.submit(5)]);
    expect(second).toEqual([40, 50]);
    expect(batches).toEqual([
      [1, 2, 3],
      [4, 5],
    ]);
  });

  it('splits a turn into batches of at most maxBatch, flushing every item exactly once in order (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 60 }), fc.integer({ min: 1, max: 10 }), fc.boolean(), async (count, maxBatch, async) => {
        const batches: number[][] = [];
        const batcher = new TurnBatcher<number, string>(
          (items) => {
            batches.push([...items]);
            const results = items.map((n) => `r${n}`);
            return async ? Promise.resolve(results) : results;
          },
          { maxBatch },
        );
        const items = Array.from({ length: count }, (_, i) => i);
        const results = await Promise.all(items.map((n) => batcher.submit(n)));
        expect(results).toEqual(items.map((n) => `r${n}`));
        expect(batches.flat()).toEqual(items);
        for (const batch of batches) expect(batch.length).toBeLessThanOrEqual(maxBatch);
        expect(batches.length).toBe(Math.ceil(count / maxBatch));
      }),
      { numRuns: 50 },
    );
  });

  it('ends a batch before the item that would pass maxWeight, but always takes one item', async () => {
    const batches: number[][] = [];
    const batcher = new TurnBatcher<number>(
      (items) => {
        batches.push([...items]);
      },
      { maxWeight: 10, weigh: (n) => n },
    );
    await Promise.all([4, 5, 2, 20, 3, 3, 3, 3].map((n) => batcher.submit(n)));
    expect(batches).toEqual([[4, 5], [2], [20], [3, 3, 3], [3]]);
  });

  it('rejects only the item marked failed; the others of its batch get their results', async () => {
    const batcher = new TurnBatcher<number, number>((items) => items.map((n) => (n === 2 ? itemFailed(new Error('two')) : n)));
    const outcomes = await Promise.allSettled([1, 2, 3].map((n) => batcher.submit(n)));
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason).toEqual(new Error('two'));
  });

  it('a flush that throws or rejects fails exactly the items of its batch', async () => {
    for (const fail of [
      (error: Error) => Promise.reject(error),
      (error: Error) => {
        throw error;
      },
    ]) {
      const batcher = new TurnBatcher<number, number>((items) => (items[0] === 3 ? fail(new Error('batch 2')) : items), { maxBatch: 2 });
      const outcomes = await Promise.allSettled([1, 2, 3, 4, 5].map((n) => batcher.submit(n)));
      expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'rejected', 'fulfilled']);
      expect((outcomes[2] as PromiseRejectedResult).reason).toEqual(new Error('batch 2'));
      // The batcher goes on after a failed batch.
      await expect(batcher.submit(6)).resolves.toBe(6);
    }
  });

  it('rejects the items a flush returned no result for', async () => {
    const batcher = new TurnBatcher<number, number>((items) => items.slice(1));
    const outcomes = await Promise.allSettled([1, 2].map((n) => batcher.submit(n)));
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected']);
  });

  it('never leaves a rejection unhandled: a failed batch of added items goes to onError, and a throwing onError is contained', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const errors: unknown[] = [];
      const batcher = new TurnBatcher<number>(() => Promise.reject(new Error('down')), { onError: (error) => errors.push(error) });
      batcher.add(1);
      batcher.add(2);
      await turn();
      await turn();
      expect(errors).toEqual([new Error('down')]);
      const throwing = new TurnBatcher<number>(
        () => {
          throw new Error('sync down');
        },
        {
          onError: () => {
            throw new Error('handler down');
          },
        },
      );
      throwing.add(1);
      const silent = new TurnBatcher<number>(() => Promise.reject(new Error('ignored')));
      silent.add(1);
      await turn();
      await turn();
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('puts items submitted while a flush runs into a later batch', async () => {
    const batches: number[][] = [];
    const batcher: TurnBatcher<number> = new TurnBatcher<number>((items) => {
      batches.push([...items]);
      if (items[0] === 1) void batcher.submit(10);
    });
    await Promise.all([batcher.submit(1), batcher.submit(2)]);
    await turn();
    expect(batches).toEqual([[1, 2], [10]]);
  });

  it('runs at most maxInFlight flushes; what comes meanwhile waits and leaves in one batch when a slot is free', async () => {
    const gates: ReturnType<typeof deferred<void>>[] = [];
    const batches: number[][] = [];
    const batcher = new TurnBatcher<number>(
      (items) => {
        batches.push([...items]);
        const gate = deferred<void>();
        gates.push(gate);
        return gate.promise;
      },
      { maxInFlight: 1 },
    );
    const first = batcher.submit(1);
    await turn();
    const waiting = [2, 3].map((n) => batcher.submit(n));
    await turn();
    await turn();
    const more = batcher.submit(4);
    await turn();
    expect(batches).toEqual([[1]]);
    expect(batcher.pending).toBe(3);
    gates[0]?.resolve();
    await first;
    await turn();
    expect(batches).toEqual([[1], [2, 3, 4]]);
    gates[1]?.resolve();
    await Promise.all([...waiting, more]);
  });

  it('flush() sends what is queued at once; abort() rejects what is still queued', async () => {
    const batches: number[][] = [];
    const batcher = new TurnBatcher<number>((items) => {
      batches.push([...items]);
    });
    const sent = batcher.submit(1);
    batcher.flush();
    expect(batches).toEqual([[1]]);
    await sent;
    const dropped = batcher.submit(2);
    batcher.abort(new Error('closing'));
    await expect(dropped).rejects.toThrow('closing');
    await turn();
    expect(batches).toEqual([[1]]);
  });

  it("'tick' flushes before the next setImmediate, 'immediate' after the I/O callbacks of the turn", async () => {
    const order: string[] = [];
    const tick = new TurnBatcher<string>(() => void order.push('tick flush'), { when: 'tick' });
    const immediate = new TurnBatcher<string>(() => void order.push('immediate flush'));
    void immediate.submit('a');
    setImmediate(() => order.push('setImmediate'));
    void tick.submit('b');
    await turn();
    await turn();
    expect(order).toEqual(['tick flush', 'immediate flush', 'setImmediate']);
  });
});

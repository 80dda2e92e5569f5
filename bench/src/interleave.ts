/** V8's collector when node runs with `--expose-gc` (as `npm run bench` does); undefined otherwise. */
const collectGarbage = (globalThis as { gc?: () => void }).gc;

/**
 * Runs every contender once per round, in the same order each round (A B A B ...), after
 * `warmup` rounds whose results are not kept. `run` receives whether the round is a warm-up.
 * Before each run it collects the garbage the previous one left (when node exposes the collector),
 * so that no contender pays in its CPU time for the collection of another's garbage.
 */
export async function interleave<C extends string>(
  contenders: readonly C[],
  rounds: number,
  warmup: number,
  run: (contender: C, measured: boolean, round: number) => Promise<void>,
): Promise<void> {
  for (let round = 0; round < warmup + rounds; round++) {
    for (const contender of contenders) {
      collectGarbage?.();
      await run(contender, round >= warmup, round - warmup);
    }
  }
}

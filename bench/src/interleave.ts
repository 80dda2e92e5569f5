/**
 * Runs every contender once per round, in the same order each round (A B A B ...), after
 * `warmup` rounds whose results are not kept. `run` receives whether the round is a warm-up.
 */
export async function interleave<C extends string>(
  contenders: readonly C[],
  rounds: number,
  warmup: number,
  run: (contender: C, measured: boolean, round: number) => Promise<void>,
): Promise<void> {
  for (let round = 0; round < warmup + rounds; round++) {
    for (const contender of contenders) await run(contender, round >= warmup, round - warmup);
  }
}

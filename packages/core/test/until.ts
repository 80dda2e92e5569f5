/** Resolves once `condition` holds, checking every 5 ms; rejects after `timeoutMs` (a test that waits for something that never comes fails instead of hanging). */
export async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Polls `predicate` until it holds; fails the test after `timeoutMs`. */
export async function until(predicate: () => Promise<boolean> | boolean, timeoutMs = 10_000, stepMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

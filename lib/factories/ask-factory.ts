/** A factory that does not answer is reported, not turned into a 500 of ours. */
export async function askFactory(call: () => Promise<unknown>): Promise<unknown> {
  try {
    return await call();
  } catch (error) {
    return { reachable: false, error: (error as Error).message };
  }
}

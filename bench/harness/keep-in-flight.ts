/**
 * Drives promise-returning operations with a fixed number outstanding: starts `inFlight`, and
 * starts the next one each time one settles, until `total` have completed. The two reaction
 * callbacks are created once per run (not per operation) and there is no `await` in the loop, so
 * the driver adds as little as any caller of a promise API can: one `then` per operation.
 *
 * @module
 */

/**
 * Runs `start(0) … start(total - 1)` with at most `inFlight` outstanding. Each result goes to
 * `onResult`; the first rejection (or throw from `onResult`) rejects the whole run (operations
 * already started still settle, and are ignored).
 */
export function keepInFlight<T>(
  total: number,
  inFlight: number,
  start: (index: number) => Promise<T>,
  onResult: (result: T) => void,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (total === 0) return resolve();
    let started = 0;
    let completed = 0;
    let failed = false;
    const fail = (error: unknown) => {
      if (failed) return;
      failed = true;
      reject(error);
    };
    const settled = (result: T) => {
      if (failed) return;
      try {
        onResult(result);
      } catch (error) {
        fail(error);
        return;
      }
      completed++;
      if (started < total) launch();
      else if (completed === total) resolve();
    };
    const launch = () => {
      start(started++).then(settled, fail);
    };
    const initial = Math.min(inFlight, total);
    for (let i = 0; i < initial; i++) launch();
  });
}

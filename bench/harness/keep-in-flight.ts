/**
 * Drives promise-returning operations with a fixed number outstanding: starts `inFlight`, and
 * starts the next one each time one settles, until `total` have completed. One `then` per
 * operation and no `await` in the loop, so the driver adds as little as a caller can.
 *
 * @module
 */

/**
 * Runs `start(0) … start(total - 1)` with at most `inFlight` outstanding. Each result goes to
 * `onResult`; the first rejection (or throw from `onResult`) rejects the whole run (operations already started still settle).
 */
export function keepInFlight<T>(
  total: number,
  inFlight: number,
  start: (index: number) => Promise<T>,
  onResult: (result: T, index: number) => void,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (total === 0) return resolve();
    let next = 0;
    let completed = 0;
    let failed = false;
    const launch = () => {
      const index = next++;
      start(index).then((result) => {
        if (failed) return;
        try {
          onResult(result, index);
        } catch (error) {
          failed = true;
          reject(error);
          return;
        }
        completed++;
        if (next < total) launch();
        else if (completed === total) resolve();
      }, (error: unknown) => {
        if (failed) return;
        failed = true;
        reject(error);
      });
    };
    const initial = Math.min(inFlight, total);
    for (let i = 0; i < initial; i++) launch();
  });
}

/**
 * Coalesces the calls made while the database is busy into one statement: each call adds its
 * input and waits for its own answer; `run` takes every input gathered so far (at most `maxBatch`)
 * and answers them in order. At most `maxInFlight` runs at a time; calls made meanwhile wait for
 * the next run, so under load a run serves many deliveries, and a lone call waits for nothing
 * but the current turn of the event loop.
 *
 * Each input is answered on its own terms: `run` decides per input (a claim one input lost is
 * null beside the others it won). A run that throws rejects exactly the calls it carried.
 */
export function makeCoalescer<I, O>(
  run: (inputs: I[]) => Promise<O[]>,
  options: { maxBatch: number; maxInFlight: number },
): (input: I) => Promise<O> {
  const pending: { input: I; resolve: (output: O) => void; reject: (error: unknown) => void }[] = [];
  let inFlight = 0;
  let scheduled = false;

  function schedule() {
    if (scheduled || inFlight >= options.maxInFlight || pending.length === 0) return;
    scheduled = true;
    setImmediate(flush);
  }

  async function flush() {
    scheduled = false;
    const calls = pending.splice(0, options.maxBatch);
    inFlight++;
    schedule(); // more than one batch's worth waiting: the next run starts beside this one
    try {
      const outputs = await run(calls.map((call) => call.input));
      if (outputs.length !== calls.length)
        throw new Error(`a coalesced run answered ${outputs.length} of ${calls.length} inputs`);
      for (const [i, call] of calls.entries()) call.resolve(outputs[i]!);
    } catch (error) {
      for (const call of calls) call.reject(error);
    } finally {
      inFlight--;
      schedule();
    }
  }

  return (input) =>
    new Promise<O>((resolve, reject) => {
      pending.push({ input, resolve, reject });
      schedule();
    });
}

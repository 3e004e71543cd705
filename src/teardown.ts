/**
 * What a started tether must undo, last started first: the HTTP server closes before the workers
 * stop, the workers before the database closes. Each part of start-up adds its step as soon as it
 * has started, so a start-up that fails halfway undoes exactly what it did.
 */
export interface Teardown {
  /** `hurried`: start-up failed, so nothing in flight is worth waiting for. */
  add(step: (hurried: boolean) => unknown): void;
  /**
   * Runs every step once, last added first. Gracefully, every step runs and the first error is
   * thrown at the end; hurried, errors are dropped (the start-up error is the one to report).
   */
  run(options: { hurried: boolean }): Promise<void>;
}

export function makeTeardown(): Teardown {
  const steps: ((hurried: boolean) => unknown)[] = [];
  return {
    add: (step) => {
      steps.push(step);
    },
    async run({ hurried }) {
      let failure: { error: unknown } | undefined;
      for (let step = steps.pop(); step; step = steps.pop()) {
        try {
          await step(hurried);
        } catch (error) {
          failure ??= { error };
        }
      }
      if (failure && !hurried) throw failure.error;
    },
  };
}

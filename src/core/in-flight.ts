/**
 * Work still under way that something must outlive: a dispose that frees a device or a session
 * waits for the searches or encodes already started (they fail on freed resources otherwise), and
 * a GPU add waits for the batches of a search an abort stopped watching (rows must not move under
 * them). One copy of what GpuFlatIndex, TensorInt8Flat and Encoder each kept as a Set of promises.
 */
export class InFlight {
  /** The settled forms (never reject) of the promises tracked and not yet settled. */
  private readonly live = new Set<Promise<undefined>>();

  /**
   * Records `p` until it settles and returns it, so `return inFlight.track(run())` reads as the
   * call it wraps. Tracking attaches a handler: a rejection of `p` nobody else awaits goes unreported.
   */
  track<P extends Promise<unknown>>(p: P): P {
    const done = (): undefined => void this.live.delete(settled);
    const settled = p.then(done, done);
    this.live.add(settled);
    return p;
  }

  /** How many tracked promises have not settled yet. */
  get size(): number {
    return this.live.size;
  }

  /** Resolves, never rejects, once every promise tracked so far has settled (later ones aside). */
  settled(): Promise<void> {
    return Promise.all([...this.live]).then(() => undefined);
  }
}

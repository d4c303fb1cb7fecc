/**
 * Runs a background job now and then every `tickMs`, never two runs at a time (alert
 * deliveries, shard maintenance). `stop()` aborts the run in flight through its signal and
 * resolves once it has ended, so the databases can be closed after it.
 */
export class Periodic {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private current: Promise<void> | undefined;
  private readonly abort = new AbortController();
  private stopped = false;

  constructor(
    private readonly run: (signal: AbortSignal) => Promise<unknown>,
    private readonly tickMs: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Starts the job: at once, or after `delayMs`. A tick of 0 leaves it off. */
  start(delayMs = 0): void {
    if (this.stopped || this.tickMs <= 0) return;
    if (delayMs > 0) this.timer = setTimeout(() => this.tick(), delayMs);
    else this.tick();
  }

  private tick(): void {
    this.timer = undefined;
    if (this.stopped) return;
    this.current = this.run(this.abort.signal)
      .then(
        () => undefined,
        (err: unknown) => this.onError(err),
      )
      .finally(() => {
        this.current = undefined;
        if (!this.stopped) this.timer = setTimeout(() => this.tick(), this.tickMs);
      });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.abort.abort();
    await this.current;
  }
}

import type { AlertDelivery } from '../../domain/queries/delivery.ts';

/**
 * The in-process scheduler of alert deliveries: runs `AlertDelivery.runDueAlerts` now (so
 * messages left pending by a previous process are resent at once) and then every `tickMs`,
 * never two runs at a time. `stop()` aborts the sends in flight (their messages stay pending in
 * the outbox for the next start) and resolves once the run has ended.
 */
export class AlertScheduler {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private current: Promise<void> | undefined;
  private readonly abort = new AbortController();
  private stopped = false;

  constructor(
    private readonly delivery: AlertDelivery,
    private readonly tickMs: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  start(): void {
    if (this.stopped || this.tickMs <= 0) return;
    this.tick();
  }

  private tick(): void {
    this.timer = undefined;
    if (this.stopped) return;
    this.current = this.delivery
      .runDueAlerts({ signal: this.abort.signal })
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

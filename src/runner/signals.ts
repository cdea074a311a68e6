/**
 * SIGINT/SIGTERM during a run: the first one stops the run cleanly (workers terminated,
 * finished points kept, a message saying how to resume, exit 128 + signal number); a
 * second one exits at once.
 *
 * Node runs a signal handler only when the event loop gets a turn. A point computed in the
 * main thread (`--jobs 1`) is one long synchronous call, so a handler would wait for the
 * point to end; instead the handlers are removed while such a point runs (`unguarded`),
 * and a signal then has its default effect — the process ends at once. Nothing is lost:
 * every file is written atomically between points, never during one.
 */
import { constants } from 'node:os';

export type StopSignal = 'SIGINT' | 'SIGTERM';

export function signalExitCode(signal: StopSignal): number {
  return 128 + constants.signals[signal];
}

export class SignalTrap {
  private installed = false;
  private received = 0;
  private readonly handler = (signal: StopSignal): void => {
    this.received++;
    if (this.received > 1) process.exit(signalExitCode(signal));
    this.onSignal(signal);
  };

  constructor(private readonly onSignal: (signal: StopSignal) => void) {}

  install(): void {
    if (this.installed) return;
    process.on('SIGINT', this.handler);
    process.on('SIGTERM', this.handler);
    this.installed = true;
  }

  uninstall(): void {
    if (!this.installed) return;
    process.off('SIGINT', this.handler);
    process.off('SIGTERM', this.handler);
    this.installed = false;
  }

  /** Runs a synchronous step with the handlers removed (see the module comment). */
  unguarded<T>(fn: () => T): T {
    if (!this.installed || this.received > 0) return fn();
    this.uninstall();
    try {
      return fn();
    } finally {
      this.install();
    }
  }
}

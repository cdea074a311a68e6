/**
 * The progress bar of a sweep (cli-progress): points done of the points this invocation
 * has to deliver (resumed ones count as done from the start), the rate of points computed
 * per second, the estimated time left and the experiments in progress. Shown only when
 * the stream is a terminal; nothing at all is written to a pipe, a file or CI's log.
 *
 * Lines the runner prints while the bar is up go through `log`, which prints them above
 * the bar instead of through it.
 */
import cliProgress from 'cli-progress';

export interface ProgressStream extends NodeJS.WritableStream {
  isTTY?: boolean;
}

export class Progress {
  private readonly multi?: cliProgress.MultiBar;
  private bar?: cliProgress.SingleBar;
  private computed = 0;
  private startedAt = 0;

  constructor(
    private readonly stream: ProgressStream = process.stderr,
    private readonly out: (s: string) => void = (s) => process.stdout.write(s),
    private readonly outIsTerminal: boolean = process.stdout.isTTY === true,
  ) {
    if (stream.isTTY !== true) return;
    this.multi = new cliProgress.MultiBar(
      {
        stream,
        format: '{bar} {value}/{total} points | {rate} points/s | ETA {eta_formatted} | {running}',
        barsize: 24,
        hideCursor: false,
        clearOnComplete: true,
        gracefulExit: false,
        etaBuffer: 20,
        fps: 5,
        autopadding: true,
      },
      cliProgress.Presets.shades_classic,
    );
  }

  /** Whether a bar is shown at all. */
  get active(): boolean {
    return this.multi !== undefined;
  }

  start(total: number, alreadyDone: number): void {
    if (!this.multi) return;
    this.startedAt = Date.now();
    this.bar = this.multi.create(total, alreadyDone, { rate: '–', running: '' });
  }

  /** One more point done; `running` names what is still being computed. */
  tick(running: string): void {
    if (!this.bar) return;
    this.computed++;
    const seconds = (Date.now() - this.startedAt) / 1000;
    const rate = seconds > 0 ? (this.computed / seconds).toFixed(2) : '–';
    this.bar.increment(1, { rate, running });
  }

  /** Prints a line of the run's output without breaking the bar. */
  log(line: string): void {
    if (this.multi?.isActive && this.outIsTerminal) this.multi.log(line.endsWith('\n') ? line : line + '\n');
    else this.out(line.endsWith('\n') ? line : line + '\n');
  }

  /** Prints a warning (to the bar's stream, stderr) without breaking the bar. */
  warn(line: string): void {
    const text = line.endsWith('\n') ? line : line + '\n';
    if (this.multi?.isActive) this.multi.log(text);
    else this.stream.write(text);
  }

  stop(): void {
    if (this.multi?.isActive) {
      this.multi.update(); // prints the lines logged since the last redraw
      this.multi.stop();
    }
    this.bar = undefined;
  }
}

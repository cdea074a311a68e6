/**
 * The order in which a run's lanes take its points. Points are taken in queue order
 * (experiment order, then grid order), except that a point is passed over while another
 * point with the same seed is running: equal seeds mark one server configuration that
 * several experiments report (`Experiment.seedKey`), and waiting for the first lets the
 * second read it from the run's store of shared simulations (memo.ts) instead of running
 * the same simulation twice at once. When only such points are left, one is taken anyway,
 * so no lane ever idles for it. The order changes nothing in the outputs (rows are put
 * back in grid order); it only saves time.
 */
export class TaskPicker {
  private readonly taken: boolean[];
  private readonly inFlight = new Map<number, number>();
  private first = 0;

  constructor(private readonly seeds: readonly number[]) {
    this.taken = new Array<boolean>(seeds.length).fill(false);
  }

  /** The next task to run (its index), or -1 when all are taken. */
  take(): number {
    while (this.first < this.seeds.length && this.taken[this.first]) this.first++;
    let pick = -1;
    for (let i = this.first; i < this.seeds.length; i++) {
      if (this.taken[i]) continue;
      if (pick < 0) pick = i;
      if (!this.inFlight.has(this.seeds[i])) {
        pick = i;
        break;
      }
    }
    if (pick >= 0) {
      this.taken[pick] = true;
      this.inFlight.set(this.seeds[pick], (this.inFlight.get(this.seeds[pick]) ?? 0) + 1);
    }
    return pick;
  }

  /** Task `t` has finished (or failed). */
  release(t: number): void {
    const seed = this.seeds[t];
    const n = (this.inFlight.get(seed) ?? 1) - 1;
    if (n === 0) this.inFlight.delete(seed);
    else this.inFlight.set(seed, n);
  }
}

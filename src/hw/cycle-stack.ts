/**
 * A core's cycle stack: where every elapsed cycle went (DESIGN.md §6b). Categories are
 * kept per execution mode; idle is per core. Miss stalls are split by whether the line was
 * last evicted by the *other* mode (pollution) or not, which makes the paper's
 * direct/indirect split a first-class output.
 */
export const CATEGORIES = [
  'base',
  'mode_switch',
  'lost_overlap',
  'l2_hit_cross',
  'l2_hit_other',
  'l3_hit_cross',
  'l3_hit_other',
  'memory_cross',
  'memory_other',
  'remote',
  'tlb',
  'branch',
  'lock_wait',
] as const;
export type Category = (typeof CATEGORIES)[number];

export const CAT = Object.fromEntries(CATEGORIES.map((c, i) => [c, i])) as { [K in Category]: number };
export const NCAT = CATEGORIES.length;

/** Per-mode event counters (for IPC and MPKI). */
/**
 * `tlb_miss` counts first-level TLB misses (served by the second level or a walk);
 * `tlb_walk` the page walks alone (second-level misses).
 */
export const EVENTS = ['instructions', 'l1i_miss', 'l1d_miss', 'l2_miss', 'l3_miss', 'tlb_miss', 'tlb_walk', 'branch_miss', 'mode_switches'] as const;
export type EventName = (typeof EVENTS)[number];
export const EV = Object.fromEntries(EVENTS.map((c, i) => [c, i])) as { [K in EventName]: number };
export const NEV = EVENTS.length;

export class CycleStack {
  /** cycles[mode * NCAT + category] */
  readonly cycles = new Float64Array(2 * NCAT);
  /** events[mode * NEV + event] */
  readonly events = new Float64Array(2 * NEV);
  idle = 0;

  add(mode: number, category: number, cycles: number): void {
    this.cycles[mode * NCAT + category] += cycles;
  }

  count(mode: number, event: number, n = 1): void {
    this.events[mode * NEV + event] += n;
  }

  get(mode: number, category: Category): number {
    return this.cycles[mode * NCAT + CAT[category]];
  }

  event(mode: number, event: EventName): number {
    return this.events[mode * NEV + EV[event]];
  }

  /** Cycles spent in a mode (all categories). */
  modeCycles(mode: number): number {
    let s = 0;
    for (let i = 0; i < NCAT; i++) s += this.cycles[mode * NCAT + i];
    return s;
  }

  /** All accounted cycles, idle included: equals the core's elapsed cycles. */
  total(): number {
    return this.modeCycles(0) + this.modeCycles(1) + this.idle;
  }

  /** Instructions per cycle in a mode, excluding mode-switch cycles (as counters attribute them). */
  ipc(mode: number): number {
    const c = this.modeCycles(mode) - this.get(mode, 'mode_switch');
    return c > 0 ? this.event(mode, 'instructions') / c : 0;
  }

  /** Misses per thousand instructions of an event in a mode. */
  mpki(mode: number, event: EventName): number {
    const instr = this.event(mode, 'instructions');
    return instr > 0 ? (1000 * this.event(mode, event)) / instr : 0;
  }

  addFrom(other: CycleStack): void {
    for (let i = 0; i < this.cycles.length; i++) this.cycles[i] += other.cycles[i];
    for (let i = 0; i < this.events.length; i++) this.events[i] += other.events[i];
    this.idle += other.idle;
  }

  /** Removes an earlier snapshot's counts (for a measurement window). */
  subtract(other: CycleStack): void {
    for (let i = 0; i < this.cycles.length; i++) this.cycles[i] -= other.cycles[i];
    for (let i = 0; i < this.events.length; i++) this.events[i] -= other.events[i];
    this.idle -= other.idle;
  }

  reset(): void {
    this.cycles.fill(0);
    this.events.fill(0);
    this.idle = 0;
  }

  /** A plain object view (mode_category → cycles), for reports. */
  toRecord(): Record<string, number> {
    const r: Record<string, number> = {};
    for (const [m, name] of [[0, 'user'], [1, 'kernel']] as const) {
      for (let i = 0; i < NCAT; i++) r[`${name}_${CATEGORIES[i]}`] = this.cycles[m * NCAT + i];
    }
    r.idle = this.idle;
    return r;
  }
}

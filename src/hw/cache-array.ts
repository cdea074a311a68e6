/**
 * A set-associative array with true LRU replacement, stored in flat typed arrays indexed
 * `set * ways + way`. It is the one structure behind every cache, TLB and branch-target
 * buffer of the simulator, and behind the `cache` command's cachegrind-exact counts.
 *
 * Keys are whole numbers (a line number = address / line size, or a page number). They
 * may exceed 2^32 (valgrind addresses do), so they are stored in Float64Array and never
 * combined with 32-bit bit operators. A key matches only within its address space
 * (`space`), so two processes' identical virtual addresses never alias.
 *
 * Every valid slot remembers who filled it: the execution mode (user/kernel) and the
 * address space. When a fill evicts a valid line the victim's owner is recorded, so
 * "user lines evicted by kernel execution" is a counted quantity, not an estimate.
 */

/** Execution mode of the code that brought a line in. */
export const USER = 0;
export const KERNEL = 1;
export type ExecMode = typeof USER | typeof KERNEL;

export interface ArrayGeometry {
  /** Number of sets (any positive integer; cachegrind-style caches use powers of two). */
  sets: number;
  /** Associativity. */
  ways: number;
}

const INVALID = -1;

export class CacheArray {
  readonly sets: number;
  readonly ways: number;
  /** Key per slot; INVALID (-1) when the slot is empty. */
  private readonly keys: Float64Array;
  /** Address space per slot. */
  private readonly spaces: Int32Array;
  /** LRU stamp per slot: larger = more recently used. Float64 so it never wraps. */
  private readonly stamps: Float64Array;
  /** Mode of the filler per slot (USER/KERNEL). */
  private readonly modes: Uint8Array;
  /** Per-slot flags: bit 0 = global (survives non-global TLB flushes), bit 1 = prefetched. */
  private readonly flags: Uint8Array;
  private clock = 0;

  /** Slot touched by the last `access`/`fill`/`probe` that found or placed a key. */
  lastSlot = -1;
  /** Key, space and mode of the line evicted by the last fill, or key -1 if none. */
  victimKey = INVALID;
  victimSpace = 0;
  victimMode: ExecMode = USER;
  victimFlags = 0;

  /** evictions[filler * 2 + victim]: valid lines evicted, by filler mode and victim mode. */
  readonly evictions = new Float64Array(4);
  hits = 0;
  misses = 0;

  /**
   * Optional ghost tags: per set, the last `ways` lines evicted from it and the mode that
   * evicted each. They let a miss be classified as "caused by the other mode" (the cycle
   * stack's pollution split) at a bounded cost: a line evicted longer ago than one set's
   * worth of further evictions is no longer attributed to anyone.
   */
  private readonly ghostKeys: Float64Array | null;
  private readonly ghostSpaces: Int32Array | null;
  private readonly ghostModes: Uint8Array | null;
  private readonly ghostNext: Uint16Array | null;

  constructor(geometry: ArrayGeometry, options: { trackEvictors?: boolean } = {}) {
    const { sets, ways } = geometry;
    if (!Number.isInteger(sets) || sets < 1) throw new RangeError(`sets must be a positive integer, got ${sets}`);
    if (!Number.isInteger(ways) || ways < 1) throw new RangeError(`ways must be a positive integer, got ${ways}`);
    this.sets = sets;
    this.ways = ways;
    const n = sets * ways;
    this.keys = new Float64Array(n).fill(INVALID);
    this.spaces = new Int32Array(n);
    this.stamps = new Float64Array(n);
    this.modes = new Uint8Array(n);
    this.flags = new Uint8Array(n);
    const track = options.trackEvictors === true;
    this.ghostKeys = track ? new Float64Array(n).fill(INVALID) : null;
    this.ghostSpaces = track ? new Int32Array(n) : null;
    this.ghostModes = track ? new Uint8Array(n) : null;
    this.ghostNext = track ? new Uint16Array(sets) : null;
  }

  get capacity(): number {
    return this.sets * this.ways;
  }

  setOf(key: number): number {
    return key % this.sets;
  }

  /** Slot holding key in space, or -1. Does not touch LRU state or counters. */
  find(key: number, space: number): number {
    const base = (key % this.sets) * this.ways;
    const end = base + this.ways;
    const keys = this.keys;
    const spaces = this.spaces;
    for (let i = base; i < end; i++) {
      if (keys[i] === key && spaces[i] === space) return i;
    }
    return -1;
  }

  /** Looks key up; on a hit makes it most recently used. Counts hits/misses. No fill. */
  probe(key: number, space: number): boolean {
    const slot = this.find(key, space);
    if (slot >= 0) {
      this.stamps[slot] = ++this.clock;
      this.lastSlot = slot;
      this.hits++;
      return true;
    }
    this.misses++;
    return false;
  }

  /**
   * Looks key up and, on a miss, fills it (evicting the LRU line of its set, invalid slots
   * first, lowest way first among invalid slots). Returns true on a hit.
   */
  access(key: number, space: number, mode: ExecMode): boolean {
    if (this.probe(key, space)) {
      this.victimKey = INVALID;
      return true;
    }
    this.insert(key, space, mode, 0);
    return false;
  }

  /**
   * Places key as most recently used without counting a hit or miss (for prefetches and
   * fills from another level). If already present it is only refreshed.
   */
  fill(key: number, space: number, mode: ExecMode, flags = 0): void {
    const slot = this.find(key, space);
    if (slot >= 0) {
      this.stamps[slot] = ++this.clock;
      this.lastSlot = slot;
      this.victimKey = INVALID;
      return;
    }
    this.insert(key, space, mode, flags);
  }

  /** Fills a key known to be absent (after a failed `probe`), evicting as `access` does. */
  insert(key: number, space: number, mode: ExecMode, flags: number): void {
    const base = (key % this.sets) * this.ways;
    const end = base + this.ways;
    const keys = this.keys;
    const stamps = this.stamps;
    let victim = -1;
    let oldest = Infinity;
    for (let i = base; i < end; i++) {
      if (keys[i] === INVALID) {
        victim = i;
        break;
      }
      if (stamps[i] < oldest) {
        oldest = stamps[i];
        victim = i;
      }
    }
    const victimKey = keys[victim];
    if (victimKey !== INVALID) {
      const vm = this.modes[victim] as ExecMode;
      this.victimKey = victimKey;
      this.victimSpace = this.spaces[victim];
      this.victimMode = vm;
      this.victimFlags = this.flags[victim];
      this.evictions[mode * 2 + vm]++;
      if (this.ghostKeys !== null) this.recordGhost(base, victimKey, this.spaces[victim], mode);
    } else {
      this.victimKey = INVALID;
    }
    keys[victim] = key;
    this.spaces[victim] = space;
    this.modes[victim] = mode;
    this.flags[victim] = flags;
    stamps[victim] = ++this.clock;
    this.lastSlot = victim;
  }

  private recordGhost(base: number, key: number, space: number, evictor: ExecMode): void {
    const set = base / this.ways;
    const next = this.ghostNext!;
    const slot = base + next[set];
    next[set] = next[set] + 1 === this.ways ? 0 : next[set] + 1;
    this.ghostKeys![slot] = key;
    this.ghostSpaces![slot] = space;
    this.ghostModes![slot] = evictor;
  }

  /**
   * Mode that evicted this (currently absent) key, if it is among its set's recent
   * evictions; -1 otherwise or when eviction tracking is off. Forgets the record.
   */
  takeEvictor(key: number, space: number): number {
    const gk = this.ghostKeys;
    if (gk === null) return -1;
    const base = (key % this.sets) * this.ways;
    for (let i = base; i < base + this.ways; i++) {
      if (gk[i] === key && this.ghostSpaces![i] === space) {
        gk[i] = INVALID;
        return this.ghostModes![i];
      }
    }
    return -1;
  }

  /** Removes key if present (inclusive back-invalidation, coherence). Returns true if it was. */
  invalidate(key: number, space: number): boolean {
    const slot = this.find(key, space);
    if (slot < 0) return false;
    this.keys[slot] = INVALID;
    return true;
  }

  /** Empties the whole array. */
  flushAll(): number {
    let n = 0;
    for (let i = 0; i < this.keys.length; i++) {
      if (this.keys[i] !== INVALID) {
        this.keys[i] = INVALID;
        n++;
      }
    }
    return n;
  }

  /** Empties every slot not marked global (a CR3 write without PCID). Returns the count. */
  flushNonGlobal(): number {
    let n = 0;
    for (let i = 0; i < this.keys.length; i++) {
      if (this.keys[i] !== INVALID && (this.flags[i] & 1) === 0) {
        this.keys[i] = INVALID;
        n++;
      }
    }
    return n;
  }

  /** Empties the slots of one address space / PCID (INVPCID single-context). */
  flushSpace(space: number): number {
    let n = 0;
    for (let i = 0; i < this.keys.length; i++) {
      if (this.keys[i] !== INVALID && this.spaces[i] === space) {
        this.keys[i] = INVALID;
        n++;
      }
    }
    return n;
  }

  /** Owner mode of a slot (valid for the slot returned by find/lastSlot). */
  modeAt(slot: number): ExecMode {
    return this.modes[slot] as ExecMode;
  }

  flagsAt(slot: number): number {
    return this.flags[slot];
  }

  /** Number of valid lines currently owned by the given mode (optionally one space). */
  countOwned(mode: ExecMode, space?: number): number {
    let n = 0;
    for (let i = 0; i < this.keys.length; i++) {
      if (this.keys[i] !== INVALID && this.modes[i] === mode && (space === undefined || this.spaces[i] === space)) n++;
    }
    return n;
  }

  /** Keys of a set from most to least recently used (for tests and debugging). */
  setContents(set: number): number[] {
    const base = set * this.ways;
    const slots: number[] = [];
    for (let i = base; i < base + this.ways; i++) if (this.keys[i] !== INVALID) slots.push(i);
    slots.sort((a, b) => this.stamps[b] - this.stamps[a]);
    return slots.map((s) => this.keys[s]);
  }

  resetCounters(): void {
    this.hits = 0;
    this.misses = 0;
    this.evictions.fill(0);
  }
}

/** Sets of an array of `sizeBytes` with `ways` ways and `lineBytes` lines. */
export function setsFor(sizeBytes: number, ways: number, lineBytes: number): number {
  const sets = sizeBytes / (ways * lineBytes);
  if (!Number.isInteger(sets) || sets < 1) {
    throw new RangeError(`size ${sizeBytes} B is not a whole number of sets of ${ways} ways × ${lineBytes} B`);
  }
  return sets;
}

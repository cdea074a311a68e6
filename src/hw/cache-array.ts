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
 *
 * Replacement: a fill takes an invalid way if the set has one (the lowest such way), else
 * the least recently used valid way. Recency is kept as a doubly linked list of the set's
 * slots, most recent at the head, so the victim is always the list's tail and no fill scans
 * the set for it. The list holds every slot of the set; reading from the tail it has first
 * the invalid slots in increasing way order, then the valid ones from least to most recently
 * used. A hit or fill moves its slot to the head; an invalidation moves it back into the
 * invalid run at the tail, in way order. This is exactly LRU by timestamps with
 * "invalid ways first, lowest way first" (test/cache-array.test.ts checks it against such a
 * reference on random operation sequences).
 *
 * Speed (every simulated reference goes through here; `npm run bench` compares it with a C
 * simulator): lookups allocate nothing and each method has one shape of arguments.
 *  - The set index is key mod sets without `%` (a slow library call on doubles in V8) and
 *    without 32-bit operators on the key (they would truncate it): from the low 32 bits of
 *    key + 2^52 for power-of-two sets, else by a reciprocal multiply with a one-step
 *    correction (see `setOf`). The set index is an int32, so set loops run on integer indices
 *    (a double loop index costs a conversion, and sometimes an allocation, per way).
 *  - Lookups first compare with the key and space of the most recent hit or fill (`mru`, kept
 *    in fields). A key lives in at most one slot (`insert` is only for absent keys), so finding
 *    it there is the answer the set search would give, only sooner; and that slot is already
 *    the head of its set's list, so nothing moves.
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
const TWO_52 = 2 ** 52;
/** A double and a view of its two 32-bit halves, for `setOf`; PUN_LOW indexes the low half. */
const PUN_F64 = new Float64Array(1);
const PUN_U32 = new Uint32Array(PUN_F64.buffer);
const PUN_LOW = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 0 : 1;
const FLUSH_ALL = 0;
const FLUSH_NON_GLOBAL = 1;
const FLUSH_SPACE = 2;

export class CacheArray {
  readonly sets: number;
  readonly ways: number;
  /** Key per slot; INVALID (-1) when the slot is empty. */
  private readonly keys: Float64Array;
  /** Address space per slot. */
  private readonly spaces: Int32Array;
  /**
   * Per slot, who filled it and how, packed in one array (one store per fill): bit 0 = mode of
   * the filler (USER/KERNEL); bits 1–8 = the fill's flags as a byte (flag bit 0 = global,
   * survives non-global TLB flushes; flag bit 1 = prefetched).
   */
  private readonly owners: Uint16Array;
  /**
   * Recency lists: per set, a circular doubly linked list through all its slots. heads[set] is
   * the most recently used slot; toTail[x] is the next slot towards the least recent end and
   * toHead[x] the next towards the head, so the victim (tail) is toHead[heads[set]]. Making the
   * tail the most recent is then one store: heads[set] = tail.
   */
  private readonly heads: Int32Array;
  private readonly toTail: Int32Array;
  private readonly toHead: Int32Array;
  /**
   * Slot of the most recent hit or fill, tried before the set search (see module comment),
   * with copies of its key and space (mruKey is INVALID once that slot is emptied), so the
   * check reads two fields rather than two arrays.
   */
  private mru = -1;
  private mruKey = INVALID;
  private mruSpace = 0;
  /** 1 / sets, and sets − 1 when sets is a power of two (else −1), for `setOf`. */
  private readonly invSets: number;
  private readonly setMask: number;
  /** Scratch for rebuilding one set's list (valid slots in recency order). */
  private readonly scratch: Int32Array;

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
    const n = sets * ways;
    // Slot indices are int32 (the `| 0` in setOf): far beyond any real array.
    if (n > 2 ** 31 - 1) throw new RangeError(`${sets} sets × ${ways} ways is too many slots`);
    this.sets = sets;
    this.ways = ways;
    this.invSets = 1 / sets;
    this.setMask = sets <= 2 ** 30 && Number.isInteger(Math.log2(sets)) ? sets - 1 : -1;
    this.keys = new Float64Array(n).fill(INVALID);
    this.spaces = new Int32Array(n);
    this.owners = new Uint16Array(n);
    this.heads = new Int32Array(sets);
    this.toTail = new Int32Array(n);
    this.toHead = new Int32Array(n);
    this.scratch = new Int32Array(ways);
    // Every set starts empty: from the head, its ways from the highest down to way 0 (the tail).
    const toTail = this.toTail;
    const toHead = this.toHead;
    for (let base = 0, set = 0; set < sets; set++, base += ways) {
      const top = base + ways - 1;
      for (let slot = base; slot < top; slot++) {
        toHead[slot] = slot + 1;
        toTail[slot + 1] = slot;
      }
      toHead[top] = base;
      toTail[base] = top;
      this.heads[set] = top;
    }
    const track = options.trackEvictors === true;
    this.ghostKeys = track ? new Float64Array(n).fill(INVALID) : null;
    this.ghostSpaces = track ? new Int32Array(n) : null;
    this.ghostModes = track ? new Uint8Array(n) : null;
    this.ghostNext = track ? new Uint16Array(sets) : null;
  }

  /** Slot touched by the last `access`/`fill`/`probe` that found or placed a key (-1 before any). */
  get lastSlot(): number {
    return this.mru;
  }

  get capacity(): number {
    return this.sets * this.ways;
  }

  /**
   * key mod sets, exactly, as an int32 (see the module comment).
   *
   * Power-of-two sets and keys below 2^52 (every real address): key + 2^52 is exact and its
   * IEEE-754 representation ends with the key's low 32 bits, so the set is those bits masked;
   * they are read through a Uint32Array view of a one-element Float64Array. Only that 32-bit
   * half meets a bit operator, never the key.
   *
   * Otherwise floor(key × (1/sets)) is the exact quotient when sets is a power of two, and off
   * by at most one for other set counts and keys below 2^53 (the two roundings' relative error
   * is below 2^-52), which the remainder's range reveals and one step corrects. Either way is
   * several times cheaper than a division, and `%` on doubles is a library call in V8.
   */
  setOf(key: number): number {
    if (key < TWO_52 && this.setMask >= 0) {
      PUN_F64[0] = key + TWO_52;
      return PUN_U32[PUN_LOW] & this.setMask;
    }
    const sets = this.sets;
    const r = key - Math.floor(key * this.invSets) * sets;
    if (r < 0) return (r + sets) | 0;
    if (r >= sets) return (r - sets) | 0;
    return r | 0;
  }

  /** Slot holding key in space within the set whose first slot is base, or -1. */
  private searchSet(base: number, key: number, space: number): number {
    const keys = this.keys;
    const end = base + this.ways;
    for (let i = base; i < end; i++) {
      if (keys[i] === key && this.spaces[i] === space) return i;
    }
    return -1;
  }

  /** Slot holding key in space, or -1. Does not touch LRU state or counters. */
  find(key: number, space: number): number {
    if (key === this.mruKey && space === this.mruSpace) return this.mru;
    return this.searchSet(this.setOf(key) * this.ways, key, space);
  }

  /** Makes a valid slot found by the set search (not the mru slot) the head of its set's list. */
  private hitAt(slot: number, set: number, key: number, space: number): void {
    const heads = this.heads;
    const head = heads[set];
    if (head !== slot) {
      const toTail = this.toTail;
      const toHead = this.toHead;
      const tail = toHead[head];
      if (slot !== tail) {
        // unlink, then insert between the tail and the head
        const before = toHead[slot];
        const after = toTail[slot];
        toTail[before] = after;
        toHead[after] = before;
        toTail[tail] = slot;
        toHead[slot] = tail;
        toTail[slot] = head;
        toHead[head] = slot;
      }
      heads[set] = slot;
    }
    this.mru = slot;
    this.mruKey = key;
    this.mruSpace = space | 0; // as the Int32Array stores it
  }

  /** Looks key up; on a hit makes it most recently used. Counts hits/misses. No fill. */
  probe(key: number, space: number): boolean {
    if (key === this.mruKey && space === this.mruSpace) {
      this.hits++;
      return true;
    }
    const set = this.setOf(key);
    const slot = this.searchSet(set * this.ways, key, space);
    if (slot >= 0) {
      this.hitAt(slot, set, key, space);
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
    if (key !== this.mruKey || space !== this.mruSpace) {
      const set = this.setOf(key);
      const slot = this.searchSet(set * this.ways, key, space);
      if (slot < 0) {
        this.misses++;
        this.place(set, key, space, mode, 0);
        return false;
      }
      this.hitAt(slot, set, key, space);
    }
    this.hits++;
    this.victimKey = INVALID;
    return true;
  }

  /**
   * Places key as most recently used without counting a hit or miss (for prefetches and
   * fills from another level). If already present it is only refreshed.
   */
  fill(key: number, space: number, mode: ExecMode, flags = 0): void {
    if (key !== this.mruKey || space !== this.mruSpace) {
      const set = this.setOf(key);
      const slot = this.searchSet(set * this.ways, key, space);
      if (slot < 0) {
        this.place(set, key, space, mode, flags);
        return;
      }
      this.hitAt(slot, set, key, space);
    }
    this.victimKey = INVALID;
  }

  /**
   * Fills a key known to be absent (after a failed `probe`), evicting as `access` does. The key
   * must be absent: a second copy would make lookups ambiguous.
   */
  insert(key: number, space: number, mode: ExecMode, flags: number): void {
    this.place(this.setOf(key), key, space, mode, flags);
  }

  /** Fills an absent key into its set's victim slot (the list's tail) and makes it the head. */
  private place(set: number, key: number, space: number, mode: ExecMode, flags: number): void {
    const keys = this.keys;
    const victim = this.toHead[this.heads[set]];
    const victimKey = keys[victim];
    if (victimKey !== INVALID) {
      const owner = this.owners[victim];
      const vm = (owner & 1) as ExecMode;
      const vs = this.spaces[victim];
      this.victimKey = victimKey;
      this.victimSpace = vs;
      this.victimMode = vm;
      this.victimFlags = owner >> 1;
      this.evictions[mode * 2 + vm]++;
      if (this.ghostKeys !== null) this.recordGhost(set, victimKey, vs, mode);
    } else {
      this.victimKey = INVALID;
    }
    keys[victim] = key;
    this.spaces[victim] = space;
    // flags & 255 keeps the byte a Uint8Array would have stored (ToInt32 then the low 8 bits)
    this.owners[victim] = ((flags & 255) << 1) | mode;
    this.heads[set] = victim; // the tail becomes the head: the circle turns by one
    this.mru = victim;
    this.mruKey = key;
    this.mruSpace = space | 0; // as the Int32Array stores it
  }

  private recordGhost(set: number, key: number, space: number, evictor: ExecMode): void {
    const next = this.ghostNext!;
    const slot = set * this.ways + next[set];
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
    const base = this.setOf(key) * this.ways;
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
    if (slot === this.mru) this.mruKey = INVALID;
    this.toInvalidRun(slot, (slot / this.ways) | 0);
    return true;
  }

  /**
   * Moves a slot just made invalid from its place in its set's list into the run of invalid
   * slots at the tail, keeping that run in increasing way order from the tail.
   */
  private toInvalidRun(slot: number, set: number): void {
    const ways = this.ways;
    if (ways === 1) return;
    const toTail = this.toTail;
    const toHead = this.toHead;
    const heads = this.heads;
    const before = toHead[slot];
    const after = toTail[slot];
    toTail[before] = after;
    toHead[after] = before;
    if (heads[set] === slot) heads[set] = after;
    const head = heads[set];
    // From the tail towards the head, pass the invalid slots of lower ways.
    let x = toHead[head];
    let left = ways - 1;
    while (left > 0 && this.keys[x] === INVALID && x < slot) {
      x = toHead[x];
      left--;
    }
    if (left === 0) {
      // every other slot is invalid and of a lower way: this one goes first from the head
      const tail = toHead[head];
      toTail[tail] = slot;
      toHead[slot] = tail;
      toTail[slot] = head;
      toHead[head] = slot;
      heads[set] = slot;
    } else {
      // on the tail side of x
      const y = toTail[x];
      toTail[x] = slot;
      toHead[slot] = x;
      toTail[slot] = y;
      toHead[y] = slot;
    }
  }

  /**
   * Rebuilds one set's list after a bulk change: the first `valid` entries of `scratch` (the
   * set's valid slots, most recent first), then its invalid slots, highest way first, so the
   * lowest invalid way is the tail.
   */
  private relink(set: number, valid: number): void {
    const toTail = this.toTail;
    const toHead = this.toHead;
    const base = set * this.ways;
    let first = -1;
    let last = -1;
    for (let i = 0; i < valid; i++) {
      const slot = this.scratch[i];
      if (last < 0) first = slot;
      else {
        toTail[last] = slot;
        toHead[slot] = last;
      }
      last = slot;
    }
    for (let slot = base + this.ways - 1; slot >= base; slot--) {
      if (this.keys[slot] !== INVALID) continue;
      if (last < 0) first = slot;
      else {
        toTail[last] = slot;
        toHead[slot] = last;
      }
      last = slot;
    }
    toTail[last] = first;
    toHead[first] = last;
    this.heads[set] = first;
  }

  /**
   * Empties the valid slots that a flush selects (FLUSH_ALL, FLUSH_NON_GLOBAL, or FLUSH_SPACE
   * with `space`) and rebuilds the lists of the sets it changed. Returns how many it emptied.
   */
  private flush(kind: number, space: number): number {
    const keys = this.keys;
    const ways = this.ways;
    let n = 0;
    for (let set = 0; set < this.sets; set++) {
      const base = set * ways;
      let dropped = 0;
      for (let i = base; i < base + ways; i++) {
        if (keys[i] === INVALID) continue;
        const drop = kind === FLUSH_ALL || (kind === FLUSH_NON_GLOBAL ? (this.owners[i] & 2) === 0 : this.spaces[i] === space);
        if (drop) {
          keys[i] = INVALID;
          dropped++;
        }
      }
      if (dropped === 0) continue;
      n += dropped;
      let valid = 0;
      for (let k = 0, x = this.heads[set]; k < ways; k++, x = this.toTail[x]) if (keys[x] !== INVALID) this.scratch[valid++] = x;
      this.relink(set, valid);
    }
    if (this.mru >= 0) this.mruKey = this.keys[this.mru];
    return n;
  }

  /** Empties the whole array. */
  flushAll(): number {
    return this.flush(FLUSH_ALL, 0);
  }

  /** Empties every slot not marked global (a CR3 write without PCID). Returns the count. */
  flushNonGlobal(): number {
    return this.flush(FLUSH_NON_GLOBAL, 0);
  }

  /** Empties the slots of one address space / PCID (INVPCID single-context). */
  flushSpace(space: number): number {
    return this.flush(FLUSH_SPACE, space);
  }

  /** Owner mode of a slot (valid for the slot returned by find/lastSlot). */
  modeAt(slot: number): ExecMode {
    return (this.owners[slot] & 1) as ExecMode;
  }

  flagsAt(slot: number): number {
    return this.owners[slot] >> 1;
  }

  /** Number of valid lines currently owned by the given mode (optionally one space). */
  countOwned(mode: ExecMode, space?: number): number {
    let n = 0;
    for (let i = 0; i < this.keys.length; i++) {
      if (this.keys[i] !== INVALID && (this.owners[i] & 1) === mode && (space === undefined || this.spaces[i] === space)) n++;
    }
    return n;
  }

  /** Keys of a set from most to least recently used (for tests and debugging). */
  setContents(set: number): number[] {
    const out: number[] = [];
    for (let k = 0, x = this.heads[set]; k < this.ways; k++, x = this.toTail[x]) if (this.keys[x] !== INVALID) out.push(this.keys[x]);
    return out;
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

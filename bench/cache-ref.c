/*
 * The C reference for the "cache" benchmark section: a minimal set-associative cache with
 * true LRU by timestamps over flat arrays, doing what src/hw/cache-array.ts's
 * CacheArray.access does on a reference:
 *   - a line matches on (key, address space);
 *   - a hit makes the line most recently used (stamp = ++clock);
 *   - a miss fills the line: the first invalid way of the set (lowest way first), else the
 *     way with the smallest stamp; the new line records its owner (mode), and an evicted
 *     valid line is counted by filler mode and victim mode.
 * set = key mod sets, with a mask (sets must be a power of two here, as in cachegrind).
 *
 * Usage: cache-ref SETS WAYS STREAM_FILE REPS
 * STREAM_FILE holds the line keys as little-endian float64 (written by bench/sections/cache.ts).
 * Each repetition starts from an empty cache and times the reference loop only, in process
 * CPU time; prints one JSON object: refs, misses, evictions[4], best_seconds (the fastest
 * repetition).
 */
#define _POSIX_C_SOURCE 199309L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define INVALID UINT64_MAX

typedef struct {
  uint64_t sets, ways, mask;
  uint64_t *tags;
  int32_t *spaces;
  uint64_t *stamps;
  uint8_t *modes;
  uint64_t clock;
  uint64_t evictions[4];
} cache_t;

static void cache_reset(cache_t *c) {
  uint64_t n = c->sets * c->ways;
  for (uint64_t i = 0; i < n; i++) c->tags[i] = INVALID;
  memset(c->spaces, 0, n * sizeof *c->spaces);
  memset(c->stamps, 0, n * sizeof *c->stamps);
  memset(c->modes, 0, n * sizeof *c->modes);
  memset(c->evictions, 0, sizeof c->evictions);
  c->clock = 0;
}

/* Returns 1 on a hit, 0 on a miss (after filling the line). */
static inline int cache_access(cache_t *c, uint64_t key, int32_t space, uint8_t mode) {
  uint64_t base = (key & c->mask) * c->ways;
  uint64_t end = base + c->ways;
  for (uint64_t i = base; i < end; i++) {
    if (c->tags[i] == key && c->spaces[i] == space) {
      c->stamps[i] = ++c->clock;
      return 1;
    }
  }
  uint64_t victim = base;
  uint64_t oldest = UINT64_MAX;
  for (uint64_t i = base; i < end; i++) {
    if (c->tags[i] == INVALID) {
      victim = i;
      break;
    }
    if (c->stamps[i] < oldest) {
      oldest = c->stamps[i];
      victim = i;
    }
  }
  if (c->tags[victim] != INVALID) c->evictions[mode * 2 + c->modes[victim]]++;
  c->tags[victim] = key;
  c->spaces[victim] = space;
  c->modes[victim] = mode;
  c->stamps[victim] = ++c->clock;
  return 0;
}

static double cpu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: %s SETS WAYS STREAM_FILE REPS\n", argv[0]);
    return 2;
  }
  cache_t c;
  memset(&c, 0, sizeof c);
  c.sets = strtoull(argv[1], NULL, 10);
  c.ways = strtoull(argv[2], NULL, 10);
  int reps = atoi(argv[4]);
  if (c.sets == 0 || (c.sets & (c.sets - 1)) != 0 || c.ways == 0 || reps < 1) {
    fprintf(stderr, "cache-ref: SETS must be a power of two, WAYS and REPS positive\n");
    return 2;
  }
  c.mask = c.sets - 1;

  FILE *f = fopen(argv[3], "rb");
  if (!f) {
    perror(argv[3]);
    return 2;
  }
  fseek(f, 0, SEEK_END);
  long bytes = ftell(f);
  fseek(f, 0, SEEK_SET);
  size_t n = (size_t)bytes / sizeof(double);
  double *raw = malloc(n * sizeof *raw);
  uint64_t *keys = malloc(n * sizeof *keys);
  if (!raw || !keys || fread(raw, sizeof *raw, n, f) != n) {
    fprintf(stderr, "cache-ref: cannot read %s\n", argv[3]);
    return 2;
  }
  fclose(f);
  for (size_t i = 0; i < n; i++) keys[i] = (uint64_t)raw[i];
  free(raw);

  uint64_t slots = c.sets * c.ways;
  c.tags = malloc(slots * sizeof *c.tags);
  c.spaces = malloc(slots * sizeof *c.spaces);
  c.stamps = malloc(slots * sizeof *c.stamps);
  c.modes = malloc(slots * sizeof *c.modes);
  if (!c.tags || !c.spaces || !c.stamps || !c.modes) {
    fprintf(stderr, "cache-ref: out of memory\n");
    return 2;
  }

  double best = -1;
  uint64_t misses = 0;
  for (int r = 0; r < reps; r++) {
    cache_reset(&c);
    misses = 0;
    double t0 = cpu_now();
    for (size_t i = 0; i < n; i++) misses += !cache_access(&c, keys[i], 0, 0);
    double t = cpu_now() - t0;
    if (best < 0 || t < best) best = t;
  }
  printf("{\"refs\": %zu, \"misses\": %llu, \"evictions\": [%llu, %llu, %llu, %llu], \"best_seconds\": %.9f}\n", n,
         (unsigned long long)misses, (unsigned long long)c.evictions[0], (unsigned long long)c.evictions[1],
         (unsigned long long)c.evictions[2], (unsigned long long)c.evictions[3], best);
  return 0;
}

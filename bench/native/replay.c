/*
 * glibc malloc replay for the heapkit bench: reads a workload file written by bench/src/workload.ts
 * and times only the malloc/free/realloc loop. Built by the bench with the system's C compiler:
 *
 *   cc -O2 -pthread -fno-builtin-malloc -fno-builtin-free -fno-builtin-realloc -o replay replay.c
 *
 *   replay FILE RUNS [MAXOPS]    replay the workload RUNS times (ops [0, MAXOPS) if given)
 *   replay --pairs COUNT RUNS    malloc(64)+free, COUNT times per run
 *   replay --threads FILE RUNS   a split workload (bench/src/worker-split.ts) over one pthread per
 *                                share; one free in four handed to the next thread through a ring
 *
 * Prints one JSON line: {"opsTotal","opsTimed","seconds":[..],"peakHeapBytes","peakLiveBytes"}.
 * The first pass is untimed: it runs on a fresh process heap and measures the high-water mark of
 * the heap (brk extent, sampled with sbrk(0) after every op, plus mmapped chunks from mallinfo2()
 * after big requests), so utilization = peak live payload / that high-water mark. It also warms up.
 * The program's own buffers come from mmap, so the malloc heap holds only the workload's blocks.
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define MAGIC 0x4c574b48
#define VERSION 1
#define SPLIT_MAGIC 0x4d574b48
#define SPLIT_VERSION 1
#define RING_ENTRIES (1 << 16)
#define BIG 65536 /* requests below 128 KiB are never mmapped by glibc; 64 KiB leaves a margin */

static void *map(size_t bytes) {
  void *p = mmap(NULL, bytes ? bytes : 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    perror("mmap");
    exit(1);
  }
  return p;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what) {
  fprintf(stderr, "replay: %s\n", what);
  exit(1);
}

static void *volatile sink;

/* ---- the threaded mode: the same split, rings and protocol as bench/src/multi-worker-thread.ts */

/* head (the consumer's) and tail (the producer's) on cache lines of their own */
typedef struct {
  _Alignas(64) _Atomic long head;
  _Alignas(64) _Atomic long tail;
  _Alignas(64) void *entries[RING_ENTRIES];
} ring_t;

typedef struct {
  int index, workers;
  long count, slots;
  int32_t *ops, *sizes;
  void **ptrs;
  ring_t *own, *next;
  _Atomic int finished;
  int sampling;
} share_t;

static share_t *shares;
static pthread_barrier_t start;
static _Atomic size_t sampled_peak;

static void sample_arenas(void) {
  struct mallinfo2 m = mallinfo2(); /* every arena's system bytes, and the mmapped chunks */
  size_t now = m.arena + m.hblkhd;
  size_t seen = atomic_load(&sampled_peak);
  while (now > seen && !atomic_compare_exchange_weak(&sampled_peak, &seen, now)) {
  }
}

static void drain(ring_t *r) {
  long head = atomic_load_explicit(&r->head, memory_order_relaxed);
  long tail = atomic_load_explicit(&r->tail, memory_order_acquire);
  for (long i = head; i != tail; i++) free(r->entries[i & (RING_ENTRIES - 1)]);
  atomic_store_explicit(&r->head, tail, memory_order_release);
}

static void *share_main(void *arg) {
  share_t *s = arg;
  share_t *producer = &shares[(s->index + s->workers - 1) % s->workers];
  pthread_barrier_wait(&start);
  for (long i = 0; i < s->count; i++) {
    int32_t op = s->ops[i];
    int kind = op & 3;
    uint32_t slot = (uint32_t)op >> 2;
    if (kind == 0) {
      s->ptrs[slot] = malloc((size_t)s->sizes[i]);
      if (!s->ptrs[slot]) die("out of memory");
    } else if (kind == 1) {
      free(s->ptrs[slot]);
    } else {
      long tail = atomic_load_explicit(&s->next->tail, memory_order_relaxed);
      while (tail - atomic_load_explicit(&s->next->head, memory_order_acquire) >= RING_ENTRIES) drain(s->own);
      s->next->entries[tail & (RING_ENTRIES - 1)] = s->ptrs[slot];
      atomic_store_explicit(&s->next->tail, tail + 1, memory_order_release);
    }
    if ((i & 255) == 255) {
      drain(s->own);
      if (s->sampling) sample_arenas();
    }
  }
  atomic_store(&s->finished, 1);
  for (;;) {
    int done = atomic_load(&producer->finished);
    drain(s->own);
    if (done && atomic_load(&s->own->head) == atomic_load(&s->own->tail)) break;
  }
  return NULL;
}

/* One run: threads made and waiting (untimed), then the clock from the start to the last join. */
static double threaded_run(int workers, int sampling) {
  pthread_t *threads = map(sizeof(pthread_t) * (size_t)workers);
  pthread_barrier_init(&start, NULL, (unsigned)workers + 1);
  for (int k = 0; k < workers; k++) {
    atomic_store(&shares[k].finished, 0);
    atomic_store(&shares[k].own->head, 0);
    atomic_store(&shares[k].own->tail, 0);
    shares[k].sampling = sampling;
    if (pthread_create(&threads[k], NULL, share_main, &shares[k]) != 0) die("pthread_create failed");
  }
  pthread_barrier_wait(&start);
  double t0 = now();
  for (int k = 0; k < workers; k++) pthread_join(threads[k], NULL);
  double t = now() - t0;
  pthread_barrier_destroy(&start);
  munmap(threads, sizeof(pthread_t) * (size_t)workers);
  return t;
}

static int threaded_main(const char *file, int runs) {
  FILE *f = fopen(file, "rb");
  if (!f) die("cannot open the split workload file");
  int32_t header[8];
  if (fread(header, 4, 8, f) != 8 || header[0] != SPLIT_MAGIC || header[1] != SPLIT_VERSION)
    die("not a split workload file");
  int workers = header[2];
  long total = header[3];
  double peakLive = (double)(uint32_t)header[4] + (double)header[5] * 4294967296.0;
  shares = map(sizeof(share_t) * (size_t)workers);
  for (int k = 0; k < workers; k++) {
    int32_t head[2];
    if (fread(head, 4, 2, f) != 2) die("short file");
    share_t *s = &shares[k];
    s->index = k;
    s->workers = workers;
    s->count = head[0];
    s->slots = head[1] > 0 ? head[1] : 1;
    s->ops = map((size_t)s->count * 4);
    s->sizes = map((size_t)s->count * 4);
    if ((long)fread(s->ops, 4, (size_t)s->count, f) != s->count ||
        (long)fread(s->sizes, 4, (size_t)s->count, f) != s->count)
      die("short file");
    s->ptrs = map((size_t)s->slots * sizeof(void *));
    s->own = map(sizeof(ring_t));
  }
  fclose(f);
  for (int k = 0; k < workers; k++) shares[k].next = shares[(k + 1) % workers].own;
  /* the warm-up samples the arenas' high-water mark (mallinfo2 locks them all: untimed) */
  threaded_run(workers, 1);
  printf("{\"opsTotal\":%ld,\"opsTimed\":%ld,\"seconds\":[", total, total);
  for (int r = 0; r < runs; r++) printf("%s%.9f", r ? "," : "", threaded_run(workers, 0));
  printf("],\"peakHeapBytes\":%zu,\"peakLiveBytes\":%.0f}\n", atomic_load(&sampled_peak), peakLive);
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 4 && strcmp(argv[1], "--threads") == 0) return threaded_main(argv[2], atoi(argv[3]));
  if (argc >= 4 && strcmp(argv[1], "--pairs") == 0) {
    long count = atol(argv[2]);
    int runs = atoi(argv[3]);
    for (long i = 0; i < count / 10; i++) {
      sink = malloc(64);
      free(sink);
    }
    printf("{\"opsTotal\":%ld,\"opsTimed\":%ld,\"seconds\":[", count * 2, count * 2);
    for (int r = 0; r < runs; r++) {
      double t0 = now();
      for (long i = 0; i < count; i++) {
        sink = malloc(64);
        free(sink);
      }
      printf("%s%.9f", r ? "," : "", now() - t0);
    }
    printf("]}\n");
    return 0;
  }
  if (argc < 3) die("usage: replay FILE RUNS [MAXOPS] | replay --pairs COUNT RUNS | replay --threads FILE RUNS");
  FILE *f = fopen(argv[1], "rb");
  if (!f) die("cannot open the workload file");
  int32_t header[8];
  if (fread(header, 4, 8, f) != 8 || header[0] != MAGIC || header[1] != VERSION) die("not a workload file");
  long n = header[2];
  long slots = header[3] > 0 ? header[3] : 1;
  double peakLive = (double)(uint32_t)header[4] + (double)header[5] * 4294967296.0;
  int32_t *ops = map((size_t)n * 4);
  int32_t *sizes = map((size_t)n * 4);
  if ((long)fread(ops, 4, (size_t)n, f) != n || (long)fread(sizes, 4, (size_t)n, f) != n) die("short file");
  fclose(f);
  int runs = atoi(argv[2]);
  long timed = argc >= 4 ? atol(argv[3]) : n;
  if (timed > n || timed <= 0) timed = n;
  void **ptrs = map((size_t)slots * sizeof(void *));
  int32_t *slotSize = map((size_t)slots * 4);
  unsigned char *live = map((size_t)slots);

  /* pass 1: high-water mark (untimed) */
  /* the heap starts where the main arena starts (its first bytes may predate this pass) */
  struct mallinfo2 info0 = mallinfo2();
  char *start = (char *)sbrk(0) - info0.arena;
  size_t mmapped0 = info0.hblkhd;
  size_t mmapped = 0, peak = 0;
  for (long i = 0; i < n; i++) {
    int32_t op = ops[i];
    int kind = op & 3;
    uint32_t slot = (uint32_t)op >> 2;
    int big = 0;
    if (kind == 0) {
      ptrs[slot] = malloc((size_t)sizes[i]);
      if (!ptrs[slot]) die("out of memory");
      slotSize[slot] = sizes[i];
      big = sizes[i] >= BIG;
    } else if (kind == 1) {
      big = slotSize[slot] >= BIG;
      free(ptrs[slot]);
    } else {
      big = slotSize[slot] >= BIG || sizes[i] >= BIG;
      ptrs[slot] = realloc(ptrs[slot], (size_t)sizes[i]);
      if (!ptrs[slot]) die("out of memory");
      slotSize[slot] = sizes[i];
    }
    if (big) mmapped = mallinfo2().hblkhd - mmapped0;
    size_t cur = (size_t)((char *)sbrk(0) - start) + mmapped;
    if (cur > peak) peak = cur;
  }

  /* timed runs */
  printf("{\"opsTotal\":%ld,\"opsTimed\":%ld,\"seconds\":[", n, timed);
  for (int r = 0; r < runs; r++) {
    double t0 = now();
    for (long i = 0; i < timed; i++) {
      int32_t op = ops[i];
      int kind = op & 3;
      uint32_t slot = (uint32_t)op >> 2;
      if (kind == 0) {
        ptrs[slot] = malloc((size_t)sizes[i]);
      } else if (kind == 1) {
        free(ptrs[slot]);
      } else {
        ptrs[slot] = realloc(ptrs[slot], (size_t)sizes[i]);
      }
    }
    double t = now() - t0;
    if (timed < n) { /* free what the prefix left live, untimed */
      memset(live, 0, (size_t)slots);
      for (long i = 0; i < timed; i++) {
        int32_t op = ops[i];
        if ((op & 3) != 2) live[(uint32_t)op >> 2] = (op & 3) == 0;
      }
      for (long s = 0; s < slots; s++)
        if (live[s]) free(ptrs[s]);
    }
    printf("%s%.9f", r ? "," : "", t);
  }
  printf("],\"peakHeapBytes\":%zu,\"peakLiveBytes\":%.0f}\n", peak, peakLive);
  return 0;
}

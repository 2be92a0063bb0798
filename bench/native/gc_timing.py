#!/usr/bin/env python3
"""CPython peer of the heapkit bench's gc-* workloads (bench/src/gc.ts).

Builds the same graph as @heapkit/gc's buildBenchmarkGraph -- the oracle's timing.py graph: N lists,
each holding K references to uniformly random lists of the graph, all reachable from one root list --
with Python's generator and the same seed (buildBenchmarkGraph draws from a port of it), so both sides
trace the very same edges. Then times gc.collect() as timing.py does: the first collection after
building, RUNS collections while everything is reachable (the figure the bench compares), then dropping
the root and the collection that frees the cycles. Automatic gc is off and the interpreter's own
objects are frozen, so only the graph is scanned.

  python3 gc_timing.py --n 100000 --k 2 --runs 5 --seed 0      prints one JSON line
"""
import argparse
import gc
import json
import random
import sys
import time


def build(n, k, seed):
    rnd = random.Random(seed).random
    root = [[] for _ in range(n)]
    for lst in root:
        for _ in range(k):
            lst.append(root[int(rnd() * n)])
    return root


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--k", type=int, default=2)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    gc.disable()
    gc.collect()
    gc.freeze()
    pc = time.perf_counter
    t = pc()
    root = build(args.n, args.k, args.seed)
    build_s = pc() - t
    t = pc()
    gc.collect()
    first = pc() - t
    reach = []
    for _ in range(args.runs):
        t = pc()
        r = gc.collect()
        reach.append(pc() - t)
        assert r == 0, r
    t = pc()
    del root
    drop = pc() - t
    t = pc()
    found = gc.collect()
    unreach = pc() - t
    print(json.dumps({
        "n": args.n, "k": args.k, "python": sys.version.split()[0],
        "build_s": build_s, "first_collect_s": first, "reachable_s": reach,
        "del_root_s": drop, "unreachable_s": unreach, "collected": found,
    }))


if __name__ == "__main__":
    main()

// The registry's pymalloc has CPython's 1 MiB arenas, which the suite's 1 MiB heaps cannot hold, so
// there its small requests fall back to TLSF. This run gives it arenas that fit (64 KiB arenas of
// 4 KiB pools, and the smallest arenas allowed), so that pools, usedpools and arena ordering go through the same suite.
import { buddy, pymalloc, tlsf } from "@heapkit/strategies";
import { describeStrategy } from "../src/suite.js";

describeStrategy("pymalloc (64 KiB arenas, 4 KiB pools, tlsf fallback)", () =>
  pymalloc({ fallback: tlsf(), arenaSize: 64 * 1024, poolSize: 4096 }),
);
describeStrategy("pymalloc (16 KiB arenas, 4 KiB pools, buddy fallback)", () =>
  pymalloc({ fallback: buddy(), arenaSize: 16 * 1024, poolSize: 4096 }),
);
describeStrategy("pymalloc (8 KiB arenas of two 4 KiB pools, the smallest, tlsf fallback)", () =>
  pymalloc({ fallback: tlsf(), arenaSize: 8 * 1024, poolSize: 4096 }),
);

/**
 * The machine's state, timed around every cell. The 2-core VM the bench runs on changes under it: now
 * and then the host slows every process for seconds to minutes (instruction-heavy loops 1.6–2.6× slower,
 * memory latency hardly: the gc README has the evidence), and the last-level cache it shares with other
 * tenants comes and goes (one dependent load over 8 MiB took 19 ns in one run and 114 ns in another
 * the same day). A cell measured in such a spell skews every ratio it enters: glibc's W cell gave 26.3
 * to 41.7 M ops/s on one day. So before and after each cell the bench times two probes in its own
 * process — a fixed integer loop, and a pointer chase over 8 MiB — and when either, the slower of its
 * two timings, is past its factor ({@link SLOW_STATE_FACTORS}) × the fastest the run has seen of it, the
 * cell is measured again, up to {@link MAX_ATTEMPTS} times in all, and the attempt in the best state is
 * kept.
 * Each row carries `extra.machineState` (that attempt's worst probe over its factor × its fastest: past 1
 * is slow), with
 * `extra.calibrationMs`, `extra.memoryLatencyNs` and `extra.attempts`.
 *
 * @module
 */
import { pointerChase } from "./latency.js";

/**
 * How far past the run's fastest each probe may be before the cell counts as measured in a slow state:
 * the loop 1.25×, the chase 1.5× (it wandered 19.7–25 ns within one short run, and between two runs
 * 19 against 114 ns; at 1.25× nearly every cell of a full run was measured three times).
 */
export const SLOW_STATE_FACTORS: readonly [loop: number, chase: number] = [1.25, 1.5];

/** Measurements of one cell at most, the first included. */
export const MAX_ATTEMPTS = 3;

const TABLE = new Int32Array(4096);
const LOOP_STEPS = 1 << 20;
/** The memory probe's span: about workload W's working set, past the VM's share of the last-level cache. */
const CHASE_BYTES = 8 << 20;
const CHASE_LOADS = 200_000;

/** The fixed loop: xorshift steps scattering adds over a small table (integer math and typed-array access, as the cells do). */
function loop(steps: number): number {
  let x = 0x2545f491;
  for (let i = 0; i < steps; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    TABLE[x & 4095] += i;
  }
  return TABLE[x & 4095];
}

/** Milliseconds of the fixed loop now, the fastest of three (about 2 ms each on the VM). */
export function calibrationMs(): number {
  let best = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 3; round++) {
    const t0 = process.hrtime.bigint();
    loop(LOOP_STEPS);
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return best;
}

let chase: ((loads: number) => number) | undefined;

/** The machine's state now: the integer loop's milliseconds and one dependent load's nanoseconds over 8 MiB. */
export function probeMachine(): readonly [loopMs: number, loadNs: number] {
  chase ??= pointerChase(CHASE_BYTES);
  return [calibrationMs(), chase(CHASE_LOADS)];
}

/** A measurement taken by {@link measureCalibrated}. */
export interface Calibrated<T> {
  /** What the kept attempt measured. */
  value: T;
  /** The kept attempt's probes: of each, the slower of the timing before and the one after. */
  probes: number[];
  /** The kept attempt's worst probe over its factor × the fastest seen of it: past 1, a slow state. */
  state: number;
  /** Attempts made. */
  attempts: number;
  /** Whether even the kept attempt was measured in a slow state. */
  slow: boolean;
  /** The fastest of each probe seen, this cell's included: the next cell's baseline. */
  baseline: number[];
}

/**
 * Runs `measure` between two probes of the machine; again while a probe, the slower of its two
 * timings, is past its factor × the fastest seen of it (`baseline`, then lowered by every probe), up
 * to {@link MAX_ATTEMPTS} attempts in all; keeps the attempt in the best state.
 */
export function measureCalibrated<T>(
  measure: () => T,
  probe: () => readonly number[],
  baseline: readonly number[],
  factors: readonly number[] = SLOW_STATE_FACTORS,
): Calibrated<T> {
  const fastest = [...baseline];
  let kept: { value: T; probes: number[] } | undefined;
  const stateOf = (probes: readonly number[]): number =>
    Math.max(...probes.map((p, i) => p / (factors[i] * fastest[i])));
  let attempts = 0;
  while (attempts < MAX_ATTEMPTS) {
    attempts++;
    const before = probe();
    const value = measure();
    const after = probe();
    const probes = before.map((p, i) => Math.max(p, after[i]));
    for (let i = 0; i < fastest.length; i++) fastest[i] = Math.min(fastest[i], before[i], after[i]);
    if (kept === undefined || stateOf(probes) < stateOf(kept.probes)) kept = { value, probes };
    if (stateOf(kept.probes) <= 1) break;
  }
  const { value, probes } = kept as { value: T; probes: number[] };
  const state = stateOf(probes);
  return { value, probes, state, attempts, slow: state > 1, baseline: fastest };
}

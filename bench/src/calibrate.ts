/**
 * The machine's state, timed around every cell. On the 2-core VM the bench runs on, the host now and
 * then slows every process for seconds to minutes at a time: instruction-heavy loops run 1.6–2.6× slower
 * while memory latency hardly moves (the gc README has the evidence). A cell measured in such a spell
 * skews every ratio it enters — glibc's W cell gave 27.6 to 41.7 M ops/s on one day. So the bench times
 * a fixed integer loop in its own process before and after each cell; when the slower of the two is
 * past {@link SLOW_STATE_FACTOR} × the fastest the run has seen, the cell is measured again, up to
 * {@link MAX_ATTEMPTS} times in all, and the attempt measured in the best state is kept. Each row
 * carries `extra.calibrationMs` (its attempt's slower calibration) and `extra.attempts`.
 *
 * @module
 */

/** A cell whose calibration is past this multiple of the run's fastest was measured in a slow state. */
export const SLOW_STATE_FACTOR = 1.25;

/** Measurements of one cell at most, the first included. */
export const MAX_ATTEMPTS = 3;

const TABLE = new Int32Array(4096);
const LOOP_STEPS = 1 << 20;

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

/** Milliseconds of the fixed loop now, the fastest of three (about 2–3 ms each on the VM). */
export function calibrationMs(): number {
  let best = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 3; round++) {
    const t0 = process.hrtime.bigint();
    loop(LOOP_STEPS);
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return best;
}

/** A measurement taken by {@link measureCalibrated}. */
export interface Calibrated<T> {
  /** What the kept attempt measured. */
  value: T;
  /** The kept attempt's calibration: the slower of the one before and the one after it. */
  calibrationMs: number;
  /** Attempts made. */
  attempts: number;
  /** Whether even the kept attempt was measured in a slow state. */
  slow: boolean;
  /** The fastest calibration seen, this one's included: the next cell's baseline. */
  baseline: number;
}

/**
 * Runs `measure` between two calibrations; again while the slower of them is past
 * {@link SLOW_STATE_FACTOR} × `baseline` (the fastest calibration the run has seen), up to
 * {@link MAX_ATTEMPTS} attempts in all; keeps the attempt with the fastest calibration.
 */
export function measureCalibrated<T>(
  measure: () => T,
  calibrate: () => number,
  baseline: number,
): Calibrated<T> {
  let kept: { value: T; calibrationMs: number } | undefined;
  let attempts = 0;
  while (attempts < MAX_ATTEMPTS) {
    attempts++;
    const before = calibrate();
    const value = measure();
    const after = calibrate();
    baseline = Math.min(baseline, before, after);
    const state = Math.max(before, after);
    if (kept === undefined || state < kept.calibrationMs) kept = { value, calibrationMs: state };
    if (kept.calibrationMs <= SLOW_STATE_FACTOR * baseline) break;
  }
  const { value, calibrationMs } = kept as { value: T; calibrationMs: number };
  return { value, calibrationMs, attempts, slow: calibrationMs > SLOW_STATE_FACTOR * baseline, baseline };
}

import { describe, expect, it } from "vitest";
import { calibrationMs, MAX_ATTEMPTS, measureCalibrated, SLOW_STATE_FACTOR } from "../src/calibrate.js";

/** A calibration that reads its figures from a list, in order. */
const scripted = (figures: number[]) => () => {
  const next = figures.shift();
  if (next === undefined) throw new Error("asked for more calibrations than scripted");
  return next;
};

describe("a cell measured around the machine's state", () => {
  it("is measured once when the machine is in its usual state", () => {
    let runs = 0;
    const r = measureCalibrated(() => ++runs, scripted([10, 11]), 10);
    expect(r).toMatchObject({ value: 1, attempts: 1, slow: false, calibrationMs: 11 });
  });

  it("is measured again in a slow state, and the attempt in the best state is kept", () => {
    let runs = 0;
    // first attempt slow after it (20 > 1.25 × 10), second in the usual state
    const r = measureCalibrated(() => ++runs, scripted([10, 20, 11, 12]), 10);
    expect(r).toMatchObject({ value: 2, attempts: 2, slow: false, calibrationMs: 12 });
  });

  it(`stops after ${MAX_ATTEMPTS} attempts, keeps the least slow and says it stayed slow`, () => {
    let runs = 0;
    const r = measureCalibrated(() => ++runs, scripted([20, 21, 18, 19, 22, 23]), 10);
    expect(r).toMatchObject({ value: 2, attempts: MAX_ATTEMPTS, slow: true, calibrationMs: 19 });
  });

  it("learns a faster baseline from its own calibrations", () => {
    const r = measureCalibrated(() => 0, scripted([8, 9]), 20);
    expect(r.baseline).toBe(8);
    expect(r.attempts).toBe(1);
    expect(9).toBeLessThanOrEqual(SLOW_STATE_FACTOR * r.baseline);
  });

  it("times the fixed loop in milliseconds", () => {
    const ms = calibrationMs();
    expect(ms).toBeGreaterThan(0);
    expect(ms).toBeLessThan(1000);
  });
});

import { describe, expect, it } from "vitest";
import { calibrationMs, MAX_ATTEMPTS, measureCalibrated, probeMachine } from "../src/calibrate.js";

/** Probes of the machine read from a list, in order. */
const scripted = (probes: number[][]) => () => {
  const next = probes.shift();
  if (next === undefined) throw new Error("asked for more probes than scripted");
  return next;
};

describe("a cell measured around the machine's state", () => {
  it("is measured once when the machine is in its usual state", () => {
    let runs = 0;
    const r = measureCalibrated(
      () => ++runs,
      scripted([
        [10, 20],
        [11, 21],
      ]),
      [10, 20],
    );
    expect(r).toMatchObject({ value: 1, attempts: 1, slow: false, probes: [11, 21] });
    expect(r.state).toBeCloseTo(1.1 / 1.25);
  });

  it("is measured again when the integer loop ran slow, and the attempt in the best state is kept", () => {
    let runs = 0;
    const probes = [
      [10, 20],
      [20, 20],
      [11, 20],
      [12, 21],
    ];
    const r = measureCalibrated(() => ++runs, scripted(probes), [10, 20]);
    expect(r).toMatchObject({ value: 2, attempts: 2, slow: false, probes: [12, 21] });
  });

  it("lets the chase wander within its own factor: 1.4× is not slow for it, though it would be for the loop", () => {
    const r = measureCalibrated(
      () => 0,
      scripted([
        [10, 28],
        [10, 27],
      ]),
      [10, 20],
      [1.25, 1.5],
    );
    expect(r).toMatchObject({ attempts: 1, slow: false });
  });

  it("is measured again when memory was slow though the loop was not (a contended cache)", () => {
    let runs = 0;
    const probes = [
      [10, 20],
      [10, 60],
      [10, 20],
      [10, 21],
    ];
    const r = measureCalibrated(() => ++runs, scripted(probes), [10, 20]);
    expect(r).toMatchObject({ value: 2, attempts: 2, slow: false });
  });

  it(`stops after ${MAX_ATTEMPTS} attempts, keeps the least slow and says it stayed slow`, () => {
    let runs = 0;
    const probes = [
      [20, 20],
      [21, 20],
      [18, 20],
      [19, 20],
      [22, 20],
      [23, 20],
    ];
    const r = measureCalibrated(() => ++runs, scripted(probes), [10, 20]);
    expect(r).toMatchObject({ value: 2, attempts: MAX_ATTEMPTS, slow: true, probes: [19, 20] });
    expect(r.state).toBeCloseTo(1.9 / 1.25);
  });

  it("learns a faster baseline from its own probes", () => {
    const r = measureCalibrated(
      () => 0,
      scripted([
        [8, 30],
        [9, 31],
      ]),
      [20, 40],
    );
    expect(r.baseline).toEqual([8, 30]);
    expect(r.attempts).toBe(1);
  });

  it("times the fixed loop in milliseconds and the chase in nanoseconds", () => {
    expect(calibrationMs()).toBeGreaterThan(0);
    const [loopMs, loadNs] = probeMachine();
    expect(loopMs).toBeLessThan(1000);
    expect(loadNs).toBeGreaterThan(0);
    expect(loadNs).toBeLessThan(10_000);
  });
});

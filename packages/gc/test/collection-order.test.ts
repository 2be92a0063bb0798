// The order a collection leaves its lists in, against CPython's passes written out plainly over JS
// arrays. The oracle compares counts and sizes, not orders; the collector computes move_unreachable
// over dense arrays (see src/policies/trial-deletion.ts), and this checks it keeps CPython's order.
import { createHeap } from "@heapkit/heap";
import { firstFit, tlsf } from "@heapkit/strategies";
import { describe, expect, it } from "vitest";
import { RefcountCycles } from "../src/index.js";
import { GEN_MASK, GEN_SHIFT, W_INFO } from "../src/layout.js";
import { pythonRandom } from "../src/testing.js";

/**
 * Collects generations 0, 1 and 2 in turn, each time expecting what CPython finds (cpythonSurvivors)
 * and the survivors appended to the next generation in CPython's order; returns what each found.
 */
function collectEachGenerationAsCPython(gc: RefcountCycles): number[] {
  const found: number[] = [];
  for (let generation = 0; generation < 3; generation++) {
    const target = Math.min(generation + 1, 2);
    const young = [generation, ...Array.from({ length: generation }, (_, g) => g)].flatMap((g) =>
      gc.getObjects(g),
    );
    const older = target === generation ? [] : gc.getObjects(target);
    const survivors = cpythonSurvivors(gc, young);
    found.push(gc.collect(generation));
    expect(found[generation]).toBe(young.length - survivors.length);
    expect(gc.getObjects(target)).toEqual([...older, ...survivors]);
  }
  return found;
}

/**
 * update_refs, subtract_refs and move_unreachable of gcmodule.c over `young` (in list order), with
 * the young list as an array and "move to the tail" as append: returns the survivors in order.
 */
function cpythonSurvivors(gc: RefcountCycles, young: number[]): number[] {
  const gcRefs = new Map(young.map((p) => [p, gc.refcount(p)]));
  for (const p of young) {
    for (const c of gc.referencesOf(p)) {
      const refs = gcRefs.get(c);
      if (refs !== undefined) gcRefs.set(c, refs - 1);
    }
  }
  const list = [...young];
  const unreachable = new Set<number>();
  const visited = new Set<number>();
  const survivors: number[] = [];
  for (let at = 0; at < list.length; at++) {
    const p = list[at];
    if (gcRefs.get(p) === 0) {
      unreachable.add(p);
      continue;
    }
    for (const c of gc.referencesOf(p)) {
      if (!gcRefs.has(c) || visited.has(c)) continue;
      if (unreachable.delete(c)) list.push(c); // back to young's tail
      if (gcRefs.get(c) === 0) gcRefs.set(c, 1);
    }
    visited.add(p);
    survivors.push(p);
  }
  return survivors;
}

/**
 * Random programs over pairs and lists — allocations, references, drops, collections of a random
 * generation — checking after every collection that the target generation holds what it held before
 * and then the survivors in CPython's order.
 */
function checkOrder(seeds: number, steps: number): void {
  for (let seed = 1; seed <= seeds; seed++) {
    const gc = new RefcountCycles(createHeap({ strategy: tlsf(), maxSize: 64 << 20 }), {
      profile: "plain",
      enabled: false,
    });
    const rnd = pythonRandom(seed);
    const pair = gc.defineType({ name: "pair", refs: 2 });
    // owned references; pairs have two slots to set, lists grow
    const held: { ptr: number; isPair: boolean }[] = [];
    for (let step = 0; step < steps; step++) {
      const x = rnd();
      if (x < 0.4 || held.length < 4) {
        const isPair = rnd() < 0.5;
        held.push({ ptr: gc.allocate(isPair ? pair : gc.list), isPair });
      } else if (x < 0.8) {
        const from = held[Math.floor(rnd() * held.length)];
        const to = held[Math.floor(rnd() * held.length)].ptr;
        if (from.isPair) gc.set(from.ptr, Math.floor(rnd() * 2), to);
        else gc.append(from.ptr, to);
      } else if (x < 0.95) {
        // drop an owned reference: what is left may be garbage cycles, or held only from outside young
        const at = Math.floor(rnd() * held.length);
        gc.decref(held[at].ptr);
        held.splice(at, 1);
      } else {
        const generation = Math.floor(rnd() * 3);
        const target = Math.min(generation + 1, 2);
        const young = [generation, ...Array.from({ length: generation }, (_, g) => g)].flatMap((g) =>
          gc.getObjects(g),
        );
        const older = target === generation ? [] : gc.getObjects(target);
        const survivors = cpythonSurvivors(gc, young);
        gc.collect(generation);
        expect(gc.getObjects(target)).toEqual([...older, ...survivors]);
      }
    }
  }
}

describe("collection order", () => {
  it("leaves survivors in CPython's order, with garbage cycles and rescued objects", () => {
    checkOrder(40, 400);
  });

  it("keeps that order over more objects than a pass takes per call (512)", () => {
    // full collections of a few thousand objects: every pass runs over several calls
    checkOrder(3, 8000);
  });

  it("keeps that order with long lists among the objects (numbered on their own)", () => {
    const gc = new RefcountCycles(createHeap({ strategy: tlsf(), maxSize: 64 << 20 }), {
      profile: "plain",
      enabled: false,
    });
    const rnd = pythonRandom(7);
    const pair = gc.defineType({ name: "pair", refs: 2 });
    const objects: { ptr: number; isList: boolean }[] = [];
    for (let i = 0; i < 3000; i++) {
      const isList = rnd() < 0.05;
      objects.push({ ptr: gc.allocate(isList ? gc.list : pair), isList });
    }
    // two halves that refer only within themselves: the first is held through a few of its objects,
    // the second is garbage, cycles through long lists
    const pick = (i: number) => objects[(i < 1500 ? 0 : 1500) + Math.floor(rnd() * 1500)].ptr;
    objects.forEach(({ ptr, isList }, i) => {
      if (isList) {
        // 0 to 400 references: most lists are longer than a numbering call takes on its own
        for (let k = Math.floor(rnd() * 400); k > 0; k--) gc.append(ptr, pick(i));
      } else {
        gc.set(ptr, 0, pick(i));
        if (rnd() < 0.5) gc.set(ptr, 1, pick(i));
      }
    });
    objects.forEach(({ ptr }, i) => {
      if (i % 100 !== 0 || i >= 1500) gc.decref(ptr);
    });
    const found = collectEachGenerationAsCPython(gc);
    expect(found[0]).toBeGreaterThan(1000);
  });

  it("finds objects tracked below the first one, and references to untracked objects on both sides", () => {
    // positionOf starts at the first tracked object's address: objects placed in a hole below it,
    // later, make it grow downwards; untracked objects below and above are never in the set
    const gc = new RefcountCycles(createHeap({ strategy: firstFit(), maxSize: 64 << 20 }), {
      profile: "plain",
      enabled: false,
    });
    const blob = gc.defineType({ name: "blob", refs: 0, bytes: 400_000, tracked: false });
    const leaf = gc.defineType({ name: "leaf", refs: 0 });
    const pair = gc.defineType({ name: "pair", refs: 2 });
    const lowLeaf = gc.allocate(leaf);
    const hole = gc.allocate(blob);
    const high = Array.from({ length: 2000 }, () => gc.allocate(pair));
    const highLeaf = gc.allocate(leaf);
    gc.decref(hole);
    const low = Array.from({ length: 2000 }, () => gc.allocate(pair));
    expect(Math.max(...low)).toBeLessThan(Math.min(...high));
    expect(lowLeaf).toBeLessThan(Math.min(...low));
    expect(highLeaf).toBeGreaterThan(Math.max(...high));
    const rnd = pythonRandom(11);
    const all = [...low, ...high];
    const pick = () => all[Math.floor(rnd() * all.length)];
    for (const p of all) {
      gc.set(p, 0, pick());
      const x = rnd();
      gc.set(p, 1, x < 0.2 ? lowLeaf : x < 0.4 ? highLeaf : pick());
    }
    all.forEach((p, i) => {
      if (i % 50 !== 0) gc.decref(p);
    });
    collectEachGenerationAsCPython(gc);
    expect(gc.refcount(lowLeaf)).toBeGreaterThan(1);
  });

  it("keeps that order, and every object's generation field, over thousands of objects, dense and spread", () => {
    // numbering's calls over objects in address order (as the benchmark's are), with gaps and holes
    // refilled under first fit, pairs, triples (an odd number of references) and lists whose items lie
    // elsewhere, some slots empty, garbage cycles; then the survivors in the order the collection left
    // them, spread over the heap. Every object's generation field must say the list it is on (numbering
    // writes the survivors')
    const gc = new RefcountCycles(createHeap({ strategy: firstFit(), maxSize: 64 << 20 }), {
      profile: "plain",
      enabled: false,
    });
    const rnd = pythonRandom(5);
    const pair = gc.defineType({ name: "pair", refs: 2 });
    const triple = gc.defineType({ name: "triple", refs: 3 });
    const big = gc.defineType({ name: "big", refs: 1, bytes: 20_000, tracked: false });
    const objects: { ptr: number; kind: number }[] = [];
    const spacers: number[] = [];
    const allocate = () => {
      const x = rnd();
      const kind = x < 0.1 ? 0 : x < 0.4 ? 3 : 2;
      objects.push({ ptr: gc.allocate(kind === 0 ? gc.list : kind === 3 ? triple : pair), kind });
    };
    for (let i = 0; i < 12_000; i++) {
      allocate();
      // untracked blocks between some of them, freed later: gaps, then holes that later objects fill
      if (i % 150 === 0) spacers.push(gc.allocate(big));
    }
    for (const s of spacers) gc.decref(s);
    for (let i = 0; i < 3000; i++) allocate();
    // the even objects refer to even ones and some are held; the odd ones refer to odd ones: garbage
    const pick = (i: number) => objects[2 * Math.floor(rnd() * (objects.length / 2)) + (i % 2)].ptr;
    objects.forEach(({ ptr, kind }, i) => {
      if (kind === 0) {
        for (let k = Math.floor(rnd() * 6); k > 0; k--) gc.append(ptr, pick(i));
      } else {
        // some slots left empty
        for (let k = 0; k < kind; k++) if (k === 0 || rnd() < 0.7) gc.set(ptr, k, pick(i));
      }
    });
    objects.forEach(({ ptr }, i) => {
      if (i % 40 !== 0) gc.decref(ptr);
    });
    const generationsAsListed = () => {
      for (let g = 0; g < 3; g++) {
        const wrong = gc
          .getObjects(g)
          .filter((p) => (gc.i32[(p >> 2) + W_INFO] & GEN_MASK) >> GEN_SHIFT !== g);
        expect(wrong.length).toBe(0);
      }
    };
    for (let generation = 0; generation < 3; generation++) {
      const target = Math.min(generation + 1, 2);
      const young = [generation, ...Array.from({ length: generation }, (_, g) => g)].flatMap((g) =>
        gc.getObjects(g),
      );
      const older = target === generation ? [] : gc.getObjects(target);
      const survivors = cpythonSurvivors(gc, young);
      expect(gc.collect(generation)).toBe(young.length - survivors.length);
      expect(gc.getObjects(target)).toEqual([...older, ...survivors]);
      if (generation === 0) expect(young.length - survivors.length).toBeGreaterThan(5000);
      generationsAsListed();
    }
    // a full collection again, of what survived (the old generation first): the same order, nothing found
    const old = gc.getObjects(2);
    expect(old.length).toBeGreaterThan(4096);
    expect(cpythonSurvivors(gc, old)).toEqual(old);
    expect(gc.collect(2)).toBe(0);
    expect(gc.getObjects(2)).toEqual(old);
    generationsAsListed();
  });

  it("brings a long chain back from the unreachable list in order, past a pass's calls", () => {
    // each pair refers to the one before it and only the last is held: the walk moves all the others
    // out, then brings them back one by one (a queue of thousands); every third pair also sits in a
    // garbage cycle of two that nothing reaches
    const gc = new RefcountCycles(createHeap({ strategy: tlsf(), maxSize: 64 << 20 }), {
      profile: "plain",
      enabled: false,
    });
    const pair = gc.defineType({ name: "pair", refs: 2 });
    let previous = 0;
    let garbage = 0;
    for (let i = 0; i < 3000; i++) {
      const p = gc.allocate(pair);
      if (previous !== 0) {
        gc.set(p, 0, previous);
        gc.decref(previous);
      }
      previous = p;
      if (i % 3 === 0) {
        const a = gc.allocate(pair);
        const b = gc.allocate(pair);
        gc.set(a, 0, b);
        gc.set(b, 0, a);
        gc.decref(a);
        gc.decref(b);
        garbage += 2;
      }
    }
    const young = gc.getObjects(0);
    const survivors = cpythonSurvivors(gc, young);
    expect(survivors.length).toBe(3000);
    expect(gc.collect(0)).toBe(garbage);
    expect(gc.getObjects(1)).toEqual(survivors);
    expect(gc.collect(2)).toBe(0);
    expect(gc.getObjects(2)).toEqual(survivors);
    gc.decref(previous);
    expect(gc.allObjects()).toEqual([]);
  });
});

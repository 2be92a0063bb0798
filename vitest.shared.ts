// Shared vitest settings: every package tests its siblings from source through the
// "@heapkit/source" export condition, so no build is needed before `pnpm test`.
// In Vite 6+ node-environment tests honour conditions only through ssr.resolve.conditions,
// and setting them replaces the defaults, so the defaults are listed again.
export const sourceConditions = ["@heapkit/source", "module", "node", "development|production"];

export const sharedProject = {
  ssr: { resolve: { conditions: sourceConditions } },
  resolve: { conditions: sourceConditions },
};

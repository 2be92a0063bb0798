// The strategy registry, reached through its source: @heapkit/heap cannot list @heapkit/strategies
// as a devDependency, because tlsf, buddy, segregated and pymalloc list @heapkit/heap as theirs and
// the build graph must stay free of cycles.
export {
  strategyByName,
  strategyFromDescriptor,
  strategyNames,
  tlsf,
} from "../../../strategies/all/src/index.js";

// Every registered strategy runs the same suite, unchanged: a new strategy joins by its line in
// the @heapkit/strategies registry.
import { strategies } from "@heapkit/strategies";
import { describeStrategy } from "../src/suite.js";

for (const [name, make] of Object.entries(strategies)) describeStrategy(name, make);

#!/usr/bin/env node
import { main } from "./cli.js";
import { endQuietlyOnClosedPipe } from "./io.js";

endQuietlyOnClosedPipe();
process.exitCode = await main(process.argv.slice(2));

/**
 * What a command module exports: a function that registers the command on the program.
 *
 * @module
 */
import type { Command } from "commander";
import type { CliIo } from "../io.js";

/** Adds a command to the program. */
export type CommandRegistrar = (program: Command, io: CliIo) => void;

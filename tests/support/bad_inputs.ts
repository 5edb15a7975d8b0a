/** Moved to scripts/lib/bad_inputs.ts; re-exported here until no import uses this path. */
export * from "../../scripts/lib/bad_inputs.ts";

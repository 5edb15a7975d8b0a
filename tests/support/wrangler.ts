/** Moved to scripts/lib/wrangler.ts; re-exported here until no import uses this path. */
export * from "../../scripts/lib/wrangler.ts";

/** Moved to scripts/lib/hostile_uploads.ts; re-exported here for the files that still import it at this path. */
export * from "../../scripts/lib/hostile_uploads.ts";

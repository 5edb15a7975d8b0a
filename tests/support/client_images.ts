/** Moved to scripts/lib/client_images.ts; re-exported here until no import uses this path. */
export * from "../../scripts/lib/client_images.ts";

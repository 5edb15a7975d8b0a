/** Moved to scripts/lib/upload_client.ts; re-exported here for the files that still import it at this path. */
export * from "../../scripts/lib/upload_client.ts";

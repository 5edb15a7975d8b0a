/** Moved to scripts/lib/phone_photos.ts; re-exported here for the files that still import it at this path. */
export * from "../../scripts/lib/phone_photos.ts";

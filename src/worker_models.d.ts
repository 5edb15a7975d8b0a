/** models/index.json as committed; src/model/registry.ts checks it. */
export declare const modelIndex: unknown;
/** Each model of the index: its weights (wrangler's Data rule) and its manifest. */
export declare const modelFiles: Record<string, { weights: ArrayBuffer; manifest: unknown }>;

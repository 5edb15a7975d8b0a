/** Moved to scripts/lib/mnist_test_set.ts; re-exported here until no import uses this path. */
export * from "../../scripts/lib/mnist_test_set.ts";

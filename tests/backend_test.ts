/** Starting tfjs's wasm backend from a precompiled module, as the Worker does. */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { hasWasmSimd, useWasmBackend } from "../src/model/backend.ts";
import { compileWasmModules } from "../src/deno.ts";

Deno.test("useWasmBackend() runs tfjs on the SIMD module it is given", async () => {
  assert.ok(hasWasmSimd());
  await useWasmBackend(await compileWasmModules());
  assert.equal(tf.getBackend(), "wasm");
  const y = tf.matMul(tf.ones([2, 3]), tf.ones([3, 2]));
  assert.deepEqual([...y.dataSync()], [3, 3, 3, 3]);
  tf.dispose(y);
});

Deno.test("useWasmBackend() rejects a module it cannot instantiate instead of hanging", async () => {
  await tf.setBackend("cpu");
  // A module that imports env.nop, which tfjs's glue does not provide: instantiation fails.
  const wrong = await WebAssembly.compile(
    Uint8Array.from(atob("AGFzbQEAAAABBAFgAAACCwEDZW52A25vcAAA"), (c) => c.charCodeAt(0)),
  );
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hang = new Promise((
    _,
    reject,
  ) => (timer = setTimeout(() => reject(new Error("hung")), 10_000)));
  await assert.rejects(
    Promise.race([useWasmBackend({ ...(await compileWasmModules()), tfjs: wrong }), hang]),
    /could not start the wasm backend/,
  );
  clearTimeout(timer);
  await useWasmBackend(await compileWasmModules()); // and a good module still starts afterwards
  assert.equal(tf.getBackend(), "wasm");
});

Deno.test("useWasmBackend() says why when our kernel module cannot be instantiated", async () => {
  await tf.setBackend("cpu");
  // imports env.nop as a function, where the kernel must import only env.memory
  const wrong = await WebAssembly.compile(
    Uint8Array.from(atob("AGFzbQEAAAABBAFgAAACCwEDZW52A25vcAAA"), (c) => c.charCodeAt(0)),
  );
  await assert.rejects(
    useWasmBackend({ ...(await compileWasmModules()), convPool: wrong }),
    /could not start the wasm backend: .*nop/,
  );
  await useWasmBackend(await compileWasmModules());
  assert.equal(tf.getBackend(), "wasm");
});

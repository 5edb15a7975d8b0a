/**
 * Adam with PyTorch's defaults and update rule (torch.optim.Adam: lr 1e-3, β 0.9/0.999, ε 1e-8 added
 * after the square root), so our curves compare with the seed's. tfjs's own Adam puts ε elsewhere and
 * keys its state by global variable names; owning the few lines keeps the state easy to checkpoint.
 * Each parameter's update is one pass of layers.c's `adam_step` (src/model/kernels/layers.ts).
 */
import * as tf from "@tensorflow/tfjs-core";
import type { HostParams, Params } from "../model/model.ts";
import { type AdamConstants, adamUpdate } from "../model/kernels/layers.ts";

export interface AdamConfig {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
}

export const ADAM_DEFAULTS: AdamConfig = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8 };

/** The optimiser's state: the step count and the first and second moments of every parameter. */
export interface AdamState {
  step: number;
  m: Params;
  v: Params;
}

/** Zero moments for `params`. */
export function createAdamState(params: Params): AdamState {
  const zeros = () =>
    Object.fromEntries(Object.entries(params).map(([k, p]) => [k, tf.zerosLike(p)]));
  return { step: 0, m: zeros(), v: zeros() };
}

/** Restores a state saved with `readAdamState`. */
export function adamStateFromHost(
  step: number,
  m: HostParams,
  v: HostParams,
  params: Params,
): AdamState {
  const upload = (host: HostParams) =>
    Object.fromEntries(Object.entries(params).map(([k, p]) => [k, tf.tensor(host[k]!, p.shape)]));
  return { step, m: upload(m), v: upload(v) };
}

/**
 * The constants of Adam's `step`-th update (from 1), as the kernel takes them: β1, 1 − β1, β2,
 * 1 − β2, the second moment's bias correction 1 − β2^t, ε and the step size lr / (1 − β1^t).
 */
export function adamConstants(config: AdamConfig, step: number): AdamConstants {
  const { lr, beta1, beta2, eps } = config;
  return [beta1, 1 - beta1, beta2, 1 - beta2, 1 - beta2 ** step, eps, lr / (1 - beta1 ** step)];
}

/**
 * One Adam step: returns the new parameters and disposes the old ones and the old moments.
 * `grads` are left to the caller.
 */
export function adamStep(
  params: Params,
  grads: Params,
  state: AdamState,
  config: AdamConfig,
): Params {
  state.step += 1;
  const constants = adamConstants(config, state.step);
  const next: Params = {};
  for (const [name, p] of Object.entries(params)) {
    const [m, v] = [state.m[name]!, state.v[name]!];
    const [p2, m2, v2] = adamUpdate(p, grads[name]!, m, v, constants);
    tf.dispose([m, v, p]);
    state.m[name] = m2;
    state.v[name] = v2;
    next[name] = p2;
  }
  return next;
}

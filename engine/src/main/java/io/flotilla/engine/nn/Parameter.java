package io.flotilla.engine.nn;

import io.flotilla.engine.tensor.Tensor;

/**
 * A named trainable tensor and its gradient accumulator. Names follow Hugging Face GPT-2 state dict
 * keys (e.g. {@code transformer.h.0.attn.c_attn.weight}).
 *
 * @param name state-dict key
 * @param value the weights
 * @param grad gradient accumulator of the same shape, summed over backward passes until zeroed
 * @param decay whether AdamW applies weight decay (matrices and embeddings; not biases or norms)
 */
public record Parameter(String name, Tensor value, Tensor grad, boolean decay) {

  /** A zero-initialised parameter; weight decay applies to tensors of rank 2 or more. */
  public static Parameter create(String name, int... shape) {
    return new Parameter(name, Tensor.zeros(shape), Tensor.zeros(shape), shape.length >= 2);
  }

  /** Number of elements. */
  public int size() {
    return value.size();
  }
}

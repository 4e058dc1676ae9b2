package io.flotilla.engine.nn;

import io.flotilla.engine.tensor.Tensor;
import java.util.List;

/**
 * A differentiable layer. {@link #forward} saves what {@link #backward} needs; the tensors both
 * return are buffers owned by the layer, valid until its next call, reused across steps.
 */
public interface Layer {

  /** Computes the output for input {@code x}. */
  Tensor forward(Tensor x, ForwardContext ctx);

  /**
   * Given the gradient of the loss with respect to the last forward's output, accumulates parameter
   * gradients and returns the gradient with respect to its input (null for layers whose input is
   * not differentiable, such as token ids).
   */
  Tensor backward(Tensor gradOutput);

  /** The trainable parameters, in a fixed order. */
  List<Parameter> parameters();
}

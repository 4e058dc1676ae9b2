package io.flotilla.engine.data;

import io.flotilla.engine.tensor.Tensor;

/**
 * Inputs and targets of a batch; reusable across steps. Sequence tasks: inputs {@code [b, t]} token
 * ids and targets {@code [b, t]} next-token ids (-1 = not scored). Classification: inputs {@code
 * [b, features]} and targets {@code [b]} class ids. Ids are stored as floats.
 */
public final class Batch {
  private Tensor inputs;
  private Tensor targets;

  /** Prepares the buffers for these shapes (reusing them when large enough). */
  public void reshape(int[] inputShape, int[] targetShape) {
    inputs = Tensor.ensure(inputs, inputShape);
    targets = Tensor.ensure(targets, targetShape);
  }

  /** Model inputs. */
  public Tensor inputs() {
    return inputs;
  }

  /** Targets for the loss. */
  public Tensor targets() {
    return targets;
  }
}

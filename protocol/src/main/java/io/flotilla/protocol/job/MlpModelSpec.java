package io.flotilla.protocol.job;

import java.util.List;
import java.util.Objects;

/**
 * A multi-layer perceptron classifier: linear layers with ReLU between them.
 *
 * @param inputSize features per example (784 for 28x28 images)
 * @param hiddenSizes width of each hidden layer, in order
 * @param numClasses output classes
 * @param dropout dropout probability in [0, 1) after each hidden layer
 * @param initFrom checkpoint to start from, empty for random initialisation
 */
public record MlpModelSpec(
    int inputSize, List<Integer> hiddenSizes, int numClasses, double dropout, String initFrom)
    implements ModelSpec {
  public MlpModelSpec {
    hiddenSizes = List.copyOf(hiddenSizes);
    initFrom = Objects.requireNonNullElse(initFrom, "");
  }

  @Override
  public String type() {
    return "mlp";
  }
}

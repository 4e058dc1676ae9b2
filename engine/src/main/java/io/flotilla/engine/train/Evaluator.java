package io.flotilla.engine.train;

import io.flotilla.engine.backend.ComputeBackend;
import io.flotilla.engine.data.Batch;
import io.flotilla.engine.data.Dataset;
import io.flotilla.engine.model.Model;
import io.flotilla.engine.nn.CrossEntropyLoss;
import io.flotilla.engine.nn.ForwardContext;
import io.flotilla.engine.tensor.Tensor;

/** Held-out evaluation: mean loss per scored target and exact-match accuracy per sample. */
public final class Evaluator {
  private Evaluator() {}

  /**
   * Result of an evaluation.
   *
   * @param loss mean cross-entropy per scored target
   * @param accuracy fraction of samples whose every scored target is the arg-max prediction, or NaN
   *     where the task has no accuracy
   * @param samples number of samples evaluated
   */
  public record Result(double loss, double accuracy, int samples) {}

  /** Evaluates on all held-out samples in batches of {@code batchSize}. */
  public static Result evaluate(ComputeBackend backend, Model model, Dataset data, int batchSize) {
    CrossEntropyLoss loss = new CrossEntropyLoss(backend);
    Batch batch = new Batch();
    double lossSum = 0;
    long count = 0;
    int correct = 0;
    int n = data.evalSize();
    for (int first = 0; first < n; first += batchSize) {
      int b = Math.min(batchSize, n - first);
      data.fillEval(first, b, batch);
      Tensor logits = model.forward(batch.inputs(), ForwardContext.EVAL);
      lossSum += loss.forwardBackward(logits, batch.targets(), 0f);
      count += loss.lastCount();
      correct += countExact(logits, batch.targets(), b);
    }
    return new Result(
        lossSum / Math.max(1, count), data.hasAccuracy() ? (double) correct / n : Double.NaN, n);
  }

  /** Samples (rows of targets) whose every non-negative target is the arg-max of its logits. */
  static int countExact(Tensor logits, Tensor targets, int samples) {
    int v = logits.dim(-1);
    int perSample = targets.size() / samples;
    float[] z = logits.data();
    float[] t = targets.data();
    int correct = 0;
    for (int s = 0; s < samples; s++) {
      boolean ok = true;
      for (int k = 0; k < perSample && ok; k++) {
        int row = s * perSample + k;
        int target = (int) t[row];
        if (target < 0) {
          continue;
        }
        int best = 0;
        for (int j = 1; j < v; j++) {
          if (z[row * v + j] > z[row * v + best]) {
            best = j;
          }
        }
        ok = best == target;
      }
      if (ok) {
        correct++;
      }
    }
    return correct;
  }
}

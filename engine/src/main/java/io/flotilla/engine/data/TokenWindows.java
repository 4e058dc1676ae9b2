package io.flotilla.engine.data;

/**
 * Next-token prediction over windows of a token stream: training windows start at hashed positions
 * of the training part, evaluation windows tile the held-out part without overlap.
 */
abstract class TokenWindows implements Dataset {
  private final int context;
  private final int maxEval;

  TokenWindows(int context, int maxEval) {
    if (context < 1) {
      throw new IllegalArgumentException("context must be >= 1, got " + context);
    }
    this.context = context;
    this.maxEval = maxEval;
  }

  /** Token at {@code i} of the training stream. */
  abstract int trainToken(long i);

  abstract long trainLength();

  abstract int evalToken(long i);

  abstract long evalLength();

  void checkLengths(String what) {
    if (trainLength() < context + 2 || evalLength() < context + 1) {
      throw new IllegalArgumentException(
          what
              + " is too short for context "
              + context
              + ": need more than "
              + (context + 1)
              + " tokens in both the training ("
              + trainLength()
              + ") and held-out ("
              + evalLength()
              + ") parts");
    }
  }

  @Override
  public int inputLength() {
    return context;
  }

  @Override
  public boolean isSequence() {
    return true;
  }

  @Override
  public boolean hasAccuracy() {
    return false;
  }

  @Override
  public void fillTrain(long seed, long step, int firstSample, int count, Batch batch) {
    batch.reshape(new int[] {count, context}, new int[] {count, context});
    long starts = trainLength() - context;
    for (int i = 0; i < count; i++) {
      long start = Math.floorMod(Dataset.sampleHash(seed, step, firstSample + i), starts);
      for (int k = 0; k < context; k++) {
        batch.inputs().data()[i * context + k] = trainToken(start + k);
        batch.targets().data()[i * context + k] = trainToken(start + k + 1);
      }
    }
  }

  @Override
  public int evalSize() {
    return (int) Math.min(maxEval, (evalLength() - 1) / context);
  }

  @Override
  public void fillEval(int first, int count, Batch batch) {
    batch.reshape(new int[] {count, context}, new int[] {count, context});
    for (int i = 0; i < count; i++) {
      long start = (long) (first + i) * context;
      for (int k = 0; k < context; k++) {
        batch.inputs().data()[i * context + k] = evalToken(start + k);
        batch.targets().data()[i * context + k] = evalToken(start + k + 1);
      }
    }
  }

  /** Checks a held-out share of a stream. */
  static void checkFraction(double evalFraction) {
    if (!(evalFraction >= 0 && evalFraction <= 0.5)) {
      throw new IllegalArgumentException(
          "dataset.options.eval_fraction must be in 0..0.5, got " + evalFraction);
    }
  }
}

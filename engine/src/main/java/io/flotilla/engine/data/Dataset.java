package io.flotilla.engine.data;

/**
 * A training task's data. Training batches are a pure function of {@code (seed, step, sample
 * index)}: sample {@code j} of the global batch at step {@code s} is the same whichever worker
 * computes it, so a replica computes exactly its shard with {@link #fillTrain} and {@link
 * #shardOffset}.
 */
public interface Dataset {

  /** Vocabulary size (sequence tasks) or number of classes (classification). */
  int vocabSize();

  /** Sequence length fed to the model (sequence tasks) or number of input features. */
  int inputLength();

  /** Whether samples are token sequences (GPT) rather than feature vectors (MLP). */
  boolean isSequence();

  /**
   * Fills {@code batch} with samples {@code [firstSample, firstSample + count)} of the global
   * training batch at {@code step}.
   */
  void fillTrain(long seed, long step, int firstSample, int count, Batch batch);

  /** Number of held-out evaluation samples. */
  int evalSize();

  /** Fills {@code batch} with held-out samples {@code [first, first + count)}. */
  void fillEval(int first, int count, Batch batch);

  /**
   * Whether exact-match accuracy is meaningful: a sample counts as correct when every scored target
   * is the model's arg-max (for addition this equals greedy decoding of the whole answer).
   */
  default boolean hasAccuracy() {
    return true;
  }

  /** A one-line description for logs. */
  String describe();

  /**
   * Index of the first sample of a shard in the global batch: replicas take consecutive blocks of
   * {@code microBatches * microBatchSize} samples, micro-batches consecutive blocks inside them.
   */
  static int shardOffset(int replica, int microBatch, int microBatches, int microBatchSize) {
    return (replica * microBatches + microBatch) * microBatchSize;
  }

  /** A well-mixed 64-bit hash of (seed, step, sample) used to draw training samples. */
  static long sampleHash(long seed, long step, long sample) {
    long z = seed * 0x9E3779B97F4A7C15L + step * 0xC2B2AE3D27D4EB4FL + sample + 0x165667B19E3779F9L;
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }
}

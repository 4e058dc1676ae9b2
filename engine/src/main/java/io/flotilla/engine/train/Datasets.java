package io.flotilla.engine.train;

import io.flotilla.engine.data.AdditionDataset;
import io.flotilla.engine.data.Dataset;
import io.flotilla.engine.data.IdxDataset;
import io.flotilla.engine.data.TextDataset;
import io.flotilla.engine.data.TokenFileDataset;
import java.nio.file.Path;

/** Opens the dataset a {@link DatasetConfig} names. */
public final class Datasets {
  /** Held-out windows (text, tokens) or images (idx) evaluated unless told otherwise. */
  public static final int DEFAULT_MAX_EVAL = 1000;

  private Datasets() {}

  /**
   * Opens the dataset; {@code context} is the model's sequence length (sequence tasks other than
   * addition) and {@code vocab} the model's vocabulary (tokens; 0 = from the file). Addition
   * evaluates {@code eval_examples} held-out sums; the other types at most {@code maxEval} held-out
   * windows or images.
   */
  public static Dataset open(DatasetConfig c, int context, int vocab, int maxEval) {
    return switch (c.type()) {
      case "addition" ->
          new AdditionDataset(
              (int) c.longOption("digits", 3),
              c.longOption("train_examples", 100_000),
              (int) c.longOption("eval_examples", 1000));
      case "text" ->
          new TextDataset(requireSource(c), context, c.doubleOption("eval_fraction", 0.1), maxEval);
      case "tokens" -> {
        String evalSource = c.stringOption("eval_source", "");
        yield new TokenFileDataset(
            requireSource(c),
            evalSource.isBlank() ? null : Path.of(evalSource),
            c.doubleOption("eval_fraction", 0.1),
            context,
            vocab,
            maxEval);
      }
      case "idx" ->
          new IdxDataset(
              requireSource(c),
              c.stringOption("train_prefix", "train"),
              c.stringOption("eval_prefix", "t10k"),
              maxEval);
      default ->
          throw new IllegalArgumentException(
              "dataset.type must be addition, text, tokens or idx, got " + c.type());
    };
  }

  private static Path requireSource(DatasetConfig c) {
    if (c.source() == null || c.source().isBlank()) {
      throw new IllegalArgumentException("dataset.source is required for type " + c.type());
    }
    return Path.of(c.source());
  }
}

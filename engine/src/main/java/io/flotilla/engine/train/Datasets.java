package io.flotilla.engine.train;

import io.flotilla.engine.data.AdditionDataset;
import io.flotilla.engine.data.Dataset;
import io.flotilla.engine.data.IdxDataset;
import io.flotilla.engine.data.TextDataset;
import io.flotilla.engine.data.TokenFileDataset;
import java.nio.file.Path;

/** Opens the dataset a {@link DatasetConfig} names. */
public final class Datasets {
  private Datasets() {}

  /**
   * Opens the dataset; {@code context} is the model's sequence length (sequence tasks other than
   * addition) and {@code vocab} the model's vocabulary (tokens; 0 = from the file).
   */
  public static Dataset open(DatasetConfig c, int context, int vocab) {
    int evalSamples = c.intOption("eval_samples", 1000);
    return switch (c.type()) {
      case "addition" -> new AdditionDataset(c.intOption("digits", 3), evalSamples);
      case "text" -> new TextDataset(requireSource(c), context, evalSamples);
      case "tokens" -> new TokenFileDataset(requireSource(c), context, vocab, evalSamples);
      case "idx" -> new IdxDataset(requireSource(c), evalSamples);
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

package io.flotilla.engine.data;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * nanoGPT token files: flat little-endian uint16 token ids. The source is either a directory
 * holding {@code train.bin} and {@code val.bin}, or one file evaluated on a separate file or on its
 * last {@code evalFraction} (10% by default).
 */
public final class TokenFileDataset extends TokenWindows {
  private final char[] train;
  private final char[] eval;
  private final int vocab;
  private final Path source;

  /**
   * Loads the tokens; {@code vocab} 0 means the largest id + 1. Bad files get an {@link
   * IllegalArgumentException}.
   */
  public TokenFileDataset(Path source, int context, int vocab, int maxEval) {
    this(source, null, 0.1, context, vocab, maxEval);
  }

  /**
   * Loads the tokens of {@code source}, evaluating on {@code evalSource} when not null, else on the
   * last {@code evalFraction} (0..0.5) of {@code source}; {@code vocab} 0 means the largest id + 1.
   */
  public TokenFileDataset(
      Path source, Path evalSource, double evalFraction, int context, int vocab, int maxEval) {
    super(context, maxEval);
    this.source = source;
    TokenWindows.checkFraction(evalFraction);
    if (Files.isDirectory(source)) {
      train = read(source.resolve("train.bin"));
      eval = read(evalSource != null ? evalSource : source.resolve("val.bin"));
    } else if (evalSource != null) {
      train = read(source);
      eval = read(evalSource);
    } else {
      char[] all = read(source);
      int split = (int) (all.length * (1 - evalFraction));
      train = java.util.Arrays.copyOfRange(all, 0, split);
      eval = java.util.Arrays.copyOfRange(all, split, all.length);
    }
    int max = 0;
    for (char c : train) {
      max = Math.max(max, c);
    }
    for (char c : eval) {
      max = Math.max(max, c);
    }
    if (vocab != 0 && vocab <= max) {
      throw new IllegalArgumentException(
          "token file " + source + " contains id " + max + " but the vocabulary is " + vocab);
    }
    this.vocab = vocab == 0 ? max + 1 : vocab;
    checkLengths("token file " + source);
  }

  private static char[] read(Path file) {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read token file " + file + ": " + e, e);
    }
    if (bytes.length % 2 != 0) {
      throw new IllegalArgumentException(
          "token file "
              + file
              + " has an odd length ("
              + bytes.length
              + " bytes); expected flat little-endian uint16 ids");
    }
    char[] out = new char[bytes.length / 2];
    ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asCharBuffer().get(out);
    return out;
  }

  @Override
  int trainToken(long i) {
    return train[(int) i];
  }

  @Override
  long trainLength() {
    return train.length;
  }

  @Override
  int evalToken(long i) {
    return eval[(int) i];
  }

  @Override
  long evalLength() {
    return eval.length;
  }

  @Override
  public int vocabSize() {
    return vocab;
  }

  @Override
  public String describe() {
    return "uint16 tokens from " + source + " (" + train.length + " train, vocab " + vocab + ")";
  }
}

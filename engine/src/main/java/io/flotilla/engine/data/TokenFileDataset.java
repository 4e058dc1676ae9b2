package io.flotilla.engine.data;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * nanoGPT token files: flat little-endian uint16 token ids. The source is either a directory
 * holding {@code train.bin} and {@code val.bin}, or one file whose last 10% is held out.
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
    super(context, maxEval);
    this.source = source;
    if (Files.isDirectory(source)) {
      train = read(source.resolve("train.bin"));
      eval = read(source.resolve("val.bin"));
    } else {
      char[] all = read(source);
      int split = (int) (all.length * 0.9);
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

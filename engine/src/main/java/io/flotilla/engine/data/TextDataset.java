package io.flotilla.engine.data;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.TreeSet;

/**
 * Character-level language modelling on a UTF-8 text file. The vocabulary is the sorted set of
 * distinct code points in the file; the last {@code evalFraction} of the characters (10% by
 * default) is held out, the rest trains.
 */
public final class TextDataset extends TokenWindows {
  private final int[] tokens;
  private final int[] vocabulary;
  private final int split;
  private final Path source;

  /** Loads {@code file} holding out its last 10%. */
  public TextDataset(Path file, int context, int maxEval) {
    this(file, context, 0.1, maxEval);
  }

  /**
   * Loads {@code file} holding out its last {@code evalFraction} (0..0.5); throws {@link
   * IllegalArgumentException} for unreadable or bad files.
   */
  public TextDataset(Path file, int context, double evalFraction, int maxEval) {
    super(context, maxEval);
    TokenWindows.checkFraction(evalFraction);
    this.source = file;
    String text;
    try {
      byte[] bytes = Files.readAllBytes(file);
      text =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(ByteBuffer.wrap(bytes))
              .toString();
    } catch (CharacterCodingException e) {
      throw new IllegalArgumentException("text dataset " + file + " is not valid UTF-8", e);
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read text dataset " + file + ": " + e, e);
    }
    int[] cps = text.codePoints().toArray();
    TreeSet<Integer> distinct = new TreeSet<>();
    for (int cp : cps) {
      distinct.add(cp);
    }
    vocabulary = distinct.stream().mapToInt(Integer::intValue).toArray();
    tokens = new int[cps.length];
    for (int i = 0; i < cps.length; i++) {
      tokens[i] = Arrays.binarySearch(vocabulary, cps[i]);
    }
    split = (int) (tokens.length * (1 - evalFraction));
    checkLengths("text dataset " + file + " (" + tokens.length + " characters)");
  }

  /** The code point of each token id. */
  public int[] vocabulary() {
    return vocabulary.clone();
  }

  @Override
  int trainToken(long i) {
    return tokens[(int) i];
  }

  @Override
  long trainLength() {
    return split;
  }

  @Override
  int evalToken(long i) {
    return tokens[(int) (split + i)];
  }

  @Override
  long evalLength() {
    return tokens.length - split;
  }

  @Override
  public int vocabSize() {
    return vocabulary.length;
  }

  @Override
  public String describe() {
    return "characters of "
        + source
        + " ("
        + tokens.length
        + " chars, vocab "
        + vocabulary.length
        + ")";
  }
}

package io.flotilla.engine.data;

/**
 * Synthetic n-digit addition, no download needed.
 *
 * <p>Format: both operands zero-padded to n digits, the sum written with n+1 digits in reverse
 * order (least significant first, so each answer digit depends only on digits already seen), e.g.
 * for n=3 {@code 123+456=} then {@code 9750} (579 reversed, padded). Vocabulary: digits 0-9 are
 * tokens 0-9, {@code +} is 10, {@code =} is 11. The model sees the first 3n+2 characters and is
 * scored only on predicting the n+1 answer digits.
 *
 * <p>Pairs whose hash falls in a fixed 2% slice are held out: never drawn for training, used for
 * evaluation. Training draws from a pool of {@code trainExamples} sums generated from the seed (a
 * few may repeat); when the pool is at least the number of possible pairs, every pair outside the
 * held-out slice is drawn directly.
 */
public final class AdditionDataset implements Dataset {
  /** Token of '+'. */
  public static final int PLUS = 10;

  /** Token of '='. */
  public static final int EQUALS = 11;

  private final int digits;
  private final long modulus;
  private final long trainExamples;
  private final int[] evalA;
  private final int[] evalB;

  /**
   * Addition of numbers with {@code digits} digits (1..9), training on every pair outside the
   * held-out slice, {@code evalSamples} held-out sums.
   */
  public AdditionDataset(int digits, int evalSamples) {
    this(digits, Long.MAX_VALUE, evalSamples);
  }

  /**
   * Addition of numbers with {@code digits} digits (1..9), training on a pool of {@code
   * trainExamples} sums (>= 1), {@code evalSamples} held-out sums.
   */
  public AdditionDataset(int digits, long trainExamples, int evalSamples) {
    if (digits < 1 || digits > 9) {
      throw new IllegalArgumentException("addition digits must be in 1..9, got " + digits);
    }
    if (trainExamples < 1 || evalSamples < 1) {
      throw new IllegalArgumentException(
          "addition train_examples and eval_examples must be >= 1, got "
              + trainExamples
              + " and "
              + evalSamples);
    }
    this.digits = digits;
    this.modulus = pow10(digits);
    this.trainExamples = trainExamples;
    int want = (int) Math.min(evalSamples, Math.max(1, modulus * modulus / 50));
    evalA = new int[want];
    evalB = new int[want];
    int found = 0;
    for (long k = 0; found < want; k++) {
      long h = Dataset.sampleHash(-1, -1, k);
      long a = Math.floorMod(h, modulus);
      long b = Math.floorMod(h >>> 32, modulus);
      if (isHeldOut(a, b) && !contains(found, a, b)) {
        evalA[found] = (int) a;
        evalB[found] = (int) b;
        found++;
      }
      if (k > 1_000_000L * want) {
        throw new IllegalStateException("could not find enough held-out sums");
      }
    }
  }

  private boolean contains(int found, long a, long b) {
    if (modulus > 100) {
      return false; // collisions are negligible; exhaustive check only matters for tiny tasks
    }
    for (int i = 0; i < found; i++) {
      if (evalA[i] == a && evalB[i] == b) {
        return true;
      }
    }
    return false;
  }

  private static long pow10(int n) {
    long p = 1;
    for (int i = 0; i < n; i++) {
      p *= 10;
    }
    return p;
  }

  private boolean isHeldOut(long a, long b) {
    if (modulus * modulus < 200) {
      return (a + b) % 10 == 0; // tiny tasks: a fixed slice
    }
    return Math.floorMod(Dataset.sampleHash(7, 7, a * modulus + b), 50) == 0;
  }

  /** Number of digits per operand. */
  public int digits() {
    return digits;
  }

  @Override
  public int vocabSize() {
    return 12;
  }

  @Override
  public int inputLength() {
    return 3 * digits + 2;
  }

  @Override
  public boolean isSequence() {
    return true;
  }

  @Override
  public void fillTrain(long seed, long step, int firstSample, int count, Batch batch) {
    batch.reshape(new int[] {count, inputLength()}, new int[] {count, inputLength()});
    boolean pooled = trainExamples < modulus * modulus;
    for (int i = 0; i < count; i++) {
      long j = firstSample + i;
      long a;
      long b;
      int attempt = 0;
      // With a pool, sample j picks pool entry k, whose pair is generated from (seed, k) alone.
      long poolEntry =
          pooled ? Math.floorMod(Dataset.sampleHash(seed, step, j), trainExamples) : -1;
      do {
        long h =
            pooled
                ? Dataset.sampleHash(seed, -2, poolEntry * 64 + attempt++)
                : Dataset.sampleHash(seed, step, j * 64 + attempt++);
        a = Math.floorMod(h, modulus);
        b = Math.floorMod(h >>> 32, modulus);
      } while (isHeldOut(a, b));
      write(batch, i, a, b);
    }
  }

  @Override
  public int evalSize() {
    return evalA.length;
  }

  @Override
  public void fillEval(int first, int count, Batch batch) {
    batch.reshape(new int[] {count, inputLength()}, new int[] {count, inputLength()});
    for (int i = 0; i < count; i++) {
      write(batch, i, evalA[first + i], evalB[first + i]);
    }
  }

  /** The full character sequence for a + b, as tokens. */
  public int[] encode(long a, long b) {
    int len = 3 * digits + 3;
    int[] s = new int[len];
    int p = 0;
    p = writeDigits(s, p, a, digits, false);
    s[p++] = PLUS;
    p = writeDigits(s, p, b, digits, false);
    s[p++] = EQUALS;
    writeDigits(s, p, a + b, digits + 1, true);
    return s;
  }

  private static int writeDigits(int[] s, int p, long v, int width, boolean reversed) {
    for (int k = 0; k < width; k++) {
      int digit = (int) (v % 10);
      v /= 10;
      s[reversed ? p + k : p + width - 1 - k] = digit;
    }
    return p + width;
  }

  /** Renders tokens as text ("123+456=9750"). */
  public static String decode(int[] tokens) {
    StringBuilder sb = new StringBuilder();
    for (int t : tokens) {
      sb.append(t == PLUS ? '+' : t == EQUALS ? '=' : (char) ('0' + t));
    }
    return sb.toString();
  }

  private void write(Batch batch, int row, long a, long b) {
    int[] s = encode(a, b);
    int t = inputLength();
    float[] in = batch.inputs().data();
    float[] tg = batch.targets().data();
    int answerStart = 2 * digits + 1; // input position whose next token is the first answer digit
    for (int k = 0; k < t; k++) {
      in[row * t + k] = s[k];
      tg[row * t + k] = k >= answerStart ? s[k + 1] : -1;
    }
  }

  @Override
  public String describe() {
    return digits
        + "-digit addition ("
        + (trainExamples < modulus * modulus ? trainExamples + " training sums, " : "")
        + evalA.length
        + " held-out sums)";
  }
}

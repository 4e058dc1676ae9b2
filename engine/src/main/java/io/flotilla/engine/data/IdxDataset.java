package io.flotilla.engine.data;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/**
 * Image classification from IDX files (MNIST, Fashion-MNIST), plain or gzipped. The source
 * directory holds {@code train-images-idx3-ubyte}, {@code train-labels-idx1-ubyte}, {@code
 * t10k-images-idx3-ubyte} and {@code t10k-labels-idx1-ubyte}, each optionally with {@code .gz}.
 * Pixels are scaled to [0, 1].
 */
public final class IdxDataset implements Dataset {
  private final byte[] trainImages;
  private final byte[] trainLabels;
  private final byte[] testImages;
  private final byte[] testLabels;
  private final int features;
  private final int classes;
  private final int maxEval;
  private final Path source;

  /** Loads the four files {@code train-*} and {@code t10k-*} from {@code dir}. */
  public IdxDataset(Path dir, int maxEval) {
    this(dir, "train", "t10k", maxEval);
  }

  /**
   * Loads {@code <trainPrefix>-images-idx3-ubyte}, {@code <trainPrefix>-labels-idx1-ubyte} and the
   * same for {@code evalPrefix} from {@code dir}, each optionally gzipped.
   */
  public IdxDataset(Path dir, String trainPrefix, String evalPrefix, int maxEval) {
    this.source = dir;
    this.maxEval = maxEval;
    Idx ti = readIdx(find(dir, trainPrefix + "-images-idx3-ubyte"), 3);
    Idx tl = readIdx(find(dir, trainPrefix + "-labels-idx1-ubyte"), 1);
    Idx vi = readIdx(find(dir, evalPrefix + "-images-idx3-ubyte"), 3);
    Idx vl = readIdx(find(dir, evalPrefix + "-labels-idx1-ubyte"), 1);
    if (ti.count != tl.count || vi.count != vl.count) {
      throw new IllegalArgumentException(
          "IDX files in " + dir + " disagree: image and label counts differ");
    }
    if (ti.itemSize != vi.itemSize) {
      throw new IllegalArgumentException("IDX train and test images in " + dir + " differ in size");
    }
    if (ti.count == 0 || vi.count == 0) {
      throw new IllegalArgumentException("IDX files in " + dir + " contain no images");
    }
    trainImages = ti.data;
    trainLabels = tl.data;
    testImages = vi.data;
    testLabels = vl.data;
    features = ti.itemSize;
    int max = 0;
    for (byte b : trainLabels) {
      max = Math.max(max, b & 0xff);
    }
    classes = max + 1;
    for (byte b : testLabels) {
      if ((b & 0xff) >= classes) {
        throw new IllegalArgumentException(
            "IDX test label " + (b & 0xff) + " in " + dir + " never occurs in training labels");
      }
    }
  }

  private static Path find(Path dir, String name) {
    Path plain = dir.resolve(name);
    if (Files.isRegularFile(plain)) {
      return plain;
    }
    Path gz = dir.resolve(name + ".gz");
    if (Files.isRegularFile(gz)) {
      return gz;
    }
    throw new IllegalArgumentException(
        "IDX dataset directory " + dir + " lacks " + name + " (or " + name + ".gz)");
  }

  private record Idx(int count, int itemSize, byte[] data) {}

  private static Idx readIdx(Path file, int expectedDims) {
    byte[] bytes;
    try (InputStream raw = Files.newInputStream(file);
        InputStream in = file.toString().endsWith(".gz") ? new GZIPInputStream(raw) : raw) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      in.transferTo(out);
      bytes = out.toByteArray();
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read IDX file " + file + ": " + e.getMessage(), e);
    }
    ByteBuffer buf = ByteBuffer.wrap(bytes);
    if (bytes.length < 4 || bytes[0] != 0 || bytes[1] != 0 || bytes[2] != 0x08) {
      throw new IllegalArgumentException(
          "IDX file " + file + " has a bad magic number (expected 0x0000 08 dims, unsigned bytes)");
    }
    int dims = bytes[3];
    if (dims != expectedDims) {
      throw new IllegalArgumentException(
          "IDX file " + file + " has " + dims + " dimensions, expected " + expectedDims);
    }
    buf.position(4);
    if (bytes.length < 4 + 4 * dims) {
      throw new IllegalArgumentException("IDX file " + file + " is truncated in its header");
    }
    int count = buf.getInt();
    long item = 1;
    for (int d = 1; d < dims; d++) {
      item *= buf.getInt();
    }
    long expected = 4L + 4L * dims + count * item;
    if (count < 0 || item <= 0 || bytes.length != expected) {
      throw new IllegalArgumentException(
          "IDX file "
              + file
              + " has "
              + bytes.length
              + " bytes but its header announces "
              + expected);
    }
    byte[] data = new byte[(int) (count * item)];
    buf.get(data);
    return new Idx(count, (int) item, data);
  }

  @Override
  public int vocabSize() {
    return classes;
  }

  @Override
  public int inputLength() {
    return features;
  }

  @Override
  public boolean isSequence() {
    return false;
  }

  private void write(Batch batch, int row, byte[] images, byte[] labels, int index) {
    float[] in = batch.inputs().data();
    for (int k = 0; k < features; k++) {
      in[row * features + k] = (images[index * features + k] & 0xff) / 255f;
    }
    batch.targets().data()[row] = labels[index] & 0xff;
  }

  @Override
  public void fillTrain(long seed, long step, int firstSample, int count, Batch batch) {
    batch.reshape(new int[] {count, features}, new int[] {count});
    for (int i = 0; i < count; i++) {
      int index =
          Math.floorMod(Dataset.sampleHash(seed, step, firstSample + i), trainLabels.length);
      write(batch, i, trainImages, trainLabels, index);
    }
  }

  @Override
  public int evalSize() {
    return Math.min(maxEval, testLabels.length);
  }

  @Override
  public void fillEval(int first, int count, Batch batch) {
    batch.reshape(new int[] {count, features}, new int[] {count});
    for (int i = 0; i < count; i++) {
      write(batch, i, testImages, testLabels, first + i);
    }
  }

  @Override
  public String describe() {
    return "IDX images from "
        + source
        + " ("
        + trainLabels.length
        + " train, "
        + classes
        + " classes)";
  }
}

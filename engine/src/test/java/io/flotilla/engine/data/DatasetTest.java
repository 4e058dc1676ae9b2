package io.flotilla.engine.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetTest {
  @TempDir Path dir;

  @Test
  void additionFormatReversesTheSumAndScoresOnlyTheAnswer() {
    AdditionDataset d = new AdditionDataset(3, 100);
    assertThat(AdditionDataset.decode(d.encode(123, 456))).isEqualTo("123+456=9750");
    assertThat(AdditionDataset.decode(d.encode(7, 995))).isEqualTo("007+995=2001");
    Batch b = new Batch();
    d.fillEval(0, 2, b);
    assertThat(b.inputs().shape()).containsExactly(2, 11);
    float[] tg = b.targets().data();
    for (int k = 0; k < 11; k++) {
      assertThat(tg[k] >= 0).isEqualTo(k >= 7);
    }
    // input at position k predicts character k + 1
    assertThat(tg[7]).isEqualTo(b.inputs().data()[8]);
    assertThat(d.vocabSize()).isEqualTo(12);
  }

  @Test
  void trainingNeverDrawsHeldOutSumsAndShardsAreConsistent() {
    AdditionDataset d = new AdditionDataset(2, 50);
    java.util.Set<String> held = new java.util.HashSet<>();
    Batch b = new Batch();
    d.fillEval(0, d.evalSize(), b);
    for (int i = 0; i < d.evalSize(); i++) {
      held.add(row(b, i, 8));
    }
    Batch whole = new Batch();
    d.fillTrain(5, 3, 0, 16, whole);
    for (int i = 0; i < 16; i++) {
      assertThat(held).doesNotContain(row(whole, i, 8));
    }
    // replica 1, micro-batch 1 of 2 micro-batches of 4 = samples 12..15 of the global batch
    Batch shard = new Batch();
    d.fillTrain(5, 3, Dataset.shardOffset(1, 1, 2, 4), 4, shard);
    for (int i = 0; i < 4; i++) {
      assertThat(row(shard, i, 8)).isEqualTo(row(whole, 12 + i, 8));
    }
    Batch otherStep = new Batch();
    d.fillTrain(5, 4, 0, 16, otherStep);
    assertThat(otherStep.inputs().toArray()).isNotEqualTo(whole.inputs().toArray());
  }

  private static String row(Batch b, int i, int t) {
    StringBuilder sb = new StringBuilder();
    for (int k = 0; k < t; k++) {
      sb.append((int) b.inputs().data()[i * t + k]).append(',');
    }
    return sb.toString();
  }

  @Test
  void textIsCharacterLevelWithHeldOutTail() throws IOException {
    Path f = dir.resolve("t.txt");
    Files.writeString(f, "héllo wörld, ".repeat(40), StandardCharsets.UTF_8);
    TextDataset d = new TextDataset(f, 8, 10);
    assertThat(d.vocabSize()).isEqualTo(10);
    Batch b = new Batch();
    d.fillTrain(1, 0, 0, 3, b);
    for (int k = 0; k < 7; k++) {
      assertThat(b.targets().data()[k]).isEqualTo(b.inputs().data()[k + 1]);
    }
    assertThat(d.evalSize()).isPositive();
    Path bad = dir.resolve("bad.txt");
    Files.write(bad, new byte[] {(byte) 0xff, (byte) 0xfe, 0x41});
    assertThatThrownBy(() -> new TextDataset(bad, 8, 10)).hasMessageContaining("not valid UTF-8");
    Path shortFile = dir.resolve("short.txt");
    Files.writeString(shortFile, "abc");
    assertThatThrownBy(() -> new TextDataset(shortFile, 8, 10)).hasMessageContaining("too short");
  }

  @Test
  void tokenFilesAreLittleEndianUint16() throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(2 * 200).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < 200; i++) {
      buf.putChar((char) (i % 7 == 0 ? 60000 : i % 50));
    }
    Path f = dir.resolve("train.bin");
    Files.write(f, buf.array());
    TokenFileDataset d = new TokenFileDataset(f, 16, 0, 5);
    assertThat(d.vocabSize()).isEqualTo(60001);
    Batch b = new Batch();
    d.fillEval(0, 1, b);
    assertThat(b.inputs().data()[0]).isEqualTo(30f); // token 180 of the stream, 180 % 50
    assertThatThrownBy(() -> new TokenFileDataset(f, 16, 100, 5))
        .hasMessageContaining("vocabulary");
    Path odd = dir.resolve("odd.bin");
    Files.write(odd, new byte[] {1, 2, 3});
    assertThatThrownBy(() -> new TokenFileDataset(odd, 16, 0, 5))
        .hasMessageContaining("odd length");
  }

  private static byte[] idx(int magicDims, int[] dims, byte[] data) {
    ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length + data.length);
    b.put((byte) 0).put((byte) 0).put((byte) 8).put((byte) magicDims);
    for (int d : dims) {
      b.putInt(d);
    }
    b.put(data);
    return b.array();
  }

  private static void write(Path p, byte[] bytes, boolean gz) throws IOException {
    if (!gz) {
      Files.write(p, bytes);
      return;
    }
    ByteArrayOutputStream bo = new ByteArrayOutputStream();
    try (OutputStream o = new GZIPOutputStream(bo)) {
      o.write(bytes);
    }
    Files.write(Path.of(p + ".gz"), bo.toByteArray());
  }

  @Test
  void idxImagesPlainAndGzipped() throws IOException {
    byte[] images = new byte[5 * 2 * 3];
    for (int i = 0; i < images.length; i++) {
      images[i] = (byte) (i * 8);
    }
    byte[] labels = {0, 1, 2, 1, 0};
    write(dir.resolve("train-images-idx3-ubyte"), idx(3, new int[] {5, 2, 3}, images), true);
    write(dir.resolve("train-labels-idx1-ubyte"), idx(1, new int[] {5}, labels), false);
    write(dir.resolve("t10k-images-idx3-ubyte"), idx(3, new int[] {5, 2, 3}, images), false);
    write(dir.resolve("t10k-labels-idx1-ubyte"), idx(1, new int[] {5}, labels), true);
    IdxDataset d = new IdxDataset(dir, 100);
    assertThat(d.vocabSize()).isEqualTo(3);
    assertThat(d.inputLength()).isEqualTo(6);
    assertThat(d.evalSize()).isEqualTo(5);
    Batch b = new Batch();
    d.fillEval(1, 2, b);
    assertThat(b.inputs().data()[0]).isEqualTo((6 * 8) / 255f);
    assertThat(b.targets().toArray()).containsExactly(1f, 2f);
    Files.write(dir.resolve("t10k-labels-idx1-ubyte.gz"), new byte[] {1, 2, 3});
    assertThatThrownBy(() -> new IdxDataset(dir, 100))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("t10k-labels");
    Path empty = dir.resolve("empty");
    Files.createDirectories(empty);
    assertThatThrownBy(() -> new IdxDataset(empty, 100)).hasMessageContaining("lacks");
  }
}

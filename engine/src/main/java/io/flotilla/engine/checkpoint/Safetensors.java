package io.flotilla.engine.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.flotilla.engine.tensor.Tensor;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads and writes the safetensors format (as used by Hugging Face): an 8-byte little-endian header
 * length, a JSON header mapping names to {@code dtype}, {@code shape} and {@code data_offsets},
 * optional {@code __metadata__} of strings, then the raw little-endian data. This engine writes F32
 * only and reads F32 (F16/BF16 tensors are widened on read).
 */
public final class Safetensors {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final long MAX_HEADER = 100L * 1024 * 1024;

  private Safetensors() {}

  /** Writes tensors (in map order) and string metadata to {@code file}, atomically. */
  public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata)
      throws IOException {
    ObjectNode header = JSON.createObjectNode();
    if (metadata != null && !metadata.isEmpty()) {
      ObjectNode meta = header.putObject("__metadata__");
      metadata.forEach(meta::put);
    }
    long offset = 0;
    for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
      ObjectNode t = header.putObject(e.getKey());
      t.put("dtype", "F32");
      var shape = t.putArray("shape");
      for (int d : e.getValue().shape()) {
        shape.add(d);
      }
      long bytes = 4L * e.getValue().size();
      t.putArray("data_offsets").add(offset).add(offset + bytes);
      offset += bytes;
    }
    byte[] headerBytes = JSON.writeValueAsBytes(header);
    int padded = (headerBytes.length + 7) / 8 * 8;
    byte[] headerPadded = new byte[padded];
    java.util.Arrays.fill(headerPadded, (byte) ' ');
    System.arraycopy(headerBytes, 0, headerPadded, 0, headerBytes.length);
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    try (OutputStream out = new java.io.BufferedOutputStream(Files.newOutputStream(tmp), 1 << 20)) {
      ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded);
      out.write(len.array());
      out.write(headerPadded);
      ByteBuffer chunk = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
      for (Tensor t : tensors.values()) {
        float[] d = t.data();
        for (int i = 0; i < t.size(); i++) {
          if (chunk.remaining() < 4) {
            out.write(chunk.array(), 0, chunk.position());
            chunk.clear();
          }
          chunk.putFloat(d[i]);
        }
      }
      out.write(chunk.array(), 0, chunk.position());
    }
    Files.move(
        tmp,
        file,
        java.nio.file.StandardCopyOption.REPLACE_EXISTING,
        java.nio.file.StandardCopyOption.ATOMIC_MOVE);
  }

  /** The contents of a safetensors file. */
  public record Contents(Map<String, Tensor> tensors, Map<String, String> metadata) {}

  /**
   * Reads every tensor of {@code file}; malformed files get an {@link IllegalArgumentException}.
   */
  public static Contents read(Path file) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = ch.size();
      if (size < 8) {
        throw bad(file, "shorter than the 8-byte header length");
      }
      ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
      readFully(ch, lenBuf, 0);
      long headerLen = lenBuf.flip().getLong();
      if (headerLen <= 0 || headerLen > MAX_HEADER || 8 + headerLen > size) {
        throw bad(
            file, "header length " + headerLen + " is invalid for a file of " + size + " bytes");
      }
      ByteBuffer hb = ByteBuffer.allocate((int) headerLen);
      readFully(ch, hb, 8);
      JsonNode header;
      try {
        header = JSON.readTree(new String(hb.array(), StandardCharsets.UTF_8));
      } catch (IOException e) {
        throw bad(file, "header is not valid JSON: " + e.getMessage());
      }
      if (header == null || !header.isObject()) {
        throw bad(file, "header is not a JSON object");
      }
      long dataStart = 8 + headerLen;
      long dataSize = size - dataStart;
      Map<String, Tensor> tensors = new LinkedHashMap<>();
      Map<String, String> metadata = new LinkedHashMap<>();
      for (Map.Entry<String, JsonNode> e : header.properties()) {
        if (e.getKey().equals("__metadata__")) {
          e.getValue().properties().forEach(m -> metadata.put(m.getKey(), m.getValue().asText()));
          continue;
        }
        tensors.put(
            e.getKey(), readTensor(file, ch, e.getKey(), e.getValue(), dataStart, dataSize));
      }
      return new Contents(tensors, metadata);
    }
  }

  private static Tensor readTensor(
      Path file, FileChannel ch, String name, JsonNode info, long dataStart, long dataSize)
      throws IOException {
    String dtype = info.path("dtype").asText();
    int width =
        switch (dtype) {
          case "F32" -> 4;
          case "F16", "BF16" -> 2;
          default ->
              throw bad(
                  file,
                  "tensor " + name + " has dtype " + dtype + "; F32, F16, BF16 are supported");
        };
    JsonNode shapeNode = info.path("shape");
    JsonNode offs = info.path("data_offsets");
    if (!shapeNode.isArray() || !offs.isArray() || offs.size() != 2) {
      throw bad(file, "tensor " + name + " lacks shape or data_offsets");
    }
    int[] shape = new int[shapeNode.size()];
    long count = 1;
    for (int i = 0; i < shape.length; i++) {
      long d = shapeNode.get(i).asLong(-1);
      if (d < 0 || d > Integer.MAX_VALUE) {
        throw bad(file, "tensor " + name + " has a bad dimension " + shapeNode.get(i));
      }
      shape[i] = (int) d;
      count *= d;
    }
    long begin = offs.get(0).asLong(-1);
    long end = offs.get(1).asLong(-1);
    if (begin < 0
        || end > dataSize
        || end - begin != count * width
        || count > Integer.MAX_VALUE - 8) {
      throw bad(
          file,
          "tensor "
              + name
              + " data_offsets ["
              + begin
              + ", "
              + end
              + "] do not fit shape and file");
    }
    ByteBuffer buf = ByteBuffer.allocate((int) (end - begin)).order(ByteOrder.LITTLE_ENDIAN);
    readFully(ch, buf, dataStart + begin);
    buf.flip();
    Tensor t = Tensor.zeros(shape);
    float[] d = t.data();
    for (int i = 0; i < count; i++) {
      if (width == 4) {
        d[i] = buf.getFloat();
      } else if (dtype.equals("BF16")) {
        d[i] = Float.intBitsToFloat((buf.getShort() & 0xffff) << 16);
      } else {
        d[i] = Float.float16ToFloat(buf.getShort());
      }
    }
    return t;
  }

  private static void readFully(FileChannel ch, ByteBuffer buf, long position) throws IOException {
    long pos = position;
    while (buf.hasRemaining()) {
      int n = ch.read(buf, pos);
      if (n < 0) {
        throw new IOException("unexpected end of file");
      }
      pos += n;
    }
  }

  private static IllegalArgumentException bad(Path file, String why) {
    return new IllegalArgumentException("bad safetensors file " + file + ": " + why);
  }
}

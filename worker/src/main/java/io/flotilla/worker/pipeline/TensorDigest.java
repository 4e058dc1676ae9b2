package io.flotilla.worker.pipeline;

import io.flotilla.engine.nn.Parameter;
import io.flotilla.engine.tensor.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.function.Function;

/**
 * SHA-256 over tensors' float32 values, little-endian, in the given order: two stage replicas that
 * hold bit-identical tensors report the same digest.
 */
public final class TensorDigest {
  private final MessageDigest sha = sha256();
  private final ByteBuffer chunk = ByteBuffer.allocate(64 * 1024).order(ByteOrder.LITTLE_ENDIAN);

  /** An empty running digest, fed tensor by tensor. */
  public TensorDigest() {}

  /** Digest of the values ({@code valueOf = Parameter::value}) or gradients of parameters. */
  public static String of(List<Parameter> parameters, Function<Parameter, Tensor> valueOf) {
    TensorDigest digest = new TensorDigest();
    for (Parameter p : parameters) {
      digest.add(valueOf.apply(p));
    }
    return digest.hex();
  }

  /** Feeds the values of {@code t}. */
  public TensorDigest add(Tensor t) {
    float[] d = t.data();
    for (int i = 0; i < t.size(); i++) {
      add(d[i]);
    }
    return this;
  }

  /** Feeds one value. */
  public TensorDigest add(float value) {
    if (chunk.remaining() < 4) {
      sha.update(chunk.array(), 0, chunk.position());
      chunk.clear();
    }
    chunk.putFloat(value);
    return this;
  }

  /** The hex digest of everything fed; the digest is spent afterwards. */
  public String hex() {
    sha.update(chunk.array(), 0, chunk.position());
    chunk.clear();
    return HexFormat.of().formatHex(sha.digest());
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }
}

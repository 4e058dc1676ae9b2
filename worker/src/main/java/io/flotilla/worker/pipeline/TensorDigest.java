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
  private TensorDigest() {}

  /** Digest of the values ({@code valueOf = Parameter::value}) or gradients of parameters. */
  public static String of(List<Parameter> parameters, Function<Parameter, Tensor> valueOf) {
    MessageDigest sha;
    try {
      sha = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
    ByteBuffer chunk = ByteBuffer.allocate(64 * 1024).order(ByteOrder.LITTLE_ENDIAN);
    for (Parameter p : parameters) {
      Tensor t = valueOf.apply(p);
      float[] d = t.data();
      for (int i = 0; i < t.size(); i++) {
        if (chunk.remaining() < 4) {
          sha.update(chunk.array(), 0, chunk.position());
          chunk.clear();
        }
        chunk.putFloat(d[i]);
      }
    }
    sha.update(chunk.array(), 0, chunk.position());
    return HexFormat.of().formatHex(sha.digest());
  }
}

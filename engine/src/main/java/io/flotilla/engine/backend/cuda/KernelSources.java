package io.flotilla.engine.backend.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The CUDA C source of the backend's layer kernels (resource {@code kernels.cu} next to this
 * class), the kernel names the backend launches, and the NVRTC options it compiles them with.
 */
public final class KernelSources {
  /** Resource name of the kernel source. */
  public static final String RESOURCE = "kernels.cu";

  /**
   * Parameter kinds of every kernel {@link CudaBackend} launches, one letter per parameter: {@code
   * P} device pointer, {@code I} {@code int}, {@code L} 64-bit integer, {@code F} {@code float}.
   * Launches are checked against this table, and a test checks the table against the source, so a
   * mismatch shows up without a GPU.
   */
  public static final Map<String, String> SIGNATURES =
      Map.ofEntries(
          Map.entry("fill_rows", "PPII"),
          Map.entry("sum_rows_accumulate", "PPII"),
          Map.entry("layernorm_forward", "PPPPPPIIF"),
          Map.entry("layernorm_backward_dx", "PPPPPPII"),
          Map.entry("layernorm_backward_params", "PPPPPPII"),
          Map.entry("gelu_forward", "PPL"),
          Map.entry("gelu_backward", "PPPL"),
          Map.entry("relu_forward", "PPL"),
          Map.entry("relu_backward", "PPPL"),
          Map.entry("add", "PPPL"),
          Map.entry("mul", "PPPL"),
          Map.entry("scale", "PFPL"),
          Map.entry("dropout_forward", "PPPLFFL"),
          Map.entry("embedding_forward", "PPPPIII"),
          Map.entry("embedding_backward", "PPPPIII"),
          Map.entry("softmax_causal_forward", "PII"),
          Map.entry("softmax_causal_backward", "PPIIF"),
          Map.entry("cross_entropy", "PPPPIIF"),
          Map.entry("sum_squares_partial", "PLP"),
          Map.entry("adamw", "PPPPLFFFFFF"));

  private static final Pattern KERNEL =
      Pattern.compile("extern\\s+\"C\"\\s+__global__\\s+void\\s+(\\w+)\\s*\\(");

  private KernelSources() {}

  /** The CUDA C source text. */
  public static String source() {
    try (InputStream in = KernelSources.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(
            "resource " + RESOURCE + " missing next to " + KernelSources.class.getName());
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + RESOURCE, e);
    }
  }

  /** Names of the {@code extern "C" __global__} functions defined in {@code source}, in order. */
  public static List<String> definedKernels(String source) {
    List<String> names = new ArrayList<>();
    Matcher m = KERNEL.matcher(source);
    while (m.find()) {
      names.add(m.group(1));
    }
    return names;
  }

  /**
   * The parameter kinds (see {@link #SIGNATURES}) of each {@code extern "C" __global__} function in
   * {@code source}, derived from its parameter list.
   */
  public static Map<String, String> parsedSignatures(String source) {
    Map<String, String> out = new java.util.LinkedHashMap<>();
    Matcher m = KERNEL.matcher(source);
    while (m.find()) {
      int close = source.indexOf(')', m.end());
      String params = source.substring(m.end(), close);
      StringBuilder kinds = new StringBuilder();
      for (String param : params.split(",")) {
        String p = param.strip().replaceAll("\\s+", " ");
        if (p.isEmpty()) {
          continue;
        }
        String type = p.substring(0, p.lastIndexOf(' ') < 0 ? p.length() : p.lastIndexOf(' '));
        if (p.contains("*")) {
          kinds.append('P');
        } else if (type.endsWith("long long")) {
          kinds.append('L');
        } else if (type.endsWith("int")) {
          kinds.append('I');
        } else if (type.endsWith("float")) {
          kinds.append('F');
        } else {
          throw new IllegalArgumentException(
              "kernel " + m.group(1) + ": unsupported parameter type in '" + p + "'");
        }
      }
      out.put(m.group(1), kinds.toString());
    }
    return out;
  }

  /**
   * NVRTC options for a device of compute capability {@code major.minor}: PTX for that virtual
   * architecture (the driver JIT-compiles it for the exact GPU), C++17, and no fast-math so the
   * kernels keep IEEE division and square roots like the CPU backend.
   */
  public static String[] compileOptions(int major, int minor) {
    if (major < 5 || major > 20 || minor < 0 || minor > 9) {
      throw new IllegalArgumentException(
          "compute capability " + major + "." + minor + " is outside 5.0..20.9");
    }
    return new String[] {
      "--gpu-architecture=compute_" + major + minor, "--std=c++17", "--fmad=true"
    };
  }
}

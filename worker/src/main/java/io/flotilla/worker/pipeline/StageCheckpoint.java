package io.flotilla.worker.pipeline;

import io.flotilla.engine.backend.ComputeBackend;
import io.flotilla.engine.checkpoint.Safetensors;
import io.flotilla.engine.data.Dataset;
import io.flotilla.engine.model.Model;
import io.flotilla.engine.nn.Parameter;
import io.flotilla.engine.tensor.Tensor;
import io.flotilla.engine.train.JobConfig;
import io.flotilla.engine.train.LocalTrainer;
import io.flotilla.protocol.job.JobSpec;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Per-stage checkpoint shards ({@code stage-K.safetensors}, written by {@link
 * StageExecutor#writeCheckpoint}) and the whole model assembled from them.
 */
public final class StageCheckpoint {
  private StageCheckpoint() {}

  /**
   * A written shard.
   *
   * @param file where it is
   * @param sha256 SHA-256 of its bytes, hex
   */
  public record Shard(Path file, String sha256) {}

  /** The shard file name of stage {@code k}. */
  public static String fileName(int stage) {
    return "stage-" + stage + ".safetensors";
  }

  static Shard write(Path dir, int stage, Map<String, Tensor> tensors, Map<String, String> meta)
      throws IOException {
    Files.createDirectories(dir);
    Path file = dir.resolve(fileName(stage));
    Safetensors.write(file, tensors, meta);
    return new Shard(file, sha256(file));
  }

  /** SHA-256 of a file's bytes, hex. */
  public static String sha256(Path file) throws IOException {
    MessageDigest sha;
    try {
      sha = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
    try (InputStream in = new DigestInputStream(Files.newInputStream(file), sha)) {
      in.transferTo(OutputStream.nullOutputStream());
    }
    return HexFormat.of().formatHex(sha.digest());
  }

  /**
   * The whole model of {@code spec} with the parameters of the P stage shards (in stage order), for
   * held-out evaluation or an export with the engine's {@code Checkpoints}. The tied token table is
   * taken from stage 0 (stage P-1 holds an identical copy).
   */
  public static Model assemble(ComputeBackend backend, JobSpec spec, List<Path> shards)
      throws IOException {
    JobConfig job = EngineJob.forReplica(spec);
    Dataset data = LocalTrainer.openDataset(job);
    Model model = LocalTrainer.buildModel(backend, job, data);
    Map<String, Parameter> byName = model.parameterMap();
    Set<String> loaded = new HashSet<>();
    for (Path shard : shards) {
      for (var e : Safetensors.read(shard).tensors().entrySet()) {
        Parameter p = byName.get(e.getKey());
        if (p == null || !loaded.add(e.getKey())) {
          continue; // optimizer state, DiLoCo state, or the second copy of the tied table
        }
        if (!Arrays.equals(p.value().shape(), e.getValue().shape())) {
          throw new IllegalArgumentException(
              shard
                  + ": tensor "
                  + e.getKey()
                  + " has shape "
                  + Arrays.toString(e.getValue().shape())
                  + ", the model's is "
                  + Arrays.toString(p.value().shape()));
        }
        e.getValue().copyTo(p.value());
      }
    }
    if (!loaded.equals(byName.keySet())) {
      Set<String> missing = new TreeSet<>(byName.keySet());
      missing.removeAll(loaded);
      throw new IllegalArgumentException("the shards lack parameters " + missing);
    }
    return model;
  }
}

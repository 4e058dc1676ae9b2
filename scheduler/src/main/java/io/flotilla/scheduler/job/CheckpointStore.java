package io.flotilla.scheduler.job;

import com.typesafe.config.Config;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

/**
 * The scheduler node's store of checkpoint shards, content-addressed per job: {@code
 * <directory>/<job>/<sha256>.safetensors}. Workers upload a shard with a PUT to a one-time address
 * a job manager issued ({@link #uploadUrl}); the store hashes what arrives, and the job manager
 * accepts the shard only when that hash equals the one the worker reported. Workers restoring a
 * stage download a shard by job and hash.
 */
public final class CheckpointStore {

  private static final SecureRandom RANDOM = new SecureRandom();

  /** An upload address waiting for its shard, and what arrived. */
  private final AtomicLong uploads = new AtomicLong();

  private record Pending(String jobId, long step, int stage, Instant expires, String sha256) {}

  private final Path root;
  private final Duration uploadTtl;
  private final long maxShardBytes;
  private final Clock clock;
  private final AtomicReference<String> baseUrl = new AtomicReference<>();
  private final Map<String, Pending> pending = new ConcurrentHashMap<>();

  /**
   * A store under {@code root}.
   *
   * @param advertisedUrl the base URL workers reach this node's API at; empty to set it later with
   *     {@link #bindUrl} once the API listens
   */
  public CheckpointStore(
      Path root, String advertisedUrl, Duration uploadTtl, long maxShardBytes, Clock clock) {
    this.root = root.toAbsolutePath();
    this.uploadTtl = uploadTtl;
    this.maxShardBytes = maxShardBytes;
    this.clock = clock;
    if (!advertisedUrl.isBlank()) {
      baseUrl.set(stripSlash(advertisedUrl));
    }
  }

  /** The store configured by {@code flotilla.scheduler.checkpoints}. */
  public static CheckpointStore create(Config config, Clock clock) {
    Config c = config.getConfig("flotilla.scheduler.checkpoints");
    return new CheckpointStore(
        Path.of(c.getString("directory")),
        c.getString("advertised-url"),
        c.getDuration("upload-ttl"),
        c.getBytes("max-shard-size"),
        clock);
  }

  /** Uses {@code url} as the base URL unless one was configured. */
  public void bindUrl(String url) {
    baseUrl.compareAndSet(null, stripSlash(url));
  }

  /** Largest shard accepted, in bytes. */
  public long maxShardBytes() {
    return maxShardBytes;
  }

  /** The directory of the store. */
  public Path root() {
    return root;
  }

  /**
   * A fresh one-time address for the shard of {@code stage} after {@code step} steps of {@code
   * jobId}.
   *
   * @throws IllegalStateException when the node serves no API workers could upload to
   */
  public String uploadUrl(String jobId, long step, int stage) {
    byte[] bytes = new byte[24];
    RANDOM.nextBytes(bytes);
    String token = HexFormat.of().formatHex(bytes);
    pending.put(token, new Pending(jobId, step, stage, clock.instant().plus(uploadTtl), null));
    return base() + "/internal/checkpoints/upload/" + token;
  }

  /** Where workers download the shard {@code sha256} of {@code jobId}. */
  public String downloadUrl(String jobId, String sha256) {
    return base() + "/internal/checkpoints/" + jobId + "/" + sha256;
  }

  private String base() {
    String url = baseUrl.get();
    if (url == null) {
      throw new IllegalStateException(
          "this scheduler node has no address for checkpoint transfers: enable its jobs API"
              + " (flotilla.scheduler.http) or set flotilla.scheduler.checkpoints.advertised-url");
    }
    return url;
  }

  /**
   * Stores the shard arriving on {@code in} for upload {@code token}.
   *
   * @return its SHA-256
   * @throws IllegalArgumentException when the token is unknown, used or expired, or the shard is
   *     larger than allowed (the message says which)
   */
  public String accept(String token, InputStream in) throws IOException {
    Pending p = pending.get(token);
    if (p == null || p.sha256() != null) {
      throw new IllegalArgumentException("unknown or already used upload address");
    }
    if (clock.instant().isAfter(p.expires())) {
      pending.remove(token);
      throw new IllegalArgumentException("upload address expired at " + p.expires());
    }
    Path dir = jobDirectory(p.jobId());
    if (!Files.isDirectory(dir)) {
      Files.createDirectories(dir);
    }
    // Named by the upload's own (random, one-time) token: Files.createTempFile draws a name from
    // SecureRandom, which was a measurable share of a busy scheduler's time.
    Path tmp = dir.resolve("upload-" + token + "-" + uploads.incrementAndGet() + ".part");
    try {
      MessageDigest sha = sha256();
      long written;
      try (InputStream digesting = new DigestInputStream(in, sha);
          OutputStream out =
              Files.newOutputStream(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
        written = copyLimited(digesting, out);
      }
      String hex = HexFormat.of().formatHex(sha.digest());
      Files.move(tmp, dir.resolve(hex + ".safetensors"), StandardCopyOption.REPLACE_EXISTING);
      pending.put(token, new Pending(p.jobId(), p.step(), p.stage(), p.expires(), hex));
      return hex;
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  private long copyLimited(InputStream in, OutputStream out) throws IOException {
    byte[] buffer = new byte[1 << 16];
    long total = 0;
    int n;
    while ((n = in.read(buffer)) > 0) {
      total += n;
      if (total > maxShardBytes) {
        throw new IllegalArgumentException(
            "shard larger than "
                + maxShardBytes
                + " bytes (flotilla.scheduler.checkpoints.max-shard-size)");
      }
      out.write(buffer, 0, n);
    }
    return total;
  }

  /**
   * The SHA-256 of what arrived at the upload address {@code url} this store issued, once it
   * arrived; the address is then used up.
   */
  public Optional<String> uploaded(String url) {
    String token = url.substring(url.lastIndexOf('/') + 1);
    Pending p = pending.get(token);
    if (p == null || p.sha256() == null) {
      return Optional.empty();
    }
    pending.remove(token);
    return Optional.of(p.sha256());
  }

  /** The shard {@code sha256} of {@code jobId}, if stored. */
  public Optional<Path> shard(String jobId, String sha256) {
    if (!sha256.matches("[0-9a-f]{64}")) {
      return Optional.empty();
    }
    Path file = jobDirectory(jobId).resolve(sha256 + ".safetensors");
    return Files.isRegularFile(file) ? Optional.of(file) : Optional.empty();
  }

  /**
   * Deletes all but the shards of the {@code keepLast} newest checkpoints of {@code jobId} (by file
   * time, {@code keepLast} times the shards of {@code current}); never the current ones.
   */
  public void retainNewest(String jobId, int keepLast, CheckpointRecord current)
      throws IOException {
    Path dir = jobDirectory(jobId);
    if (!Files.isDirectory(dir) || current == null) {
      return;
    }
    Set<String> keep = new java.util.HashSet<>();
    current.shards().forEach(sh -> keep.add(sh.sha256() + ".safetensors"));
    List<Path> shards;
    try (Stream<Path> files = Files.list(dir)) {
      shards =
          files
              .filter(f -> f.getFileName().toString().endsWith(".safetensors"))
              .sorted(
                  java.util.Comparator.comparing(
                          (Path f) -> {
                            try {
                              return Files.getLastModifiedTime(f);
                            } catch (IOException e) {
                              return java.nio.file.attribute.FileTime.fromMillis(0);
                            }
                          })
                      .reversed())
              .toList();
    }
    int others = (keepLast - 1) * current.shards().size();
    for (Path f : shards) {
      if (keep.contains(f.getFileName().toString())) {
        continue;
      }
      if (others > 0) {
        others--;
      } else {
        Files.deleteIfExists(f);
      }
    }
  }

  /**
   * The job's verification log (JSON Lines, see {@link
   * io.flotilla.scheduler.verify.VerificationLog}), kept beside its checkpoint shards so that it
   * follows the job to whichever scheduler node runs it.
   */
  public Path verificationLog(String jobId) {
    return jobDirectory(jobId).resolve("verification.jsonl");
  }

  private Path jobDirectory(String jobId) {
    if (!jobId.matches("[A-Za-z0-9._-]+") || jobId.startsWith(".")) {
      throw new IllegalArgumentException("not a job id: " + jobId);
    }
    return root.resolve(jobId);
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }

  private static String stripSlash(String url) {
    return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
  }
}

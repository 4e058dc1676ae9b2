package io.flotilla.worker.transport;

import io.aeron.Aeron;
import io.aeron.driver.MediaDriver;
import io.aeron.driver.ThreadingMode;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.agrona.CloseHelper;
import org.agrona.IoUtil;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded Aeron media driver of one worker process and the Aeron client connected to it.
 *
 * <p>The driver runs with {@link ThreadingMode#SHARED} by default (one thread for conductor, sender
 * and receiver; {@code driver-threading-mode}) and a backoff idle strategy, so a quiet worker costs
 * a small fraction of a core. Its directory is unique to this instance, lies under {@link
 * DataPlaneSettings#driverDirectoryParent} and is deleted on start and on {@link #close()};
 * directories that crashed processes left behind are deleted when the next driver starts.
 */
public final class DataPlaneDriver implements AutoCloseable {
  private static final String DIRECTORY_PREFIX = "flotilla-aeron-";
  private static final Logger log = LoggerFactory.getLogger(DataPlaneDriver.class);

  private final DataPlaneSettings settings;
  private final MediaDriver driver;
  private final Aeron aeron;
  private final Path directory;

  private DataPlaneDriver(
      DataPlaneSettings settings, Consumer<MediaDriver.Context> driverCustomizer) {
    this.settings = settings;
    Path parent = settings.driverDirectoryParent();
    if (!Files.isDirectory(parent)) {
      parent = Path.of(System.getProperty("java.io.tmpdir"));
    }
    deleteDirectoriesOfDeadProcesses(parent);
    this.directory =
        parent.resolve(DIRECTORY_PREFIX + ProcessHandle.current().pid() + "-" + UUID.randomUUID());
    MediaDriver.Context ctx =
        new MediaDriver.Context()
            .aeronDirectoryName(directory.toString())
            .dirDeleteOnStart(true)
            .dirDeleteOnShutdown(true)
            .threadingMode(settings.threadingMode())
            .sharedIdleStrategy(idleStrategy(settings))
            .sharedNetworkIdleStrategy(idleStrategy(settings))
            .conductorIdleStrategy(idleStrategy(settings))
            .senderIdleStrategy(idleStrategy(settings))
            .receiverIdleStrategy(idleStrategy(settings))
            .mtuLength(settings.mtuBytes())
            .ipcMtuLength(settings.mtuBytes())
            .publicationTermBufferLength(settings.termLengthBytes())
            .ipcTermBufferLength(settings.termLengthBytes())
            .imageLivenessTimeoutNs(settings.imageLivenessTimeout().toNanos())
            .publicationConnectionTimeoutNs(settings.publicationConnectionTimeout().toNanos())
            .termBufferSparseFile(true)
            .warnIfDirectoryExists(false)
            .printConfigurationOnStart(false);
    if (settings.socketRcvbufBytes() > 0) {
      ctx.socketRcvbufLength(settings.socketRcvbufBytes());
    }
    if (settings.effectiveReceiverWindowBytes() > 0) {
      // Aeron's default window (128KiB) starves a 32KiB-MTU stream.
      ctx.initialWindowLength(settings.effectiveReceiverWindowBytes());
    }
    if (settings.socketSndbufBytes() > 0) {
      ctx.socketSndbufLength(settings.socketSndbufBytes());
    }
    driverCustomizer.accept(ctx);
    MediaDriver launched = MediaDriver.launchEmbedded(ctx);
    try {
      this.aeron =
          Aeron.connect(
              new Aeron.Context()
                  .aeronDirectoryName(launched.aeronDirectoryName())
                  .idleSleepDurationNs(TimeUnit.MILLISECONDS.toNanos(1)));
    } catch (RuntimeException e) {
      CloseHelper.quietClose(launched);
      throw e;
    }
    this.driver = launched;
  }

  /**
   * A process that crashed could not delete its driver directory: remove those whose process is
   * gone, so that term buffers of dead workers do not pile up in /dev/shm.
   */
  private static void deleteDirectoriesOfDeadProcesses(Path parent) {
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(parent, DIRECTORY_PREFIX + "*")) {
      for (Path entry : entries) {
        String rest = entry.getFileName().toString().substring(DIRECTORY_PREFIX.length());
        int dash = rest.indexOf('-');
        if (dash <= 0) {
          continue;
        }
        long pid;
        try {
          pid = Long.parseLong(rest.substring(0, dash));
        } catch (NumberFormatException e) {
          continue;
        }
        if (ProcessHandle.of(pid).isEmpty()) {
          log.info("deleting {}, left behind by process {} which is gone", entry, pid);
          IoUtil.delete(entry.toFile(), true);
        }
      }
    } catch (IOException e) {
      log.warn("could not look for stale driver directories in {}: {}", parent, e.toString());
    }
  }

  /** Starts a driver and connects a client to it. */
  public static DataPlaneDriver launch(DataPlaneSettings settings) {
    return new DataPlaneDriver(settings, ctx -> {});
  }

  /**
   * Starts a driver after letting {@code driverCustomizer} adjust its context, e.g. to install a
   * loss generator in a test.
   */
  public static DataPlaneDriver launch(
      DataPlaneSettings settings, Consumer<MediaDriver.Context> driverCustomizer) {
    return new DataPlaneDriver(settings, driverCustomizer);
  }

  /**
   * Idle strategy of a thread in the middle of a transfer (waiting on back-pressure): parks at most
   * 50 us, as it only idles while a tensor is moving.
   */
  static IdleStrategy activeIdleStrategy(DataPlaneSettings settings) {
    return new BackoffIdleStrategy(
        settings.idleSpins(),
        settings.idleYields(),
        TimeUnit.MICROSECONDS.toNanos(1),
        Math.min(TimeUnit.MICROSECONDS.toNanos(50), settings.idleMaxPark().toNanos()));
  }

  /**
   * Idle strategy of the driver's threads, of the receive agent between tensors and of abort sends:
   * spins, then yields, then parks from 1 us doubling up to {@code idle-max-park}. Work resets it
   * to spinning.
   */
  static IdleStrategy idleStrategy(DataPlaneSettings settings) {
    return new BackoffIdleStrategy(
        settings.idleSpins(),
        settings.idleYields(),
        TimeUnit.MICROSECONDS.toNanos(1),
        settings.idleMaxPark().toNanos());
  }

  /** The settings this driver was started with. */
  public DataPlaneSettings settings() {
    return settings;
  }

  /** The Aeron client connected to this driver. */
  public Aeron aeron() {
    return aeron;
  }

  /** This driver's directory (deleted on close). */
  public Path directory() {
    return directory;
  }

  @Override
  public void close() {
    CloseHelper.closeAll(aeron, driver);
    // The driver deletes its directory on shutdown; this catches what a failed start left.
    IoUtil.delete(directory.toFile(), true);
  }
}

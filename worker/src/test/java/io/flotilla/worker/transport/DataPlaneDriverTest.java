package io.flotilla.worker.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.ConfigFactory;
import io.aeron.driver.ThreadingMode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(LogCapturingExtension.class)
class DataPlaneDriverTest {

  @Test
  void referenceConfHasUsableDefaults() {
    DataPlaneSettings settings = DataPlaneSettings.create(ConfigFactory.load());
    assertThat(settings.bindAddress()).isEqualTo("0.0.0.0");
    assertThat(settings.port()).isEqualTo(40123);
    assertThat(settings.mtuBytes()).isEqualTo(32 * 1024);
    assertThat(settings.termLengthBytes()).isEqualTo(16 * 1024 * 1024);
    assertThat(settings.peerTimeout()).isEqualTo(Duration.ofSeconds(10));
    assertThat(settings.driverDirectoryParent()).isEqualTo(Path.of("/dev/shm"));
    assertThat(settings.resolveAdvertisedHost()).isNotBlank();
  }

  @Test
  void tuningKeysAreReadAndValidated() {
    DataPlaneSettings defaults = DataPlaneSettings.create(ConfigFactory.load());
    assertThat(defaults.effectiveReceiverWindowBytes()).isEqualTo(2 * 1024 * 1024);
    assertThat(defaults.threadingMode()).isEqualTo(ThreadingMode.SHARED);

    var tuned =
        DataPlaneSettings.create(
            ConfigFactory.parseString(
                    "flotilla.worker.data-plane { idle-spins = 50, idle-yields = 500,"
                        + " driver-threading-mode = dedicated, receiver-window = 1MiB,"
                        + " receive-pool-size = 64MiB }")
                .withFallback(ConfigFactory.load()));
    assertThat(tuned.idleSpins()).isEqualTo(50);
    assertThat(tuned.idleYields()).isEqualTo(500);
    assertThat(tuned.threadingMode()).isEqualTo(ThreadingMode.DEDICATED);
    assertThat(tuned.effectiveReceiverWindowBytes()).isEqualTo(1024 * 1024);
    assertThat(tuned.receivePoolBytes()).isEqualTo(64L * 1024 * 1024);

    var mode =
        ConfigFactory.parseString("flotilla.worker.data-plane.driver-threading-mode = invoker")
            .withFallback(ConfigFactory.load());
    assertThatThrownBy(() -> DataPlaneSettings.create(mode))
        .hasMessageContaining("driver-threading-mode must be shared, shared-network or dedicated");
    var window =
        ConfigFactory.parseString("flotilla.worker.data-plane.receiver-window = 16MiB")
            .withFallback(ConfigFactory.load());
    assertThatThrownBy(() -> DataPlaneSettings.create(window))
        .hasMessageContaining("receiver-window must be 0 or in 4KiB..term-length/2");
  }

  @Test
  void invalidSettingsAreRejectedWithTheKeyAndWhatIsAllowed() {
    var config =
        ConfigFactory.parseString("flotilla.worker.data-plane.term-length = 3MiB")
            .withFallback(ConfigFactory.load());
    assertThatThrownBy(() -> DataPlaneSettings.create(config))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("term-length must be a power of two");
    var mtu =
        ConfigFactory.parseString("flotilla.worker.data-plane.mtu = 100")
            .withFallback(ConfigFactory.load());
    assertThatThrownBy(() -> DataPlaneSettings.create(mtu)).hasMessageContaining("mtu");
  }

  @Test
  void directoriesOfDeadProcessesAreDeletedOnStart() throws Exception {
    long deadPid;
    Process gone = new ProcessBuilder("true").start();
    gone.waitFor();
    deadPid = gone.pid();
    Path stale = Path.of("/dev/shm", "flotilla-aeron-" + deadPid + "-stale-test");
    Files.createDirectories(stale.resolve("inner"));
    try (DataPlaneDriver driver =
        DataPlaneDriver.launch(DataPlaneSettings.loopback(Duration.ofSeconds(2)))) {
      assertThat(Files.exists(stale)).isFalse();
      assertThat(driver.directory()).isDirectory();
    }
  }

  @Test
  void driverDirectoryIsUnderDevShmWhileRunningAndGoneAfterClose() {
    Path directory;
    try (TensorTransport transport =
        TensorTransport.launch(DataPlaneSettings.loopback(Duration.ofSeconds(2)), "lifecycle")) {
      assertThat(transport.endpoint().port()).isPositive();
      assertThat(transport.endpoint().host()).isEqualTo("127.0.0.1");
      assertThat(transport.endpoint().aeronChannel()).contains("mtu=32768");
      directory = Path.of(transport.driverDirectory());
      assertThat(directory).startsWith(Path.of("/dev/shm")).isDirectory();
    }
    assertThat(Files.exists(directory)).isFalse();
  }
}

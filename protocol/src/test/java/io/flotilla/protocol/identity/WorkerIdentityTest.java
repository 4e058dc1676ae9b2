package io.flotilla.protocol.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flotilla.protocol.testing.SerializationAssertions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WorkerIdentityTest {

  private static final ActorTestKit testKit = ActorTestKit.create();

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @TempDir Path dir;

  @Test
  void keyFileIsCreatedOnceWithOwnerOnlyPermissions() throws IOException {
    Path keyFile = dir.resolve("keys/worker.key");
    WorkerIdentity first = WorkerIdentity.loadOrCreate(keyFile);
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(keyFile)))
        .isEqualTo("rw-------");
    assertThat(first.address()).matches("0x[0-9a-f]{40}");

    WorkerIdentity again = WorkerIdentity.loadOrCreate(keyFile);
    assertThat(again.address()).isEqualTo(first.address());
  }

  @Test
  void keyFileReadableByOthersIsRefused() throws IOException {
    Path keyFile = dir.resolve("worker.key");
    WorkerIdentity.loadOrCreate(keyFile);
    Files.setPosixFilePermissions(keyFile, PosixFilePermissions.fromString("rw-r--r--"));
    assertThatThrownBy(() -> WorkerIdentity.loadOrCreate(keyFile))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("chmod 600");
  }

  @Test
  void garbageKeyFileIsRefusedWithClearError() throws IOException {
    Path keyFile = dir.resolve("worker.key");
    Files.createFile(
        keyFile,
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(keyFile, "not a key");
    assertThatThrownBy(() -> WorkerIdentity.loadOrCreate(keyFile))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("64 hex digits");
  }

  @Test
  void signedReceiptRecoversSignerAndTamperingChangesIt() {
    WorkerIdentity worker = WorkerIdentity.generate();
    WorkReceipt receipt = worker.sign(WorkReceipt.unsigned("j-1", "t-7", "w-1", 1500, 1_000L));
    assertThat(SignatureVerifier.signerOf(receipt)).contains(worker.address());

    WorkReceipt inflated =
        new WorkReceipt("j-1", "t-7", "w-1", 150_000, 1_000L, receipt.signature());
    assertThat(SignatureVerifier.signerOf(inflated))
        .isNotEqualTo(SignatureVerifier.signerOf(receipt));

    assertThat(SignatureVerifier.signerOf(receipt.withSignature(""))).isEmpty();
    assertThat(SignatureVerifier.signerOf(receipt.withSignature("0x1234"))).isEmpty();
    assertThat(SignatureVerifier.signerOf(receipt.withSignature("0x" + "zz".repeat(65)))).isEmpty();
  }

  @Test
  void registrationProvesOwnershipOfAddress() {
    WorkerIdentity worker = WorkerIdentity.generate();
    WorkerIdentity thief = WorkerIdentity.generate();
    assertThat(SignatureVerifier.isValid(worker.registration("w-1"))).isTrue();
    WorkerRegistration stolen =
        new WorkerRegistration("w-1", worker.address(), thief.registration("w-1").signature());
    assertThat(SignatureVerifier.isValid(stolen)).isFalse();
  }

  @Test
  void messagesRoundTrip() {
    WorkerIdentity worker = WorkerIdentity.generate();
    List<Object> samples =
        List.of(worker.sign(WorkReceipt.unsigned("j", "t", "w", 10, 5)), worker.registration("w"));
    samples.forEach(m -> SerializationAssertions.assertRoundTrips(testKit.system(), m));
    SerializationAssertions.assertEveryMessageHasSample(
        testKit.system(),
        samples,
        c -> c.getPackageName().equals(WorkReceipt.class.getPackageName()));
  }
}

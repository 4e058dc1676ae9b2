package io.flotilla.worker.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.aeron.driver.ext.DebugReceiveChannelEndpoint;
import io.aeron.driver.ext.RandomLossGenerator;
import io.aeron.driver.status.SystemCounterDescriptor;
import java.time.Duration;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Exact delivery while Aeron's loss generator drops a share of the receiver's data packets. */
@ExtendWith(LogCapturingExtension.class)
class LossyTransportTest {
  private static final double LOSS_RATE = 0.05;

  @Test
  void deliversExactlyWhilePacketsAreDropped() throws Exception {
    DataPlaneSettings settings = DataPlaneSettings.loopback(Duration.ofSeconds(10));
    try (TensorTransport sender = TensorTransport.launch(settings, "lossy-sender");
        DataPlaneDriver lossyDriver =
            DataPlaneDriver.launch(
                settings,
                ctx ->
                    ctx.receiveChannelEndpointSupplier(
                        (udpChannel, dispatcher, statusIndicator, context) ->
                            new DebugReceiveChannelEndpoint(
                                udpChannel,
                                dispatcher,
                                statusIndicator,
                                context,
                                new RandomLossGenerator(LOSS_RATE, 42),
                                new RandomLossGenerator(0, 43))));
        TensorTransport receiver = TensorTransport.start(lossyDriver, "lossy-receiver")) {
      for (int bytes : new int[] {100, 300_000, 8 * 1024 * 1024 + 5}) {
        TensorTransportTest.assertExactDelivery(
            sender, receiver, receiver.udpPeer(), bytes, "lossy-" + bytes);
      }
      long[] naksSent = {0};
      var counters = lossyDriver.aeron().countersReader();
      counters.forEach(
          (counterId, typeId, keyBuffer, label) -> {
            if (typeId == SystemCounterDescriptor.SYSTEM_COUNTER_TYPE_ID
                && keyBuffer.getInt(0) == SystemCounterDescriptor.NAK_MESSAGES_SENT.id()) {
              naksSent[0] = counters.getCounterValue(counterId);
            }
          });
      assertThat(naksSent[0])
          .as("the receiver asked for retransmissions of dropped packets")
          .isPositive();
    }
  }
}

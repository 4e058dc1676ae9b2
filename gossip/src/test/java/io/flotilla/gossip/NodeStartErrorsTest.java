package io.flotilla.gossip;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flotilla.protocol.NodeRole;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.LoggingTestKit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Start problems an operator must be able to act on. */
@ExtendWith(LogCapturingExtension.class)
class NodeStartErrorsTest {

  @Test
  void aPortInUseIsNamed() throws Exception {
    try (ServerSocket taken = new ServerSocket(0)) {
      int port = taken.getLocalPort();
      assertThatThrownBy(
              () ->
                  FlotillaNode.start(
                      NodeConfig.overrides()
                          .roles(Set.of(NodeRole.SEED))
                          .port(port)
                          .over(GossipTesting.base())))
          .isInstanceOf(NodeStartException.class)
          .hasMessageContaining("port " + port + " is already in use");
    }
  }

  @Test
  void anHttpPortInUseIsNamed() throws Exception {
    try (ServerSocket taken = new ServerSocket(0)) {
      int port = taken.getLocalPort();
      assertThatThrownBy(
              () ->
                  FlotillaNode.start(
                      NodeConfig.overrides()
                          .roles(Set.of(NodeRole.SEED))
                          .httpEnabled(true)
                          .httpPort(port)
                          .over(GossipTesting.base())))
          .isInstanceOf(NodeStartException.class)
          .hasMessageContaining("port " + port + " is already in use");
    }
  }

  @Test
  void aNodeWithoutSeedsThatIsNoSeedIsRefused() {
    assertThatThrownBy(
            () ->
                FlotillaNode.start(
                    NodeConfig.overrides()
                        .roles(Set.of(NodeRole.WORKER))
                        .over(GossipTesting.base())))
        .isInstanceOf(NodeStartException.class)
        .hasMessageContaining("--seed host:port");
  }

  @Test
  void unreachableSeedsAreNamedPeriodicallyWhileRetrying() throws Exception {
    int deadPort;
    try (ServerSocket s = new ServerSocket(0)) {
      deadPort = s.getLocalPort();
    }
    FlotillaNode lonely =
        FlotillaNode.start(
            NodeConfig.overrides()
                .roles(Set.of(NodeRole.WORKER))
                .seeds(List.of(new SeedAddress("127.0.0.1", deadPort)))
                .over(GossipTesting.base()));
    try {
      LoggingTestKit.warn("Not joined the Flotilla cluster yet")
          .withMessageContains("127.0.0.1:" + deadPort)
          .withOccurrences(2)
          // Periodic: on a busy machine a third may already be due; two prove the repetition.
          .withCheckExcess(false)
          .expect(lonely.system(), () -> null);
      assertThat(lonely.awaitUp(Duration.ofMillis(100))).isFalse();
    } finally {
      lonely.close();
    }
  }

  @Test
  void seedAddressesAreParsedWithClearErrors() {
    assertThat(SeedAddress.parseList(" a:1, 10.0.0.5:2552 ,"))
        .containsExactly(new SeedAddress("a", 1), new SeedAddress("10.0.0.5", 2552));
    assertThat(SeedAddress.parse("[::1]:2552")).isEqualTo(new SeedAddress("::1", 2552));
    assertThatThrownBy(() -> SeedAddress.parse("nohost"))
        .hasMessageContaining("'nohost' is not of the form host:port");
    assertThatThrownBy(() -> SeedAddress.parse("h:x")).hasMessageContaining("not a number");
    assertThatThrownBy(() -> SeedAddress.parse("h:70000")).hasMessageContaining("1..65535");
    assertThatThrownBy(() -> GossipSettings.parseRoles("worker,cook"))
        .hasMessageContaining("unknown role 'cook'");
  }
}

package io.flotilla.scheduler.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.protocol.task.StageHostCommand;
import java.util.Set;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** Stage hosts found from the receptionist listings of their keys, one key at a time. */
class StageHostsTest {

  private static final ActorTestKit KIT = ActorTestKit.create();
  private static final Address SELF = new Address("pekko", "flotilla", "127.0.0.1", 25520);

  @AfterAll
  static void stop() {
    KIT.shutdownTestKit();
  }

  private static ActorRef<StageHostCommand> host(String workerId) {
    return KIT.spawn(Behaviors.ignore(), StageHostCommand.actorName(workerId));
  }

  /** Two worker ids whose hosts register under different keys. */
  private static String[] idsOnTwoKeys() {
    String a = "w-0";
    for (int i = 1; ; i++) {
      String b = "w-" + i;
      if (!StageHostCommand.serviceKey(b).equals(StageHostCommand.serviceKey(a))) {
        return new String[] {a, b};
      }
    }
  }

  @Test
  void eachListingReplacesOnlyWhatItsKeySaid() {
    String[] ids = idsOnTwoKeys();
    ActorRef<StageHostCommand> first = host(ids[0]);
    ActorRef<StageHostCommand> second = host(ids[1]);
    ServiceKey<StageHostCommand> firstKey = StageHostCommand.serviceKey(ids[0]);
    ServiceKey<StageHostCommand> secondKey = StageHostCommand.serviceKey(ids[1]);
    StageHosts hosts = new StageHosts(SELF);
    String node = SELF.toString();

    hosts.update(Receptionist.listing(firstKey, Set.of(first)));
    assertThat(hosts.of(ids[0], node)).isEqualTo(first);
    assertThat(hosts.of(ids[1], node)).as("its key was not listed yet").isNull();

    hosts.update(Receptionist.listing(secondKey, Set.of(second)));
    assertThat(hosts.of(ids[0], node)).isEqualTo(first);
    assertThat(hosts.of(ids[1], node)).isEqualTo(second);
    assertThat(hosts.of(ids[1], "pekko://flotilla@10.0.0.9:2552")).as("another node").isNull();

    hosts.update(Receptionist.listing(firstKey, Set.<ActorRef<StageHostCommand>>of()));
    assertThat(hosts.of(ids[0], node)).as("its host deregistered").isNull();
    assertThat(hosts.of(ids[1], node)).isEqualTo(second);

    ServiceKey<String> foreign = ServiceKey.create(String.class, "something-else");
    hosts.update(Receptionist.listing(foreign, Set.<ActorRef<String>>of()));
    assertThat(hosts.of(ids[1], node))
        .as("a listing of another key changes nothing")
        .isEqualTo(second);
  }

  @Test
  void stageHostKeysSpreadWorkersAndStayStable() {
    assertThat(StageHostCommand.serviceKey("sim-42"))
        .isEqualTo(StageHostCommand.serviceKey("sim-42"));
    Set<ServiceKey<StageHostCommand>> used = new java.util.HashSet<>();
    for (int i = 0; i < 5_000; i++) {
      used.add(StageHostCommand.serviceKey("sim-" + i));
    }
    assertThat(used).containsExactlyInAnyOrderElementsOf(StageHostCommand.SERVICE_KEYS);
  }
}

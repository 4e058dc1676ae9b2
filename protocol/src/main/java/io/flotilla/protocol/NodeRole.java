package io.flotilla.protocol;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** The cluster roles a Flotilla node can take; a node may hold several. */
public enum NodeRole {
  /** A well-known node others join through; holds no job logic of its own. */
  SEED,
  /** Accepts jobs, plans them and drives training. */
  SCHEDULER,
  /** Lends compute: runs pipeline stages. */
  WORKER,
  /** Hosts the ledger bridge singleton that pays workers. */
  LEDGER;

  /** The role name as Pekko Cluster sees it, e.g. {@code worker}. */
  public String roleName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * Parses a role name, case-insensitively.
   *
   * @throws IllegalArgumentException naming the allowed roles when {@code name} is not one
   */
  public static NodeRole parse(String name) {
    for (NodeRole role : values()) {
      if (role.roleName().equalsIgnoreCase(name.trim())) {
        return role;
      }
    }
    throw new IllegalArgumentException(
        "unknown role '"
            + name
            + "'; allowed: "
            + Arrays.stream(values()).map(NodeRole::roleName).collect(Collectors.joining(", ")));
  }
}

package io.flotilla.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * A cluster's status as one node's HTTP endpoint reports it: members with roles and reachability
 * ({@code /cluster/members}), the worker registry ({@code /flotilla/workers}) and the workers'
 * reputation replica ({@code /flotilla/reputation}), of which the quarantined workers are shown.
 *
 * @param json {@code {"node":..., "leader":..., "members":[...], "unreachable":[...],
 *     "workers":[...], "quarantined":[...]}}
 */
public record ClusterStatus(ObjectNode json) {

  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * Fetches the status from {@code baseUri} (e.g. {@code http://127.0.0.1:8558}).
   *
   * @throws IOException naming the URI when the node cannot be reached or answers wrongly
   */
  public static ClusterStatus fetch(String baseUri, Duration timeout)
      throws IOException, InterruptedException {
    HttpClient http = HttpClient.newBuilder().connectTimeout(timeout).build();
    JsonNode members = get(http, baseUri + "/cluster/members", timeout);
    JsonNode workers = get(http, baseUri + "/flotilla/workers", timeout);
    JsonNode reputation = get(http, baseUri + "/flotilla/reputation", timeout);
    ObjectNode out = JSON.createObjectNode();
    out.set("node", members.path("selfNode"));
    out.set("leader", members.path("leader"));
    Set<String> unreachable = new HashSet<>();
    members.path("unreachable").forEach(u -> unreachable.add(u.path("node").asText()));
    var memberArray = out.putArray("members");
    for (JsonNode m : members.path("members")) {
      ObjectNode member = memberArray.addObject();
      member.put("node", m.path("node").asText());
      member.put("status", m.path("status").asText());
      member.set("roles", m.path("roles"));
      member.put("reachable", !unreachable.contains(m.path("node").asText()));
    }
    out.set("unreachable", members.path("unreachable"));
    out.set("workers", workers.path("workers"));
    var quarantined = out.putArray("quarantined");
    for (JsonNode r : reputation.path("reputation")) {
      if (r.path("quarantined").asBoolean()) {
        quarantined.add(r);
      }
    }
    return new ClusterStatus(out);
  }

  private static JsonNode get(HttpClient http, String uri, Duration timeout)
      throws IOException, InterruptedException {
    HttpResponse<String> response;
    try {
      response =
          http.send(
              HttpRequest.newBuilder(URI.create(uri)).timeout(timeout).build(),
              HttpResponse.BodyHandlers.ofString());
    } catch (java.net.ConnectException e) {
      throw new IOException(
          "no Flotilla node answers at "
              + uri
              + " (is a node running with its HTTP endpoint there? see --url)",
          e);
    }
    if (response.statusCode() != 200) {
      throw new IOException(
          uri + " answered HTTP " + response.statusCode() + ": " + response.body());
    }
    return JSON.readTree(response.body());
  }

  /** Members whose status is {@code Up}. */
  public int upMembers() {
    int up = 0;
    for (JsonNode m : json.path("members")) {
      if (m.path("status").asText().equals("Up")) {
        up++;
      }
    }
    return up;
  }

  /** The status as indented JSON. */
  public String toJson() {
    try {
      return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(json);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The status as two human-readable tables: members, then registered workers. */
  public String toTable() {
    List<String[]> members = new ArrayList<>();
    members.add(new String[] {"MEMBER", "STATUS", "ROLES", "REACHABLE"});
    for (JsonNode m : json.path("members")) {
      List<String> roles = new ArrayList<>();
      m.path("roles")
          .forEach(
              r -> {
                if (!r.asText().startsWith("dc-")) {
                  roles.add(r.asText());
                }
              });
      members.add(
          new String[] {
            m.path("node").asText(),
            m.path("status").asText(),
            String.join(",", roles),
            m.path("reachable").asBoolean() ? "yes" : "NO"
          });
    }
    List<String[]> workers = new ArrayList<>();
    workers.add(new String[] {"WORKER", "NODE", "CORES", "MEMORY", "GFLOP/S", "BACKEND", "LABELS"});
    for (JsonNode w : json.path("workers")) {
      List<String> labels = new ArrayList<>();
      w.path("labels")
          .properties()
          .forEach(e -> labels.add(e.getKey() + "=" + e.getValue().asText()));
      workers.add(
          new String[] {
            w.path("workerId").asText(),
            w.path("nodeAddress").asText(),
            w.path("cores").asText(),
            String.format(Locale.ROOT, "%.1f GiB", w.path("memoryBytes").asDouble() / (1L << 30)),
            String.format(Locale.ROOT, "%.1f", w.path("cpuGflops").asDouble()),
            w.path("backend").asText(),
            String.join(",", labels)
          });
    }
    List<String[]> quarantined = new ArrayList<>();
    quarantined.add(new String[] {"WORKER", "SINCE", "INVALID", "VALID", "REASON"});
    for (JsonNode q : json.path("quarantined")) {
      long at = q.path("quarantinedAtEpochMs").asLong();
      quarantined.add(
          new String[] {
            q.path("workerId").asText(),
            at > 0 ? java.time.Instant.ofEpochMilli(at).toString() : "-",
            q.path("invalidResults").asText(),
            q.path("validResults").asText(),
            q.path("quarantineReason").asText()
          });
    }
    boolean schedulers = false;
    for (JsonNode m : json.path("members")) {
      for (JsonNode r : m.path("roles")) {
        schedulers |= r.asText().equals("scheduler");
      }
    }
    String registryNote =
        schedulers || workers.size() > 1
            ? ""
            : "no member has the scheduler role: the registry is kept by scheduler nodes, and"
                + " workers' nodes send their registrations when one joins\n";
    return "Members ("
        + (members.size() - 1)
        + ", leader "
        + json.path("leader").asText("-")
        + ")\n"
        + table(members)
        + "\nWorkers in the registry ("
        + (workers.size() - 1)
        + ")\n"
        + registryNote
        + table(workers)
        + "\nQuarantined workers ("
        + (quarantined.size() - 1)
        + ")\n"
        + (quarantined.size() == 1 ? "none\n" : table(quarantined));
  }

  private static String table(List<String[]> rows) {
    int[] widths = new int[rows.get(0).length];
    for (String[] row : rows) {
      for (int i = 0; i < row.length; i++) {
        widths[i] = Math.max(widths[i], row[i].length());
      }
    }
    StringBuilder sb = new StringBuilder();
    for (String[] row : rows) {
      for (int i = 0; i < row.length; i++) {
        sb.append(i == row.length - 1 ? row[i] : String.format("%-" + widths[i] + "s  ", row[i]));
      }
      sb.append('\n');
    }
    return sb.toString();
  }
}

package io.flotilla.deploy.manifests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HTTPGetAction;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * deploy/k8s: every manifest parses strictly into the Kubernetes model, and what the manifests
 * promise matches what the nodes do: probes hit the health paths on the port the node serves them
 * on, seed addresses are the names the seed StatefulSet and its headless Service give, every
 * environment variable is one a node reads, and every reference (ConfigMap, Secret, port, selector)
 * resolves.
 */
class KubernetesManifestsTest {

  private static final Path DIR = NodeEnvironment.MODULE.resolve("k8s");
  private static final Pattern REFERENCE = Pattern.compile("\\$\\(([A-Za-z_][A-Za-z0-9_]*)\\)");
  private static final Set<String> NODE_COMMANDS = Set.of("seed", "scheduler", "worker");

  private static List<HasMetadata> resources;
  private static List<Workload> workloads;

  /** A Deployment or StatefulSet, reduced to what the checks need. */
  record Workload(
      String kind, String name, PodTemplateSpec template, int replicas, String service) {
    Container container() {
      assertThat(template.getSpec().getContainers()).as(name + " containers").hasSize(1);
      return template.getSpec().getContainers().get(0);
    }
  }

  @BeforeAll
  static void parse() throws IOException {
    resources = KubernetesManifests.parseDirectory(DIR);
    workloads = new ArrayList<>();
    for (HasMetadata r : resources) {
      if (r instanceof Deployment d) {
        workloads.add(
            new Workload(
                "Deployment",
                d.getMetadata().getName(),
                d.getSpec().getTemplate(),
                d.getSpec().getReplicas(),
                null));
      } else if (r instanceof StatefulSet s) {
        workloads.add(
            new Workload(
                "StatefulSet",
                s.getMetadata().getName(),
                s.getSpec().getTemplate(),
                s.getSpec().getReplicas(),
                s.getSpec().getServiceName()));
      }
    }
  }

  @Test
  void theClusterIsComplete() {
    assertThat(workloads)
        .extracting(w -> w.kind() + "/" + w.name())
        .contains(
            "StatefulSet/flotilla-seed",
            "Deployment/flotilla-worker",
            "Deployment/flotilla-scheduler",
            "StatefulSet/flotilla-ledger");
    assertThat(of(Service.class))
        .extracting(s -> s.getMetadata().getName())
        .contains("flotilla-seed", "flotilla-scheduler");
    assertThat(of(ConfigMap.class)).isNotEmpty();
    assertThat(of(Secret.class)).isNotEmpty();
  }

  @Test
  void everyResourceLivesInTheFlotillaNamespace() {
    List<Namespace> namespaces = of(Namespace.class);
    assertThat(namespaces).hasSize(1);
    String ns = namespaces.get(0).getMetadata().getName();
    for (HasMetadata r : resources) {
      if (!(r instanceof Namespace)) {
        assertThat(r.getMetadata().getNamespace()).as(describe(r) + " namespace").isEqualTo(ns);
      }
    }
  }

  @Test
  void everyContainerRunsAFlotillaNodeCommandThatParses() {
    for (Workload w : workloads) {
      Container c = w.container();
      assertThat(c.getCommand())
          .as(w.name() + " command (the image entrypoint runs)")
          .isNullOrEmpty();
      List<String> args = c.getArgs();
      assertThat(args).as(w.name() + " args").isNotEmpty();
      assertThat(NODE_COMMANDS).as(w.name() + " node command").contains(args.get(0));
      NodeEnvironment.parseCommand(args);
      assertThat(c.getImage()).as(w.name() + " image").startsWith("flotilla:");
    }
  }

  @Test
  void probesHitTheHealthEndpointsOnThePortTheNodeServesThem() {
    String defaultPort = NodeEnvironment.defaultOf("flotilla.gossip.http.port");
    String defaultHost = NodeEnvironment.defaultOf("flotilla.gossip.http.host");
    for (Workload w : workloads) {
      Container c = w.container();
      Map<String, String> env = environment(c);
      int served = Integer.parseInt(env.getOrDefault("FLOTILLA_HTTP_PORT", defaultPort));
      assertThat(env.getOrDefault("FLOTILLA_HTTP_HOST", defaultHost))
          .as(w.name() + ": the kubelet probes the pod address, so FLOTILLA_HTTP_HOST")
          .isEqualTo("0.0.0.0");
      checkProbe(w, c, c.getReadinessProbe(), NodeEnvironment.readinessPath(), served);
      checkProbe(w, c, c.getLivenessProbe(), NodeEnvironment.livenessPath(), served);
    }
  }

  @Test
  void prometheusScrapesTheMetricsRouteOnThePortTheNodeServesIt() {
    String defaultPort = NodeEnvironment.defaultOf("flotilla.gossip.http.port");
    for (Workload w : workloads) {
      Map<String, String> env = environment(w.container());
      Map<String, String> annotations = w.template().getMetadata().getAnnotations();
      assertThat(annotations).as(w.name() + " pod annotations").isNotNull();
      assertThat(annotations.get("prometheus.io/scrape")).as(w.name()).isEqualTo("true");
      assertThat(annotations.get("prometheus.io/port"))
          .as(w.name() + ": the node's HTTP port")
          .isEqualTo(env.getOrDefault("FLOTILLA_HTTP_PORT", defaultPort));
      assertThat(annotations.get("prometheus.io/path"))
          .as(w.name() + ": the route io.flotilla.gossip.http.MetricsRoutes serves")
          .isEqualTo("/metrics");
    }
  }

  @Test
  void clusterAndApiPortsAreTheOnesTheNodesListenOn() {
    for (Workload w : workloads) {
      Container c = w.container();
      Map<String, String> env = environment(c);
      assertThat(containerPort(c, "cluster"))
          .as(w.name() + " cluster port")
          .isEqualTo(
              Integer.parseInt(
                  env.getOrDefault(
                      "FLOTILLA_PORT", NodeEnvironment.defaultOf("flotilla.gossip.port"))));
      if (c.getArgs().get(0).equals("scheduler")) {
        assertThat(containerPort(c, "api"))
            .as(w.name() + " jobs API port")
            .isEqualTo(
                Integer.parseInt(
                    env.getOrDefault(
                        "FLOTILLA_API_PORT",
                        NodeEnvironment.defaultOf("flotilla.scheduler.http.port"))));
        assertThat(env.get("FLOTILLA_API_HOST"))
            .as(w.name() + ": the Service reaches the API on the pod address")
            .isEqualTo("0.0.0.0");
      }
      if (c.getArgs().get(0).equals("worker")) {
        ContainerPort data = port(c, "data");
        assertThat(data.getProtocol()).isEqualTo("UDP");
        assertThat(data.getContainerPort())
            .isEqualTo(
                Integer.parseInt(
                    env.getOrDefault(
                        "FLOTILLA_DATA_PORT",
                        NodeEnvironment.defaultOf("flotilla.worker.data-plane.port"))));
      }
    }
  }

  @Test
  void seedAddressesAreTheStableNamesOfTheSeedStatefulSet() {
    for (Workload w : workloads) {
      Map<String, String> env = environment(w.container());
      String seeds = env.get("FLOTILLA_SEEDS");
      assertThat(seeds).as(w.name() + " FLOTILLA_SEEDS").isNotBlank();
      for (String seed : seeds.split(",")) {
        Matcher m = Pattern.compile("([a-z0-9-]+)-(\\d+)\\.([a-z0-9-]+):(\\d+)").matcher(seed);
        assertThat(m.matches())
            .as("seed '" + seed + "' is <statefulset>-<n>.<service>:<port>")
            .isTrue();
        Workload set =
            workloads.stream()
                .filter(x -> x.kind().equals("StatefulSet") && x.name().equals(m.group(1)))
                .findFirst()
                .orElseThrow(
                    () -> new AssertionError("seed " + seed + ": no StatefulSet " + m.group(1)));
        assertThat(set.container().getArgs().get(0))
            .as(set.name() + " runs seeds")
            .isEqualTo("seed");
        assertThat(Integer.parseInt(m.group(2))).as(seed + " ordinal").isLessThan(set.replicas());
        assertThat(set.service()).as(seed + " service").isEqualTo(m.group(3));
        Service headless = service(m.group(3));
        assertThat(headless.getSpec().getClusterIP())
            .as(m.group(3) + " is headless")
            .isEqualTo("None");
        assertThat(headless.getSpec().getPublishNotReadyAddresses())
            .as(m.group(3) + " resolves seeds before they are ready")
            .isTrue();
        assertThat(set.template().getMetadata().getLabels())
            .containsAllEntriesOf(headless.getSpec().getSelector());
        Map<String, String> seedEnv = environment(set.container());
        assertThat(Integer.parseInt(m.group(4)))
            .as(seed + " port")
            .isEqualTo(Integer.parseInt(seedEnv.getOrDefault("FLOTILLA_PORT", "2552")))
            .isEqualTo(containerPort(set.container(), "cluster"));
        // The seed must call itself by the very name the others dial: Pekko compares addresses.
        assertThat(seedEnv.get("FLOTILLA_HOST"))
            .as(set.name() + " FLOTILLA_HOST")
            .isEqualTo("$(POD_NAME)." + set.service());
        EnvVar podName = envVar(set.container(), "POD_NAME");
        assertThat(podName.getValueFrom().getFieldRef().getFieldPath()).isEqualTo("metadata.name");
      }
    }
  }

  @Test
  void everyEnvironmentVariableIsOneTheNodesRead() {
    Set<String> known = NodeEnvironment.variables();
    assertThat(known).contains("FLOTILLA_SEEDS", "FLOTILLA_HOST", "FLOTILLA_DB_PROFILE");
    for (Workload w : workloads) {
      Container c = w.container();
      Set<String> referenced = new TreeSet<>();
      for (EnvVar e : c.getEnv()) {
        if (e.getValue() != null) {
          Matcher m = REFERENCE.matcher(e.getValue());
          while (m.find()) {
            referenced.add(m.group(1));
          }
        }
      }
      for (String name : environment(c).keySet()) {
        if (name.startsWith("FLOTILLA_")) {
          assertThat(known).as(w.name() + ": no node reads " + name).contains(name);
        } else {
          assertThat(referenced)
              .as(w.name() + ": " + name + " is neither a node setting nor used by one")
              .contains(name);
        }
      }
      assertThat(known)
          .as(w.name() + " $(...) references")
          .containsAll(referenced.stream().filter(n -> n.startsWith("FLOTILLA_")).toList());
      for (String name : referenced) {
        assertThat(environment(c)).as(w.name() + ": $(" + name + ") is defined").containsKey(name);
      }
    }
    for (Secret secret : of(Secret.class)) {
      assertThat(known).as("secret keys").containsAll(secret.getStringData().keySet());
    }
  }

  @Test
  void configMapAndSecretReferencesResolve() {
    for (Workload w : workloads) {
      Container c = w.container();
      for (EnvFromSource from : c.getEnvFrom()) {
        assertThat(from.getConfigMapRef()).as(w.name() + " envFrom").isNotNull();
        configMap(from.getConfigMapRef().getName());
      }
      for (EnvVar e : c.getEnv()) {
        if (e.getValueFrom() == null) {
          continue;
        }
        if (e.getValueFrom().getSecretKeyRef() != null) {
          var ref = e.getValueFrom().getSecretKeyRef();
          assertThat(secret(ref.getName()).getStringData())
              .as(w.name() + " " + e.getName() + " from secret " + ref.getName())
              .containsKey(ref.getKey());
        }
        if (e.getValueFrom().getConfigMapKeyRef() != null) {
          var ref = e.getValueFrom().getConfigMapKeyRef();
          assertThat(configMap(ref.getName()).getData()).containsKey(ref.getKey());
        }
        if (e.getValueFrom().getResourceFieldRef() != null) {
          assertThat(e.getValueFrom().getResourceFieldRef().getContainerName())
              .isEqualTo(c.getName());
        }
      }
    }
  }

  @Test
  void servicesSelectPodsAndTargetTheirNamedPorts() {
    for (Service s : of(Service.class)) {
      Map<String, String> selector = s.getSpec().getSelector();
      assertThat(selector).as(describe(s) + " selector").isNotEmpty();
      List<Workload> selected =
          workloads.stream()
              .filter(
                  w ->
                      w.template()
                          .getMetadata()
                          .getLabels()
                          .entrySet()
                          .containsAll(selector.entrySet()))
              .toList();
      assertThat(selected).as(describe(s) + " selects pods").isNotEmpty();
      for (ServicePort p : s.getSpec().getPorts()) {
        for (Workload w : selected) {
          IntOrString target = p.getTargetPort();
          int port =
              target.getStrVal() != null
                  ? containerPort(w.container(), target.getStrVal())
                  : target.getIntVal();
          assertThat(w.container().getPorts())
              .extracting(ContainerPort::getContainerPort)
              .as(describe(s) + " port " + p.getName() + " on " + w.name())
              .contains(port);
        }
      }
    }
    for (Workload w : workloads) {
      if (w.service() != null) {
        service(w.service());
      }
    }
  }

  @Test
  void aBrokenManifestIsRejected() throws IOException {
    String deployment =
        """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: x
        spec:
          replica: 2
          selector:
            matchLabels: {app: x}
          template:
            metadata:
              labels: {app: x}
            spec:
              containers:
                - name: x
                  image: flotilla:1
        """;
    assertThatThrownBy(() -> KubernetesManifests.parse("typo.yaml", deployment))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("typo.yaml document 1")
        .hasMessageContaining("Deployment.spec.replica");
    String misplaced =
        deployment
            .replace("replica: 2", "replicas: 2")
            .replace(
                "image: flotilla:1",
                "image: flotilla:1\n          readinessProbe: {path: /health/ready}");
    assertThatThrownBy(() -> KubernetesManifests.parse("probe.yaml", misplaced))
        .hasMessageContaining("readinessProbe.path");
    assertThatThrownBy(
            () ->
                KubernetesManifests.parse(
                    "type.yaml", deployment.replace("replica: 2", "replicas: two")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("type.yaml");
    assertThatThrownBy(
            () ->
                KubernetesManifests.parse(
                    "kind.yaml", deployment.replace("kind: Deployment", "kind: Deploymnet")))
        .hasMessageContaining("unsupported apiVersion/kind apps/v1/Deploymnet");
    assertThat(
            KubernetesManifests.parse(
                "fixed.yaml", deployment.replace("replica: 2", "replicas: 2")))
        .hasSize(1);
  }

  private static void checkProbe(Workload w, Container c, Probe probe, String path, int served) {
    assertThat(probe).as(w.name() + " probe for " + path).isNotNull();
    HTTPGetAction get = probe.getHttpGet();
    assertThat(get).as(w.name() + " probe for " + path + " is an HTTP GET").isNotNull();
    assertThat(get.getPath()).as(w.name() + " probe path").isEqualTo(path);
    IntOrString port = get.getPort();
    int resolved = port.getStrVal() != null ? containerPort(c, port.getStrVal()) : port.getIntVal();
    assertThat(resolved)
        .as(w.name() + " probe port " + port + " is the node's HTTP port")
        .isEqualTo(served);
  }

  /** The container's environment as far as literal values go ({@code null} for computed ones). */
  private static Map<String, String> environment(Container c) {
    Map<String, String> env = new LinkedHashMap<>();
    for (EnvFromSource from : c.getEnvFrom()) {
      if (from.getConfigMapRef() != null) {
        env.putAll(configMap(from.getConfigMapRef().getName()).getData());
      }
    }
    for (EnvVar e : c.getEnv()) {
      env.put(e.getName(), e.getValue());
    }
    return env;
  }

  private static EnvVar envVar(Container c, String name) {
    return c.getEnv().stream()
        .filter(e -> e.getName().equals(name))
        .findFirst()
        .orElseThrow(() -> new AssertionError(c.getName() + " has no env " + name));
  }

  private static ContainerPort port(Container c, String name) {
    return c.getPorts().stream()
        .filter(p -> name.equals(p.getName()))
        .findFirst()
        .orElseThrow(() -> new AssertionError(c.getName() + " has no port named " + name));
  }

  private static int containerPort(Container c, String name) {
    return port(c, name).getContainerPort();
  }

  private static <T extends HasMetadata> List<T> of(Class<T> type) {
    return resources.stream().filter(type::isInstance).map(type::cast).toList();
  }

  private static <T extends HasMetadata> T named(Class<T> type, String name) {
    Optional<T> found =
        of(type).stream().filter(r -> r.getMetadata().getName().equals(name)).findFirst();
    return found.orElseThrow(() -> new AssertionError("no " + type.getSimpleName() + " " + name));
  }

  private static ConfigMap configMap(String name) {
    return named(ConfigMap.class, name);
  }

  private static Secret secret(String name) {
    return named(Secret.class, name);
  }

  private static Service service(String name) {
    return named(Service.class, name);
  }

  private static String describe(HasMetadata r) {
    return r.getKind() + "/" + r.getMetadata().getName();
  }
}

package io.flotilla.deploy.manifests;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Parses Kubernetes manifests into the typed fabric8 model, strictly: a field the Kubernetes API
 * does not define (a typo, a wrong indentation level) is an error, as is a kind or apiVersion this
 * deployment does not use.
 */
final class KubernetesManifests {

  private static final Map<String, Class<? extends HasMetadata>> KINDS =
      Map.of(
          "v1/Namespace", Namespace.class,
          "v1/ConfigMap", ConfigMap.class,
          "v1/Secret", Secret.class,
          "v1/Service", Service.class,
          "apps/v1/Deployment", Deployment.class,
          "apps/v1/StatefulSet", StatefulSet.class);

  private static final ObjectMapper YAML =
      new ObjectMapper(new YAMLFactory())
          .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
          .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY);

  private KubernetesManifests() {}

  /** Every resource in every *.yaml file of {@code dir}, in file order. */
  static List<HasMetadata> parseDirectory(Path dir) throws IOException {
    List<HasMetadata> all = new ArrayList<>();
    try (Stream<Path> files = Files.list(dir)) {
      for (Path file : files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList()) {
        all.addAll(parse(file.getFileName().toString(), Files.readString(file)));
      }
    }
    return all;
  }

  /**
   * The resources of one multi-document YAML text.
   *
   * @throws IllegalArgumentException naming the source, document and what is wrong
   */
  static List<HasMetadata> parse(String source, String yaml) throws IOException {
    List<HasMetadata> resources = new ArrayList<>();
    int index = 0;
    List<JsonNode> documents;
    try (MappingIterator<JsonNode> docs = YAML.readerFor(JsonNode.class).readValues(yaml)) {
      documents = docs.readAll();
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalArgumentException(source + ": " + e.getOriginalMessage(), e);
    }
    for (JsonNode doc : documents) {
      index++;
      if (doc == null || doc.isNull() || doc.isMissingNode() || doc.isEmpty()) {
        continue;
      }
      String where = source + " document " + index;
      String key = doc.path("apiVersion").asText() + "/" + doc.path("kind").asText();
      Class<? extends HasMetadata> type = KINDS.get(key);
      if (type == null) {
        throw new IllegalArgumentException(
            where + ": unsupported apiVersion/kind " + key + "; allowed: " + KINDS.keySet());
      }
      HasMetadata resource;
      try {
        resource = YAML.treeToValue(doc, type);
      } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
        throw new IllegalArgumentException(where + ": " + e.getOriginalMessage(), e);
      }
      List<String> unknown = new ArrayList<>();
      unknownFields(resource, doc.path("kind").asText(), unknown);
      if (!unknown.isEmpty()) {
        throw new IllegalArgumentException(where + ": fields Kubernetes does not know: " + unknown);
      }
      if (resource.getMetadata() == null || resource.getMetadata().getName() == null) {
        throw new IllegalArgumentException(where + ": metadata.name is missing");
      }
      resources.add(resource);
    }
    return resources;
  }

  /**
   * Collects the fields the fabric8 model kept as "additional properties": those its schema (the
   * Kubernetes API) does not define.
   */
  private static void unknownFields(Object value, String path, List<String> out) {
    if (value == null) {
      return;
    }
    if (value instanceof Map<?, ?> map) {
      map.forEach((k, v) -> unknownFields(v, path + "." + k, out));
      return;
    }
    if (value instanceof Collection<?> items) {
      int i = 0;
      for (Object item : items) {
        unknownFields(item, path + "[" + i++ + "]", out);
      }
      return;
    }
    if (!value.getClass().getName().startsWith("io.fabric8.kubernetes.api.model")) {
      return;
    }
    for (Method getter : value.getClass().getMethods()) {
      String name = getter.getName();
      if (getter.getParameterCount() != 0
          || !name.startsWith("get")
          || Modifier.isStatic(getter.getModifiers())
          || getter.getDeclaringClass() == Object.class
          || getter.isDefault()) {
        continue;
      }
      Object field;
      try {
        field = getter.invoke(value);
      } catch (IllegalAccessException | InvocationTargetException e) {
        continue;
      }
      if (name.equals("getAdditionalProperties")) {
        if (field instanceof Map<?, ?> extra && !extra.isEmpty()) {
          extra.keySet().forEach(k -> out.add(path + "." + k));
        }
      } else {
        String child = Character.toLowerCase(name.charAt(3)) + name.substring(4);
        unknownFields(field, path + "." + child, out);
      }
    }
  }
}

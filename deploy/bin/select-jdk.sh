# Selects a JDK >= 21 for Flotilla's scripts. Source it, then use "$FLOTILLA_JAVA".
# Order: JAVA_HOME when it holds a JDK >= 21, else the newest JDK >= 21 under /usr/lib/jvm,
# else fail with a message saying what to install. Exports JAVA_HOME for Maven as well.

flotilla_java_version() {
  # Prints the feature version (17, 21, 25, ...) of the java binary $1, or nothing.
  "$1" -XshowSettings:properties -version 2>&1 |
    sed -n 's/^ *java\.specification\.version = \([0-9.]*\).*/\1/p' | sed 's/^1\.//' | cut -d. -f1
}

flotilla_select_jdk() {
  local min=21 candidate version best="" best_version=0
  if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then
    version=$(flotilla_java_version "$JAVA_HOME/bin/java")
    if [ -n "$version" ] && [ "$version" -ge "$min" ]; then
      FLOTILLA_JAVA="$JAVA_HOME/bin/java"
      FLOTILLA_JAVA_VERSION="$version"
      export JAVA_HOME FLOTILLA_JAVA FLOTILLA_JAVA_VERSION
      return 0
    fi
  fi
  for candidate in /usr/lib/jvm/*/bin/java; do
    [ -x "$candidate" ] || continue
    version=$(flotilla_java_version "$candidate")
    if [ -n "$version" ] && [ "$version" -ge "$min" ] && [ "$version" -gt "$best_version" ]; then
      best="$candidate"
      best_version="$version"
    fi
  done
  if [ -z "$best" ]; then
    echo "error: Flotilla needs a JDK $min or newer. JAVA_HOME=${JAVA_HOME:-<unset>} is not one and none was found under /usr/lib/jvm. Install one (e.g. apt-get install openjdk-21-jdk-headless) or point JAVA_HOME at it." >&2
    return 1
  fi
  FLOTILLA_JAVA="$best"
  FLOTILLA_JAVA_VERSION="$best_version"
  JAVA_HOME="$(dirname "$(dirname "$best")")"
  export JAVA_HOME FLOTILLA_JAVA FLOTILLA_JAVA_VERSION
}

#!/usr/bin/env bash
# Installs what the local Cassandra needs, only when it is missing:
# a Java 11/17 runtime and Maven (which fetches Cassandra from Maven Central).
# Nothing is needed when CQLENGINE_TEST_HOSTS names an existing cluster.
set -euo pipefail

java_ok() {
  local java="${JAVA_HOME:+$JAVA_HOME/bin/}java"
  command -v "$java" >/dev/null 2>&1 || return 1
  local major
  major=$("$java" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1)
  [ "${major:-0}" = 11 ] || [ "${major:-0}" = 17 ]
}

missing=()
java_ok || missing+=(openjdk-17-jre-headless)
command -v mvn >/dev/null 2>&1 || missing+=(maven)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ -n "${CASSANDRA_HOME:-}" ] && java_ok; then
  exit 0  # an installed distribution needs no Maven
fi

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing ${missing[*]} ..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
elif [ -n "${CQLENGINE_TEST_HOSTS:-}" ]; then
  # The suite runs against that cluster; only the launcher's own tests need Java and Maven.
  echo "warning: missing ${missing[*]}: the tests of the local launcher will fail" >&2
else
  echo "error: missing ${missing[*]}: install them (Java 11 or 17 and Maven), set CASSANDRA_HOME," >&2
  echo "or point CQLENGINE_TEST_HOSTS at a running Cassandra." >&2
  exit 1
fi

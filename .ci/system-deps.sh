#!/usr/bin/env bash
# System packages the project needs: Graphviz's `dot` (graph rendering) and Debian's chromium
# (the HTML stepper's browser tests). Installed with apt when missing and apt is usable; otherwise
# says what to install and carries on (the tests that need them then skip with that reason).
set -u
need=()
command -v dot >/dev/null 2>&1 || need+=(graphviz)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
  echo "system-deps: please install: ${need[*]} (e.g. sudo apt-get install ${need[*]})" >&2; exit 0; fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "system-deps: no apt-get here; please install: ${need[*]}" >&2; exit 0; fi
echo "system-deps: installing ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null

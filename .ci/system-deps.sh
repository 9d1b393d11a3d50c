#!/usr/bin/env bash
# System packages the project needs, installed with apt when missing and apt is usable; otherwise this
# says what to install and carries on (tests that need a missing one skip, saying why).
#   system-deps.sh run   Graphviz's `dot` (graphs to SVG)
#   system-deps.sh test  also Debian's chromium (browser tests of the HTML pages) and
#                        dataset-fashion-mnist (the full Fashion-MNIST test of project 03's loader)
set -u
need=()
command -v dot >/dev/null 2>&1 || need+=(graphviz)
if [ "${1:-run}" = test ]; then
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
  [ -d /usr/share/datasets/fashion-mnist ] || need+=(dataset-fashion-mnist)
fi
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
  echo "system-deps: please install: ${need[*]} (e.g. sudo apt-get install ${need[*]})" >&2; exit 0; fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "system-deps: no apt-get here; please install: ${need[*]}" >&2; exit 0; fi
echo "system-deps: installing ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null

#!/usr/bin/env bash
# Install dlict on a fresh Debian/Ubuntu machine (as root), then run the demo or every test.
#
#   bash bootstrap.sh demo   install, start a simulated district (lab/), run dlict on it
#   bash bootstrap.sh test   install, then lint, type-check and run the whole test suite
#
# Safe to run again: it installs only what is missing and reuses the cached fleet image.
set -euo pipefail
cd "$(dirname "$0")"

usage() { echo "usage: bash bootstrap.sh demo|test" >&2; exit 2; }
[ $# -eq 1 ] || usage
case "$1" in demo|test) ;; *) usage ;; esac
if [ "$(id -u)" -ne 0 ]; then
  echo "bootstrap.sh: run as root: the simulated district uses network namespaces" >&2
  exit 2
fi

APT_PACKAGES=(
  python3 python3-venv python3-pip python3-dev gcc   # dlict's virtual environment
  openssh-client                                      # Ansible reaches hosts over SSH
  debootstrap iproute2 util-linux procps              # the test fleet: image, namespaces
  python3-cryptography                                # the log server's sealer (zipapp), tested as it runs there
  sqlite3 git ca-certificates make
  prometheus prometheus-alertmanager                  # dlict monitor's Prometheus side: promtool, rule tests
  prometheus-smokeping-prober fping                   # the anchors the probe benchmarks compare with
  ieee-data                                           # dlict netscan discover: vendors of MAC addresses
  protobuf-compiler                                   # protoc: the reference remote_write's encoding is tested against
  nftables                                            # lab/schoolnat.py: the school's NAT router namespace
  faketime                                            # an agent whose clock is far off (tests/integration/agent/test_agent_clock.py)
  prometheus-node-exporter prometheus-blackbox-exporter  # the anchors bench/bench_agent.py compares with
  fonts-tlwg-laksaman fonts-tlwg-laksaman-ttf fontconfig  # the Thai font every PDF embeds (TH Sarabun's metrics)
  libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0   # WeasyPrint: PDF reports
  poppler-utils                                       # pdffonts/pdftotext/pdftoppm: tests read the PDFs back
)

install_system_packages() {
  local missing=() pkg
  for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
      || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "== installing Debian packages: ${missing[*]}"
    apt-get update -qq
    # Prometheus and friends are used as programs here: their packages must not start
    # services on this machine (policy-rc.d says so to invoke-rc.d, where none is set).
    local policy=/usr/sbin/policy-rc.d own_policy=0
    if [ ! -e "$policy" ]; then
      printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && own_policy=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
      || { [ "$own_policy" -eq 0 ] || rm -f "$policy"; exit 3; }
    [ "$own_policy" -eq 0 ] || rm -f "$policy"
  fi
}

install_dlict() {
  if ! /usr/bin/python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "bootstrap.sh: dlict needs Python >= 3.11 (Debian 12 or Ubuntu 24.04 and later)" >&2
    exit 3
  fi
  if [ ! -x .venv/bin/python ]; then
    echo "== creating the virtual environment .venv"
    /usr/bin/python3 -m venv .venv
  fi
  echo "== installing dlict and its dependencies into .venv"
  .venv/bin/python -m pip install -q --disable-pip-version-check -e '.[dev]'
}

run_demo() {
  local state=/var/lib/dlict-demo
  local fleet="$state/fleet" data="$state/data"
  mkdir -p "$state"
  chmod 0750 "$state"
  export PATH="$PWD/.venv/bin:$PATH"
  echo "== the embedded example district (addresses on loopback only)"
  dlict -i inventory/example inventory validate
  echo "== starting a simulated district: office log server + 3 schools (network namespaces)"
  # The first run builds the hosts' Debian image (about a minute): progress lines here,
  # debootstrap's and apt's own output in the log, shown only if the build fails.
  .venv/bin/python -m lab build --log "$state/fleet-build.log" >/dev/null
  .venv/bin/python -m lab up --schools 3 --state "$fleet"
  trap '.venv/bin/python -m lab down --state "'"$fleet"'" >/dev/null' EXIT
  local inventory="$fleet/inventory.yml"
  dlict -i "$inventory" --data-dir "$data" inventory validate
  dlict -i "$inventory" --data-dir "$data" inventory show
  echo "== reaching every host over SSH with Ansible (host keys verified)"
  local rc=0
  dlict -i "$inventory" --data-dir "$data" facts || rc=$?
  echo "== applying the SOP 5.5.1-5.5.5 controls (firewall, antivirus, identity, logging, endpoint)"
  dlict -i "$inventory" --data-dir "$data" apply all || rc=$?
  echo "== auditing every control on every host (check mode, nothing changed)"
  dlict -i "$inventory" --data-dir "$data" audit \
    --report "$state/audit-report.html" --json "$state/audit.json" || rc=$?
  echo "== the office log server checks the logs it keeps (SOP 5.5.5: coverage, seals, clocks, fields)"
  ANSIBLE_CONFIG="$PWD/playbooks/ansible.cfg" ansible -i "$inventory" log_servers --become \
    -m ansible.builtin.command \
    -a "/usr/bin/python3 /usr/local/lib/dlict/dlict-logs.pyz check --policy /etc/dlict/logging.json" \
    || rc=$?
  echo "== packets from outside: do only the ports the firewall policy allows answer? (scapy SYN probes)"
  dlict -i "$inventory" --data-dir "$data" --lang en netscan verify || rc=$?
  echo "== one round of school link monitoring (ICMP to every school, as dlict monitor does for Prometheus)"
  dlict -i "$inventory" --data-dir "$data" --lang en monitor --once || rc=$?
  run_device_demo "$state" "$data" || rc=$?
  echo "== a school behind NAT: its agent checks from inside and reports to the office's intake (mutual TLS)"
  .venv/bin/python -m lab agent-demo --data "$data" --state "$state/school-agent" || rc=$?
  echo "== the cyber-security operations report by SOP clause 5.5.1-5.5.5, for the director (PDF, Thai)"
  # Exit 1 means a control fails in the district, which the device audit found on purpose.
  local report_rc=0
  dlict -i "$inventory" --data-dir "$data" report compliance \
    --pdf "$state/compliance.pdf" --html "$state/compliance.html" || report_rc=$?
  [ "$report_rc" -le 1 ] || rc=$report_rc
  echo
  echo "Done. The simulated district has been stopped; what dlict found is kept:"
  echo "  audit report   : $state/audit-report.html (Thai; --lang en for English)"
  echo "  audit results  : $state/audit.json"
  echo "  compliance     : $state/compliance.pdf (SOP 5.5.1-5.5.5 report to sign; HTML beside it)"
  echo "  device configs : $data/netdev/configs (git history), report $state/devices-report.html"
  echo "  evidence store : $data/evidence.sqlite"
  echo "  log file       : $data/logs/dlict.log"
  echo "  see the runs   : .venv/bin/dlict --data-dir $data runs list   (the school agent's: --kind agent)"
  return $rc
}

# Four simulated routers/firewalls (RouterOS, Cisco IOS through FakeNOS, FortiOS) on loopback,
# reached over real SSH with verified host keys. One gateway has Winbox open to the internet
# on purpose: the device audit is expected to find exactly that (exit 1).
run_device_demo() {
  local state="$1" data="$2" devices="$1/devices" rc=0 audit_rc=0
  echo "== network devices: backup over SSH (netmiko), history in git, then the device rules"
  rm -f "$devices/ready"
  .venv/bin/python -m lab devices serve --state "$devices" >"$state/devices.log" 2>&1 &
  local server=$!
  for _ in $(seq 100); do [ -e "$devices/ready" ] && break; sleep 0.1; done
  DLICT_NETDEV_PASSWORD="$(cat "$devices/password")" DLICT_NETDEV_SECRET=Demo-Enable-1 \
    dlict -i "$devices/inventory" --data-dir "$data" --lang en netdev backup || rc=$?
  DLICT_NETDEV_PASSWORD="$(cat "$devices/password")" DLICT_NETDEV_SECRET=Demo-Enable-1 \
    dlict -i "$devices/inventory" --data-dir "$data" --lang en netdev audit \
    --report "$state/devices-report.html" || audit_rc=$?
  kill "$server" && wait "$server" || true
  if [ "$audit_rc" -ne 1 ]; then
    echo "expected the device audit to find the open Winbox (exit 1), got exit $audit_rc" >&2
    rc=$((rc > 0 ? rc : 3))
  fi
  return $rc
}

run_tests() {
  export PATH="$PWD/.venv/bin:$PATH"
  echo "== ruff"
  ruff check src tests bench lab
  echo "== ansible-lint (production profile)"
  (cd playbooks && ansible-lint --offline --profile production --nocolor .)
  echo "== mypy (strict on src/)"
  mypy
  echo "== pytest (unit, integration, test fleet)"
  pytest -q
}

install_system_packages
install_dlict
case "$1" in
  demo) run_demo ;;
  test) run_tests ;;
esac

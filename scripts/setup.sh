#!/usr/bin/env bash
# Installs what skiff and its tests need, creates the unprivileged test user, and
# relaxes /dev/net/tun and /dev/fuse to the modes distributions ship.
# Idempotent: safe to run every time. As a non-root user it only checks.
set -euo pipefail

TEST_USER=${SKIFF_TEST_USER:-skiff-test}
PACKAGES=(
  uidmap fuse-overlayfs fuse3 slirp4netns passt busybox-static iproute2 nftables
  docker-registry skopeo podman catatonit buildah umoci apache2-utils openssl
  tar gzip zstd xz-utils bzip2 jq curl ca-certificates procps util-linux hyperfine
  build-essential pkg-config libssl-dev libseccomp-dev libseccomp2 runc bc file bsdutils
  python3-grpcio python3-venv python3-pip docker.io docker-compose
)
# Reference tools from PyPI, in one virtualenv the tests call by path.
PY_TOOLS_DIR=${SKIFF_PY_TOOLS:-/opt/skiff-py}
PY_TOOLS=(kubernetes-validate)
# Libraries the tests import from that virtualenv, at the versions the issues name.
PY_LIBS=("docker==7.1.0")
# Compose v2: the plugin binary from Debian trixie's docker-compose, unpacked (not
# installed: bookworm keeps its compose 1.29); tests put it in $DOCKER_CONFIG/cli-plugins.
COMPOSE_V2_DIR=${SKIFF_COMPOSE_V2:-/opt/skiff-compose-v2}
# Programs that prove each package is really there (a package can be half-installed).
CHECK_BINS=(xz bzip2 newuidmap newgidmap fuse-overlayfs slirp4netns pasta busybox ip nft
  docker-registry skopeo podman catatonit buildah umoci htpasswd openssl jq curl hyperfine cc runc bc
  docker docker-compose)

say() { printf 'setup: %s\n' "$*" >&2; }

missing_packages() {
  local p
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || echo "$p"
  done
}

missing_py_tools() {
  local t
  for t in "${PY_TOOLS[@]}"; do
    [ -x "$PY_TOOLS_DIR/bin/$t" ] || echo "$t"
  done
}

missing_py_libs() {
  local l
  for l in "${PY_LIBS[@]}"; do
    "$PY_TOOLS_DIR/bin/python" - "$l" >/dev/null 2>&1 <<'PY' || echo "$l"
import importlib.metadata, sys
name, version = sys.argv[1].split("==")
sys.exit(importlib.metadata.version(name) != version)
PY
  done
}

install_py_tools() {
  local miss
  miss="$(missing_py_tools) $(missing_py_libs)"
  miss=$(echo $miss)
  [ -z "$miss" ] && return 0
  say "installing from PyPI into $PY_TOOLS_DIR: $(echo $miss)"
  [ -x "$PY_TOOLS_DIR/bin/pip" ] || /usr/bin/python3 -m venv "$PY_TOOLS_DIR"
  # shellcheck disable=SC2086
  "$PY_TOOLS_DIR/bin/pip" install -q --disable-pip-version-check $miss
}

check_only() {
  local miss bins=() b
  miss=$(missing_packages | tr '\n' ' ')
  for b in "${CHECK_BINS[@]}"; do command -v "$b" >/dev/null 2>&1 || bins+=("$b"); done
  for b in $(missing_py_tools); do bins+=("$PY_TOOLS_DIR/bin/$b"); done
  for b in $(missing_py_libs); do bins+=("python library $b in $PY_TOOLS_DIR"); done
  [ -x "$COMPOSE_V2_DIR/docker-compose" ] || bins+=("$COMPOSE_V2_DIR/docker-compose")
  if [ -z "$miss" ] && [ ${#bins[@]} -eq 0 ]; then
    say "everything skiff needs is installed"
    return 0
  fi
  [ -n "$miss" ] && say "missing packages: $miss"
  [ ${#bins[@]} -gt 0 ] && say "missing programs: ${bins[*]}"
  say "fix with: sudo scripts/setup.sh"
  return 1
}

install_packages() {
  local miss
  miss=$(missing_packages)
  if [ -n "$miss" ]; then
    say "installing: $(echo $miss)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $miss >/dev/null
  fi
  # Debian's docker-registry package starts a system service on port 5000; the tests
  # start their own registries on ports they choose, so keep the packaged one off.
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active -q docker-registry 2>/dev/null; then
    systemctl disable --now docker-registry >/dev/null 2>&1 || true
  fi
}

ensure_cargo() {
  if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
    export PATH="$HOME/.cargo/bin:$PATH"
  fi
  command -v cargo >/dev/null 2>&1 || { say "cargo not found: install a Rust toolchain (rustup)"; exit 1; }
}

ensure_test_user() {
  if ! id "$TEST_USER" >/dev/null 2>&1; then
    say "creating user $TEST_USER"
    useradd --create-home --shell /bin/bash "$TEST_USER"
  fi
  local f
  for f in /etc/subuid /etc/subgid; do
    touch "$f"
    grep -q "^$TEST_USER:" "$f" || {
      # Pick a range past every range already handed out.
      local start
      start=$(awk -F: 'BEGIN{m=100000} {e=$2+$3; if (e>m) m=e} END{print m}' "$f")
      echo "$TEST_USER:$start:65536" >>"$f"
    }
  done
  # The user's runtime dir, as logind would make it.
  local uid
  uid=$(id -u "$TEST_USER")
  install -d -m 0700 -o "$TEST_USER" -g "$TEST_USER" "/run/user/$uid"
}

relax_devices() {
  local d
  for d in /dev/net/tun /dev/fuse; do
    [ -c "$d" ] || continue
    [ "$(stat -c %a "$d")" = 666 ] || chmod 0666 "$d"
  done
}

# Rootless user namespaces must be allowed (Debian kernels may gate them).
# apt-get download from trixie through a private source list and cache: nothing in
# the system's apt configuration changes, and nothing is installed.
ensure_compose_v2() {
  [ -x "$COMPOSE_V2_DIR/docker-compose" ] && return 0
  say "unpacking compose v2 (Debian trixie's docker-compose) into $COMPOSE_V2_DIR"
  local t
  t=$(mktemp -d)
  mkdir -p "$t/lists/partial" "$t/cache/archives/partial"
  echo "deb http://deb.debian.org/debian trixie main" >"$t/sources.list"
  local apt=(-q -o "Dir::Etc::SourceList=$t/sources.list" -o Dir::Etc::SourceParts=/nonexistent
    -o "Dir::State::Lists=$t/lists" -o "Dir::Cache=$t/cache" -o APT::Sandbox::User=root)
  apt-get "${apt[@]}" update >/dev/null
  (cd "$t" && apt-get "${apt[@]}" download docker-compose >/dev/null)
  dpkg-deb -x "$t"/docker-compose_*.deb "$t/root"
  mkdir -p "$COMPOSE_V2_DIR"
  install -m 0755 "$t/root/usr/libexec/docker/cli-plugins/docker-compose" "$COMPOSE_V2_DIR/docker-compose"
  rm -rf "$t"
}

allow_userns() {
  local f=/proc/sys/kernel/unprivileged_userns_clone
  if [ -w "$f" ] && [ "$(cat "$f")" != 1 ]; then echo 1 >"$f"; fi
  f=/proc/sys/user/max_user_namespaces
  if [ -w "$f" ] && [ "$(cat "$f")" = 0 ]; then echo 15000 >"$f"; fi
}

if [ "$(id -u)" -ne 0 ]; then
  check_only
  exit $?
fi

install_packages
install_py_tools
ensure_compose_v2
ensure_cargo
ensure_test_user
relax_devices
allow_userns
check_only

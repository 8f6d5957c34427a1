# Shared by demo.sh, test.sh and bench.sh: set-up, build, and running as the test user.
# shellcheck shell=bash
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TEST_USER=${SKIFF_TEST_USER:-skiff-test}
export PATH="$HOME/.cargo/bin:$PATH"

setup_machine() {
  if [ "$(id -u)" -eq 0 ]; then
    "$TOP/scripts/setup.sh"
  else
    "$TOP/scripts/setup.sh" || { echo "run scripts/setup.sh as root first" >&2; exit 1; }
  fi
}

# Runs a command as the unprivileged test user, in the environment a login gives a
# plain Debian user: its own runtime dir and PATH without the sbin directories.
PLAIN_PATH=/usr/local/bin:/usr/bin:/bin
as_user() {
  local uid
  uid=$(id -u "$TEST_USER")
  runuser -u "$TEST_USER" -- env -i HOME="$(getent passwd "$TEST_USER" | cut -d: -f6)" \
    XDG_RUNTIME_DIR="/run/user/$uid" PATH="$PLAIN_PATH" LANG=C.UTF-8 ${TERM:+TERM=$TERM} "$@"
}

# The start of every bench script: set-up (unless bench.sh did it), a release build.
bench_prologue() {
  [ "${SKIFF_BENCH_NESTED:-}" = 1 ] || setup_machine
  cd "$TOP"
  cargo build --release --quiet
  SK="$TOP/target/release/skiff"
}

# podman's default runtime (crun) refuses this host's hybrid cgroups and its default
# ulimits exceed the hard limits here: a containers.conf with runc and explicit limits
# (for root and the test user alike), written to FILE.
write_podman_conf() {
  cat >"$1" <<'CONF'
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[engine]
runtime = "runc"
CONF
  chmod 644 "$1"
}

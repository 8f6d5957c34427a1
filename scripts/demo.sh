#!/usr/bin/env bash
# Installs what is missing, builds skiff, makes the default image from the host's
# busybox-static (no network), and shows it working rootless.
set -euo pipefail
. "$(dirname "$0")/common.sh"
setup_machine
cd "$TOP"
cargo build --release --quiet
# Installed for every user: binary, completions and man pages; the demo calls it by name.
"$TOP/scripts/install.sh" "$TOP/target/release/skiff"
BIN=skiff
DEMO=/tmp/skiff-demo
rm -rf "$DEMO" && install -d -m 0755 -o "$TEST_USER" "$DEMO"
skiff() { as_user "$BIN" --root "$DEMO/root" --runroot "$DEMO/run" "$@"; }

echo "== making localhost/busybox:latest from the host's busybox-static (rootless, as $TEST_USER)"
start=$(date +%s%N)
as_user "$TOP/scripts/mkimage-busybox.sh" "$BIN" --root "$DEMO/root" --runroot "$DEMO/run" >/dev/null
echo "   done in $(( ($(date +%s%N) - start) / 1000000 )) ms"
skiff images
echo
echo "== the image's files keep their in-image owners inside the storage user namespace"
skiff unshare sh -c 'id; ls -ln "$SKIFF_ROOT"/layers/*/diff/etc/passwd'
echo
echo "== a rootless container"
skiff run --rm localhost/busybox:latest sh -c 'echo "hello from $(hostname), I am $(id -un) (uid $(id -u)) in a container"; grep -E "^(Cap(Eff|Bnd)|Seccomp):" /proc/self/status; echo "uid map:"; cat /proc/self/uid_map'
echo
echo "== a detached one: its own supervisor keeps it, logs, exec and ps see it"
skiff run -d --name demo-counter localhost/busybox:latest sh -c 'i=0; while true; do echo "tick $i"; i=$((i+1)); sleep 0.2; done' >/dev/null
sleep 1
skiff ps
skiff logs --tail 3 demo-counter
echo "-- exec ps inside it:"
skiff exec demo-counter ps -o pid,user,args
skiff rm -f demo-counter >/dev/null
echo
echo "== a published port: busybox httpd in a rootless container, fetched from the host"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
skiff run -d --name demo-web -p "127.0.0.1:$port:80" localhost/busybox:latest \
  sh -c 'mkdir -p /www; echo "hello over slirp4netns from $(hostname)" > /www/index.html; exec httpd -f -p 80 -h /www' >/dev/null
skiff port demo-web
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$port/" && break; sleep 0.1; done
skiff rm -f demo-web >/dev/null
echo
echo "== a container's changes: diff, commit, cp"
skiff run --name demo-changes localhost/busybox:latest sh -c 'echo "made in a container" > /greeting; rm /bin/vi'
skiff diff demo-changes
skiff commit -q -c 'CMD ["cat", "/greeting"]' demo-changes localhost/greeter >/dev/null
skiff run --rm localhost/greeter
skiff cp demo-changes:/greeting "$DEMO/greeting" && echo "copied out: $(cat "$DEMO/greeting")"
skiff rm demo-changes >/dev/null
skiff rmi localhost/greeter >/dev/null
echo
echo "== a bridge network: two containers talk by name"
skiff network create demo-net >/dev/null
skiff run -d --name demo-api --network demo-net --network-alias api localhost/busybox:latest \
  sh -c 'mkdir -p /www; echo "hello from $(hostname) on $(ip -4 -o addr show eth0 | awk "{print \$4}")" > /www/index.html; exec httpd -f -p 80 -h /www' >/dev/null
skiff run --rm --network demo-net localhost/busybox:latest sh -c 'for _ in $(seq 50); do wget -q -O- http://api/ && break; sleep 0.1; done'
skiff rm -f demo-api >/dev/null
skiff network rm demo-net >/dev/null
echo
echo "== a build: two stages, and a rebuild from the cache"
mkdir -p "$DEMO/ctx"
echo "built by skiff" >"$DEMO/ctx/message.txt"
cat >"$DEMO/ctx/Containerfile" <<'CF'
FROM localhost/busybox:latest AS build
COPY message.txt /src/
RUN tr a-z A-Z < /src/message.txt > /shout.txt
FROM localhost/busybox:latest
COPY --from=build /shout.txt /
CMD ["cat", "/shout.txt"]
CF
chmod -R a+rX "$DEMO/ctx"
skiff build -t localhost/demo-build "$DEMO/ctx" | grep -E "STEP|Using cache|^-->" | head -20
skiff build -t localhost/demo-build "$DEMO/ctx" | grep -c "Using cache" | sed 's/^/steps from the cache on the rebuild: /'
skiff run --rm localhost/demo-build
skiff rmi localhost/demo-build >/dev/null
echo
echo "== round trip through an OCI archive"
skiff save --format oci-archive -o "$DEMO/busybox.tar" localhost/busybox:latest
skiff rmi localhost/busybox:latest
skiff load -i "$DEMO/busybox.tar"
skiff history localhost/busybox:latest

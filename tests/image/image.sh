#!/bin/bash
# The container image (deployments/container/Containerfile), built the way
# `make image` builds it (scripts/build-image, buildah; reused when up to date),
# then checked as stored and as exported to build/image/rootfs:
# size, OCI labels, env and entrypoint as upstream's, the binaries hardened like
# the Debian package's, the binaries and the GPU Operator's init-container
# command run inside it, and the image's nvidia-vgpu-dm lays out a simulated
# host mounted at /host. Slow on a cold cache (mmdebstrap): its own suite, 'image'.
. "$VGPUDM_SRCDIR/tests/e2e/lib.sh"
SRC=$(realpath "$VGPUDM_SRCDIR")
IMG=${IMAGE_DIR:-$SRC/build/image}
LIMIT=$((40 * 1000 * 1000)) # bytes: issue 16's target, "under 40 MB"

if ! "$SRC/scripts/build-image" "$IMG" >"$T_TMP/build.log" 2>&1; then
	fail "scripts/build-image"
	tail -60 "$T_TMP/build.log" | sed 's/^/    /'
	finish
fi
pass "scripts/build-image ($(grep -c 'STEP' "$T_TMP/build.log") build steps run; $(tail -1 "$T_TMP/build.log" | cut -c1-120))"
RF=$IMG/rootfs
VERSION=$(sed -n "s/^ *version *: *'\([^']*\)'.*/\1/p" "$SRC/meson.build" | head -1)
TAG=localhost/vgpu-dm:$VERSION

# --- size ---
size=$(du -sb "$RF" | cut -f1)
expect_eq "$(cat "$IMG/size")" "$size" "the size build-image reports is the root file system's"
if [ "$size" -lt "$LIMIT" ]; then pass "image size $((size / 1024)) KiB < 40 MB"
else fail "image size $size bytes, not under 40 MB"; fi
layers=$(buildah --root "$IMG/storage" --runroot "$IMG/run" --storage-driver vfs \
	images --format '{{.Size}}' "$TAG" 2>&1)
case $layers in
*MB | *kB) pass "buildah's image store lists $TAG ($layers)" ;;
*) fail "buildah images $TAG: $layers" ;;
esac

# --- OCI config: entrypoint, env, user, labels (as upstream's image) ---
cfg() { python3 -c 'import json,sys; c=json.load(open(sys.argv[1]))["config"]; print(eval(sys.argv[2]))' "$IMG/image.json" "$1"; }
expect_eq "$(cfg 'json.dumps(c.get("Entrypoint"))')" '["nvidia-k8s-vgpu-dm"]' "entrypoint nvidia-k8s-vgpu-dm, as upstream's"
expect_eq "$(cfg 'json.dumps(c.get("Cmd"))')" 'null' "no Cmd: the operator's DaemonSet passes no args"
expect_eq "$(cfg '"\n".join(e for e in c["Env"] if e.startswith("NVIDIA_"))')" "NVIDIA_VISIBLE_DEVICES=void" \
	"NVIDIA_VISIBLE_DEVICES=void, as upstream's"
expect_eq "$(cfg 'c.get("User")')" "0:0" "runs as root, as upstream's"
label() { cfg "c[\"Labels\"].get(\"org.opencontainers.image.$1\", \"\")"; }
expect_eq "$(label version)" "$VERSION" "label org.opencontainers.image.version"
expect_eq "$(label licenses)" "Apache-2.0" "label org.opencontainers.image.licenses"
expect_eq "$(label title)" "vgpu-dm" "label org.opencontainers.image.title"
rev=$(label revision)
case $rev in
"$(git -C "$SRC" rev-parse HEAD)"*) pass "label org.opencontainers.image.revision is HEAD ($rev)" ;;
*) fail "label org.opencontainers.image.revision '$rev' is not $(git -C "$SRC" rev-parse HEAD)" ;;
esac
created=$(label created)
expect_eq "$created" "$(date -u -d "@$(git -C "$SRC" log -1 --format=%ct)" +%Y-%m-%dT%H:%M:%SZ)" \
	"label org.opencontainers.image.created is the commit's time (reproducible)"
if [ -n "$(label description)" ] && [ -n "$(label vendor)" ]; then pass "labels description and vendor"
else fail "labels description and vendor"; fi
if tar -xOf "$IMG/vgpu-dm.oci.tar" index.json 2>/dev/null | grep -q "$TAG"; then
	pass "the OCI archive holds $TAG"
else fail "the OCI archive $IMG/vgpu-dm.oci.tar does not hold $TAG"; fi

# --- the binaries inside, hardened like the Debian package's ---
# hardened FILE: prints what is missing of BIND_NOW, PIE, RELRO, the stack
# protector (__stack_chk_fail) and FORTIFY (__*_chk); nothing if all are there.
hardened() {
	local d l s
	d=$(readelf -dW "$1") l=$(readelf -lW "$1") s=$(readelf --dyn-syms -W "$1")
	grep -Eq '\(FLAGS\).*BIND_NOW|FLAGS_1.*NOW' <<<"$d" || echo -n "BIND_NOW "
	grep -q 'Position-Independent Executable' <<<"$l" || echo -n "PIE "
	grep -q 'GNU_RELRO' <<<"$l" || echo -n "RELRO "
	grep -q '__stack_chk_fail' <<<"$s" || echo -n "stack-protector "
	grep -Eq ' __[a-z]+_chk($|@)' <<<"$s" || echo -n "FORTIFY "
}
for b in nvidia-k8s-vgpu-dm nvidia-vgpu-dm; do
	if [ -x "$RF/usr/bin/$b" ]; then pass "/usr/bin/$b in the image"; else fail "/usr/bin/$b in the image"; continue; fi
	miss=$(hardened "$RF/usr/bin/$b")
	if [ -z "$miss" ]; then pass "$b: BIND_NOW, PIE, RELRO, stack protector, FORTIFY"
	else fail "$b is not hardened: no $miss"; fi
	out=$(chroot "$RF" "$b" --version 2>&1)
	expect_eq "$out" "$b version $VERSION" "$b --version runs inside the image (chroot, PATH lookup)"
done
# The check above can fail: a binary built without the flags.
printf '#include <stdio.h>\n#include <string.h>\nint main(int c, char **v) { char b[8]; strcpy(b, v[0]); puts(b); return c; }\n' >"$T_TMP/plain.c"
if cc -O2 -fno-stack-protector -U_FORTIFY_SOURCE -no-pie -Wl,-z,lazy -Wl,-z,norelro \
	-o "$T_TMP/plain" "$T_TMP/plain.c" 2>"$ERR"; then
	expect_eq "$(hardened "$T_TMP/plain")" "BIND_NOW PIE RELRO stack-protector FORTIFY " \
		"the hardening check flags an unhardened binary (self-check)"
else
	fail "cc for the self-check: $(head -3 "$ERR")"
fi

out=$(buildah --root "$IMG/storage" --runroot "$IMG/run" --storage-driver vfs from --pull-never "$TAG" 2>&1)
ctr=$(tail -1 <<<"$out")
out=$(buildah --root "$IMG/storage" --runroot "$IMG/run" --storage-driver vfs \
	run --isolation chroot "$ctr" -- nvidia-vgpu-dm --version 2>&1)
expect_eq "$out" "nvidia-vgpu-dm version $VERSION" "buildah run: nvidia-vgpu-dm --version in the stored image"
buildah --root "$IMG/storage" --runroot "$IMG/run" --storage-driver vfs rm "$ctr" >/dev/null 2>&1

# The entrypoint with none of the operator's variables: one clear line, exit 1.
chroot "$RF" nvidia-k8s-vgpu-dm >"$OUT" 2>"$ERR"
RC=$?
expect_rc 1 "the entrypoint without NODE_NAME exits 1"
expect_err "node-name" "and names the missing flag"

# The libraries NVIDIA's libnvidia-ml.so.1 needs from glibc (it is dlopen'ed
# from the host's driver, so no ldd of ours names them).
for l in libc.so.6 libm.so.6 libdl.so.2 libpthread.so.0 librt.so.1; do
	if [ -f "$RF/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)/$l" ]; then
		pass "$l for libnvidia-ml.so.1"
	else fail "no $l in the image (libnvidia-ml.so.1 needs it)"; fi
done
if [ -s "$RF/etc/ssl/certs/ca-certificates.crt" ]; then pass "CA certificates"; else fail "CA certificates"; fi
if [ -f "$RF/usr/share/doc/libc6/copyright" ] && [ -f "$RF/usr/share/doc/libcurl4/copyright" ] &&
	[ -f "$RF/usr/share/doc/vgpu-dm/copyright" ]; then
	pass "copyright files of the Debian packages the image's files come from"
else fail "copyright files: $(ls "$RF/usr/share/doc" | xargs)"; fi

# --- the GPU Operator's init container (state-vgpu-device-manager), in the image ---
# tests/data's copy would do; the command is short: sh -c 'until [ -f ... ]'.
RFC=$T_TMP/rootfs # a private copy: the export is shared with other tests
cp -a "$RF" "$RFC"
mkdir -p "$RFC/run/nvidia/validations" "$RFC/host"
(sleep 1; touch "$RFC/run/nvidia/validations/vgpu-manager-ready") &
start=$(date +%s)
timeout 30 chroot "$RFC" sh -c \
	'until [ -f /run/nvidia/validations/vgpu-manager-ready ]; do echo waiting for NVIDIA vGPU Manager to be setup; sleep 5; done' \
	>"$OUT" 2>"$ERR"
RC=$?
wait
expect_rc 0 "the operator's init-container command ends once vgpu-manager-ready exists"
expect_out "waiting for NVIDIA vGPU Manager" "and waited for it first ($(($(date +%s) - start)) s)"

# --- the image's CLI lays out a simulated host mounted at /host ---
sim_start --gpu T4 --gpu T4
cat >"$RFC/config.yaml" <<'YAML'
version: v1
vgpu-configs:
  small:
    - devices: all
      vgpu-devices:
        T4-2Q: 8
YAML
unshare -m --propagation private sh -c 'mount --rbind "$1" "$2/host" && VGPU_DM_SYSFS_ROOT=/host exec chroot "$2" nvidia-vgpu-dm apply -f /config.yaml -c small' \
	sh "$ROOT" "$RFC" >"$OUT" 2>"$ERR"
RC=$?
expect_rc 0 "the image's nvidia-vgpu-dm applies a layout to the host root at /host"
dm assert -f "$RFC/config.yaml" -c small
expect_rc 0 "the host has the layout (asserted from outside the image)"
expect_eq "$(vgpus | wc -l)" 16 "16 vGPUs"
finish

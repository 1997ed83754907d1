#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Debian 12's ppc64el QEMU and a guest kernel, for running real QEMU inside
# the emulated POWER9 host (make check-qemu):
#
#   build/dl/qemu/*.deb      the packages (a second run downloads nothing)
#   build/qemu/root/         qemu-system-ppc64 and qemu-img, the shared
#                            libraries they need (their NEEDED closure,
#                            checked), ld64.so.2, slof.bin and vof.bin
#   build/qemu/guest/vmlinux Debian's ppc64el kernel (ELF, stripped), the
#                            pseries guest; config beside it
#
# qemu-system-common is left out: helpers and display/audio/USB modules that
# a -display none pseries run does not load.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
dl="$top/build/dl/qemu"
out="$top/build/qemu"
readelf=powerpc64le-linux-gnu-readelf

pkgs_arch=(
	qemu-system-ppc qemu-utils
	libc6 libgcc-s1
	libaio1 libbpf1 libcapstone4 libfdt1 libfuse3-3 libglib2.0-0 libgmp10
	libgnutls30 libhogweed6 libibverbs1 libjpeg62-turbo libnettle8 libnuma1
	libpixman-1-0 libpng16-16 librdmacm1 libsasl2-2 libseccomp2 libslirp0
	libudev1 liburing2 libvdeplug2 libzstd1 zlib1g
	libelf1 libffi8 libidn2-0 libmount1 libblkid1 libnl-3-200 libnl-route-3-200
	libp11-kit0 libpcre2-8-0 libselinux1 libtasn1-6 libunistring2
)
pkgs_all=(qemu-system-data)	# slof.bin, vof.bin

mkdir -p "$dl"
cd "$dl"
want=()
for p in "${pkgs_arch[@]}"; do
	compgen -G "${p}_*_ppc64el.deb" >/dev/null || want+=("$p:ppc64el")
done
for p in "${pkgs_all[@]}"; do
	compgen -G "${p}_*_all.deb" >/dev/null || want+=("$p")
done
# The guest kernel: the ABI name moves with point releases, so ask the
# metapackage which image it is.
kpkg=$(apt-cache depends linux-image-powerpc64le:ppc64el 2>/dev/null |
	sed -n 's/.*Depends: \(linux-image-6[^ ]*-powerpc64le\).*/\1/p' | head -n1)
if ! compgen -G "linux-image-6*-powerpc64le_*_ppc64el.deb" >/dev/null; then
	[ -n "$kpkg" ] || { echo "qemu: no linux-image-powerpc64le:ppc64el in apt's lists" >&2; exit 1; }
	want+=("$kpkg:ppc64el")
fi
if [ ${#want[@]} -gt 0 ]; then
	echo "qemu: downloading ${#want[@]} ppc64el packages"
	apt-get download -q "${want[@]}" >/dev/null
fi

# qemu-system-data must be the same upstream version as the binary.
v_bin=$(dpkg-deb -f qemu-system-ppc_*_ppc64el.deb Version)
v_dat=$(dpkg-deb -f qemu-system-data_*_all.deb Version)
[ "${v_bin%%-*}" = "${v_dat%%-*}" ] || { echo "qemu: version skew $v_bin / $v_dat" >&2; exit 1; }

stamp="$out/.debs"
if [ "$(ls "$dl" | sha1sum)" = "$(cat "$stamp" 2>/dev/null)" ] && [ -x "$out/root/usr/bin/qemu-system-ppc64" ]; then
	echo "qemu: ok (QEMU $v_bin)"
	exit 0
fi

rm -rf "$out" && mkdir -p "$out/unpacked" "$out/root/lib64" "$out/root/usr/share/qemu" "$out/guest"
for d in "$dl"/*.deb; do
	case "$d" in */linux-image-*) continue ;; esac
	dpkg-deb -x "$d" "$out/unpacked"
done

# The NEEDED closure, resolved the way ld64.so.2 would (its built-in
# directories; no ld.so.cache needed).
declare -A found=()
libdirs=(lib/powerpc64le-linux-gnu usr/lib/powerpc64le-linux-gnu lib usr/lib)
resolve() {	# a file under $out/unpacked
	local n d
	for n in $("$readelf" -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
		[ -z "${found[$n]:-}" ] || continue
		for d in "${libdirs[@]}"; do
			if [ -e "$out/unpacked/$d/$n" ]; then
				found[$n]="$d/$n"
				resolve "$out/unpacked/$d/$n"
				continue 2
			fi
		done
		echo "qemu: $n (needed by ${1#"$out"/unpacked/}) is in no package fetched" >&2
		exit 1
	done
}
for b in usr/bin/qemu-system-ppc64 usr/bin/qemu-img; do
	resolve "$out/unpacked/$b"
	install -D -m 755 "$out/unpacked/$b" "$out/root/$b"
done
for n in "${!found[@]}"; do
	install -D -m 755 "$out/unpacked/${found[$n]}" "$out/root/${found[$n]}"
done
ln -sfn /lib/powerpc64le-linux-gnu/ld64.so.2 "$out/root/lib64/ld64.so.2"
cp "$out/unpacked/usr/share/qemu/slof.bin" "$out/unpacked/usr/share/qemu/vof.bin" \
	"$out/root/usr/share/qemu/"
rm -rf "$out/unpacked"

# The guest kernel: an ELF vmlinux is what pseries -kernel loads.
kdeb=$(ls "$dl"/linux-image-6*-powerpc64le_*_ppc64el.deb | head -n1)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dpkg-deb --fsys-tarfile "$kdeb" | tar -x -C "$tmp" --wildcards './boot/*'
powerpc64le-linux-gnu-strip -o "$out/guest/vmlinux" "$tmp"/boot/vmlinux-*
cp "$tmp"/boot/config-* "$out/guest/config"
echo "$(basename "$kdeb")" >"$out/guest/package"

ls "$dl" | sha1sum >"$stamp"
echo "qemu: QEMU $v_bin, ${#found[@]} libraries, root $(du -sh "$out/root" | cut -f1);" \
	"guest kernel $(basename "$kdeb" | cut -d_ -f1-2) ($(du -h "$out/guest/vmlinux" | cut -f1))"

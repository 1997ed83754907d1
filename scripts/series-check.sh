#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# series-check.sh: check the series the way a maintainer takes it.
#
#   1. Export it (scripts/series.py export) with a throwaway identity into
#      build/series-check/series: never the series a person sends.
#   2. Check out the base into a fresh tree, build it (make prepare and
#      arch/powerpc/kvm/, W=1, sparse) in every configuration of the build
#      matrix, to know the base's own warnings:
#        host        tinyconfig + kvm_hpt_host.config (the tested kernel)
#        debian      Debian's ppc64el 64K-page distribution config (KVM HV
#                    and PR as modules)
#        pseries-pr  PR KVM only in a pseries LPAR (no HV KVM)
#        hv-module   HV KVM as a module, PR KVM built in
#   3. git am each patch and build incrementally after it: host at every
#      patch, the whole matrix at patches that touch arch/powerpc/include
#      and at the last; the selftests and the userspace harness at the
#      patches that touch them.  Fail on any build break, on any compiler
#      or sparse warning the base does not have in a file the patch touches,
#      and, where kvm-hv.ko is a module, on any symbol it needs that nothing
#      exports and the base's did not need.
#   4. checkpatch.pl --strict on every exported patch: fail on anything but
#      the complaints accepted below, each named with its reason.
#
# Prints one line per configuration and per patch, and last
# "series-check: N passed, N failed".
set -uo pipefail

export PATH=/usr/bin:/bin:$PATH		# Debian's python3 for checkpatch's spdxcheck
top=$(cd "$(dirname "$0")/.." && pwd)
tree="$top/build/linux"
out="$top/build/series-check"
src="$out/linux"
cross=powerpc64le-linux-gnu-
jobs=${JOBS:-$(($(nproc) + 1))}
configs="$top/arch/powerpc/configs"
matrix=(host debian pseries-pr hv-module)
passed=0 failed=0
mkdir -p "$out/logs"

ok() { echo "ok - $*"; passed=$((passed + 1)); }
not_ok() { echo "not ok - $*"; failed=$((failed + 1)); }
finish() {
	echo "series-check: $passed passed, $failed failed"
	[ $failed = 0 ]
	exit
}

# ---- The series, exported with a throwaway identity ----
python3 "$top/scripts/series.py" export "$tree" "$out/series" \
	"series-check <series-check@invalid>" >"$out/logs/export.log" 2>&1 ||
	{ cat "$out/logs/export.log"; not_ok "export the series"; finish; }
mapfile -t patches < <(ls "$out"/series/0*.patch | grep -v '/0000-cover-letter.patch$')

# ---- A fresh base tree ----
if [ -d "$src/.git" ] || [ -f "$src/.git" ]; then
	git -C "$src" am --abort >/dev/null 2>&1
	git -C "$src" checkout -q -f --detach base && git -C "$src" clean -q -fdx
else
	git -C "$tree" worktree prune
	git -C "$tree" worktree add -q --detach "$src" base
fi || { not_ok "check out the base"; finish; }
am() { git -C "$src" -c user.name=series-check -c user.email=series-check@invalid am -q "$@"; }

# ---- Debian's distribution config ----
debian_config() {
	local ver pkg deb dir="$top/build/dl/debian-config"
	ver=$(dpkg-query -W -f='${Version}' linux-source-6.12)
	pkg="linux-image-${ver%%-*}+deb12-powerpc64le-64k"
	if ! ls "$dir"/boot/config-* >/dev/null 2>&1; then
		mkdir -p "$dir"
		(cd "$dir" && apt-get download -q "$pkg:ppc64el") >"$out/logs/debian-config.log" 2>&1 &&
			deb=$(ls "$dir"/*.deb) &&
			dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$dir" --wildcards './boot/config-*' &&
			rm -f "$deb" || return 1
	fi
	ls "$dir"/boot/config-*
}

kmake() {	# config, make arguments...
	local cfg=$1
	shift
	make -s -C "$src" O="$out/obj/$cfg" ARCH=powerpc CROSS_COMPILE=$cross -j"$jobs" "$@"
}

configure() {	# config
	local cfg=$1 obj="$out/obj/$1" frags=() want
	mkdir -p "$obj"
	case $cfg in
	host) frags=("$configs/kvm_hpt_host.config") ;;
	pseries-pr) frags=("$configs/kvm_matrix_pseries_pr.config") ;;
	hv-module) frags=("$configs/kvm_hpt_host.config" "$configs/kvm_matrix_hv_module.config") ;;
	debian)
		want=$(debian_config) || return 1
		cp "$want" "$obj/.config"
		kmake "$cfg" olddefconfig >/dev/null || return 1
		grep -qx 'CONFIG_KVM_BOOK3S_64_HV=m' "$obj/.config"
		return
		;;
	esac
	"$top/scripts/configure-kernel.sh" "$src" "$obj" "${frags[@]}"
}

# Build config's prepare and arch/powerpc/kvm/ with W=1 and sparse into LOG.
kbuild() {	# config, log
	kmake "$1" W=1 C=1 prepare >"$2" 2>&1 && kmake "$1" W=1 C=1 arch/powerpc/kvm/ >>"$2" 2>&1
}

# Where HV KVM is a module: the symbols kvm-hv.ko takes from elsewhere that
# no EXPORT_SYMBOL*() in the tree provides, one per line.  modpost refuses
# a module for those ("undefined!"), but it needs a whole vmlinux, and a
# directory build does not run it.  Names that macros export (per-CPU
# variables, module_param types) show up in the base's list too; the
# register save and restore routines the compiler calls are linked into
# every module (arch/powerpc/lib/crtsavres.S).
unexported_imports() {	# config
	local obj="$out/obj/$1" objs
	[ -f "$obj/arch/powerpc/kvm/kvm-hv.mod" ] || return 0
	mapfile -t objs < <(sed "s|^|$obj/|" "$obj/arch/powerpc/kvm/kvm-hv.mod")
	comm -23 <(comm -23 <(${cross}nm -u "${objs[@]}" | awk 'NF == 2 { print $2 }' |
			      grep -Ev '^_(save|rest)(gpr|fpr|vr)[0-9]*_[0-9]+$' | sort -u) \
			    <(${cross}nm --defined-only "${objs[@]}" | awk 'NF == 3 { print $3 }' | sort -u)) \
		 <(grep -rhoE --include='*.[chS]' 'EXPORT_SYMBOL(_GPL)?(_NS(_GPL)?)?\(\s*\w+' \
			"$src"/{arch/powerpc,block,crypto,drivers,fs,init,ipc,kernel,lib,mm,net,security,virt} |
		   sed 's/.*(\s*//' | sort -u)
}

# ---- The base, in every configuration ----
for cfg in "${matrix[@]}"; do
	start=$(date +%s)
	if ! configure "$cfg" >"$out/logs/configure-$cfg.log" 2>&1; then
		not_ok "base, $cfg: configure (see ${out#"$top"/}/logs/configure-$cfg.log)"
		finish
	fi
	# Every object of the directory rebuilt: the base's warnings, all of them.
	rm -rf "$out/obj/$cfg/arch/powerpc/kvm"
	if kbuild "$cfg" "$out/logs/base-$cfg.log" &&
	   unexported_imports "$cfg" >"$out/logs/base-$cfg.imports"; then
		ok "base builds, $cfg ($(grep -cE ': (warning|error):' "$out/logs/base-$cfg.log") warnings of its own, $(($(date +%s) - start)) s)"
	else
		not_ok "base, $cfg: build failed (see ${out#"$top"/}/logs/base-$cfg.log)"
		finish
	fi
done

# ---- checkpatch: what a maintainer accepts, and why ----
# Each accepted type, with where it is accepted (a path prefix) and why.
accepted=(
	"FILE_PATH_CHANGES||new files under paths the MAINTAINERS entries KVM/powerpc or KVM cover (checked below)"
	"UNKNOWN_COMMIT_ID||Fixes: names upstream commits; the base, Debian's source tarball, has no history to find them in"
	"NEW_TYPEDEFS|tools/testing/kvm_htab_fd/|the userspace harness defines the kernel's u8..u64 for the real kernel files it compiles"
	"VOLATILE|tools/testing/kvm_htab_fd/|the harness defines READ_ONCE()/WRITE_ONCE() as the kernel does, with volatile"
	"MACRO_ARG_REUSE|tools/testing/kvm_htab_fd/|the harness's copies of kernel macros (min/max, list and bitmap helpers) evaluate arguments as the kernel's do"
	"PREFER_DEFINED_ATTRIBUTE_MACRO|tools/testing/kvm_htab_fd/|the harness defines __packed, __aligned() and __printf() themselves"
)

# A new file must be covered by KVM's MAINTAINERS entries.
maintained() {	# patch
	local f
	for f in $(grep -E '^\+\+\+ b/' "$1" | sed 's|^+++ b/||'); do
		grep -q "^--- /dev/null" <(grep -B1 -F "+++ b/$f" "$1") || continue
		(cd "$src" && perl scripts/get_maintainer.pl --no-git --no-git-fallback --no-rolestats \
			-f "$f" 2>/dev/null) | grep -qE 'linuxppc-dev@|kvm@vger' ||
			{ echo "$f: no KVM or KVM/powerpc MAINTAINERS entry covers it"; return 1; }
	done
}

checkpatch() {	# patch, log; prints the accepted complaints' summary
	local p=$1 log=$2 type path entry rest bad=0 summary=()
	declare -A n=()
	(cd "$src" && perl scripts/checkpatch.pl --strict --show-types -q "$p") >"$log" 2>&1
	# Blocks: "LEVEL:TYPE: message" then "#N: FILE: path:line:".
	while IFS='|' read -r type path; do
		rest=
		for entry in "${accepted[@]}"; do
			IFS='|' read -r atype aprefix _ <<<"$entry"
			[ "$type" = "$atype" ] && [[ "$path" == "$aprefix"* ]] && rest=ok
		done
		if [ -z "$rest" ]; then
			bad=1
		else
			n[$type]=$((${n[$type]:-0} + 1))
		fi
	done < <(awk '/^(WARNING|ERROR|CHECK):/ { split($0, a, ":"); t = a[2]; f = ""; getline nx;
		if (match(nx, /FILE: [^:]+/)) f = substr(nx, RSTART + 6, RLENGTH - 6); print t "|" f }' "$log")
	if [ -n "${n[FILE_PATH_CHANGES]:-}" ]; then
		maintained "$p" >>"$log" || bad=1
	fi
	for type in "${!n[@]}"; do
		summary+=("$type x${n[$type]}")
	done
	echo "${summary[*]}"
	return $bad
}

# ---- The patches, one by one ----
last=${patches[-1]}
k=0
git -C "$src" checkout -q -f --detach base
for p in "${patches[@]}"; do
	k=$((k + 1))
	name=$(basename "$p" .patch)
	subject=$(sed -n 's/^Subject: \[PATCH[^]]*\] //p' "$p" | head -n1)
	what="$k/${#patches[@]} $subject"
	logs="$out/logs/$name"
	mkdir -p "$logs"
	start=$(date +%s)
	if ! am "$p" >"$logs/am.log" 2>&1; then
		not_ok "$what: git am failed (see ${logs#"$top"/}/am.log)"
		finish
	fi
	mapfile -t touched < <(git -C "$src" diff --name-only HEAD~1 HEAD)
	problems=() built=()

	cfgs=(host)
	if [ "$p" = "$last" ] || printf '%s\n' "${touched[@]}" | grep -q '^arch/powerpc/include/'; then
		cfgs=("${matrix[@]}")
	fi
	for cfg in "${cfgs[@]}"; do
		if ! kbuild "$cfg" "$logs/build-$cfg.log"; then
			problems+=("$cfg build fails (${logs#"$top"/}/build-$cfg.log)")
			continue
		fi
		new=$(python3 "$top/scripts/new-warnings.py" "$src" "$out/obj/$cfg" \
			"$out/logs/base-$cfg.log" "$logs/build-$cfg.log" "${touched[@]}")
		[ -z "$new" ] || problems+=("$cfg: new warnings: $new")
		new=$(comm -13 "$out/logs/base-$cfg.imports" <(unexported_imports "$cfg") | xargs)
		[ -z "$new" ] || problems+=("$cfg: kvm-hv.ko needs symbols nothing exports: $new")
		built+=("$cfg")
	done

	if printf '%s\n' "${touched[@]}" | grep -q '^tools/testing/selftests/kvm/'; then
		libobjs=$(printf '%s\n' "${touched[@]}" |
			sed -n 's|^tools/testing/selftests/kvm/\(lib/.*\)\.c$|'"$out"'/selftests/\1.o|p')
		if make -s -C "$src" O="$out/obj/headers" ARCH=powerpc CROSS_COMPILE=$cross \
			INSTALL_HDR_PATH="$out/obj/headers/usr" headers_install >"$logs/selftests.log" 2>&1 &&
		   make -s -C "$src/tools/testing/selftests/kvm" -j"$jobs" ARCH=powerpc \
			CROSS_COMPILE=$cross OUTPUT="$out/selftests" \
			INSTALL_HDR_PATH="$out/obj/headers/usr" \
			KHDR_INCLUDES="-isystem $out/obj/headers/usr/include" \
			EXTRA_CFLAGS="-static -Werror" all $libobjs >>"$logs/selftests.log" 2>&1; then
			built+=(selftests)
		else
			problems+=("selftests build fails (${logs#"$top"/}/selftests.log)")
		fi
	fi
	if printf '%s\n' "${touched[@]}" | grep -q '^tools/testing/kvm_htab_fd/'; then
		if make -s -C "$src/tools/testing/kvm_htab_fd" KSRC="$src" OUTPUT="$out/harness" \
			EXTRA_CFLAGS=-Werror all >"$logs/harness.log" 2>&1; then
			built+=(harness)
		else
			problems+=("harness build fails (${logs#"$top"/}/harness.log)")
		fi
	fi

	if ! accepted_now=$(checkpatch "$p" "$logs/checkpatch.log"); then
		problems+=("checkpatch --strict (${logs#"$top"/}/checkpatch.log)")
		sed 's/^/#   /' "$logs/checkpatch.log" | head -20
	fi
	if [ ${#problems[@]} -eq 0 ]; then
		ok "$what: builds (${built[*]}), no new warnings, checkpatch clean${accepted_now:+ but accepted: $accepted_now} ($(($(date +%s) - start)) s)"
	else
		not_ok "$what: $(printf '%s; ' "${problems[@]}")"
	fi
done

echo "# checkpatch complaints accepted, and why:"
for entry in "${accepted[@]}"; do
	IFS='|' read -r atype aprefix why <<<"$entry"
	echo "#   $atype${aprefix:+ (in $aprefix)}: $why"
done
finish

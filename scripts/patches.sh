#!/bin/bash
# make patches: the upstream patch series (git format-patch, a cover letter
# first) in build/patches/<series>/.
#
#   scripts/patches.sh [SERIES...]          write them (default: every one)
#   scripts/patches.sh --check [SERIES...]  write, then verify them (TAP)
#   scripts/patches.sh --list               the series there are
#
# Series qemu: the edu-rng device for upstream QEMU, against the newest
# QEMU source qemu/build-qemu.sh fetches (QEMU_VERSION=newest, Debian's,
# unpacked as dpkg-source unpacks it: Debian's patches applied).  A git
# baseline of that tree as it is (one commit, cached in
# $CACHE/qemu-baseline/) and our commits on top, one logical change
# each, made with build-qemu.sh's install_device and install_qtest, so
# the series has exactly what our build puts in QEMU, less our own parts
# (qemu/hw/edu-rng-lab.c and the rest: Documentation/upstream.rst).
# Each patch is signed off with this tree's git config user.name and
# user.email; unset, nothing is written.
#
# --check qemu: git am of the series onto a fresh worktree of the
# baseline; qemu-system-x86_64 and tests/qtest/edu-rng-test built in it
# (only those, cached by the tree the series gives) and the qtest run;
# the tree's scripts/checkpatch.pl on each patch: 0 errors, 0 warnings.
#
# Series linux: the driver for the kernel tree, against Debian sid's
# linux-source-7.2 as guest/build-kernel.sh 7.2 unpacks and builds it
# (made when missing).  A git baseline of that tree (one commit, a bare
# repository in $CACHE/linux-baseline/) and our commits on top: the
# driver's upstream parts, drivers/edu-rng-main.c, edu-rng-cdev.c and
# edu-rng.h, as drivers/char/hw_random/ files, less their #ifdef
# EDU_RNG_LAB blocks and the compat header (the lab's interface,
# drivers/edu-rng-lab.[ch], stays out: Documentation/upstream.rst);
# the Kconfig and Makefile entries, our ABI file, MAINTAINERS.
#
# --check linux: git am onto a fresh worktree of the baseline; Kconfig
# keeps HW_RANDOM_EDU_RNG=m through olddefconfig on the 7.2 guest's
# .config; drivers/char/hw_random built against that configured 7.2
# tree (M=, CONFIG_HW_RANDOM_EDU_RNG=m, W=1 C=1): no warning, and
# edu-rng.ko binds to 1b36:0015 only; the tree's scripts/checkpatch.pl
# --strict on each patch: 0 errors, 0 warnings, 0 checks.
#
# A series is three functions, <name>_series_deps CHECK, <name>_write
# DIR and <name>_check DIR, and a name in SERIES_ALL.
set -eu
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"
# shellcheck source=../qemu/build-qemu.sh
. "$TOP/qemu/build-qemu.sh"
# shellcheck source=tap.sh
. "$TOP/scripts/tap.sh"

SERIES_ALL=(qemu linux)
OUT=$BUILD/patches
# 1b36:0015: the next free QEMU PCI device ID (docs/specs/pci-ids.rst);
# qemu/hw/edu-rng-lab.c has it too
QEMU_PCI_ID=0x0015
# what the qemu series may touch, and only that
QEMU_FILES=(MAINTAINERS docs/specs/edu-rng.rst docs/specs/index.rst
	docs/specs/pci-ids.rst hw/misc/Kconfig hw/misc/edu-rng-core.c
	hw/misc/edu-rng-core.h hw/misc/edu-rng.c hw/misc/meson.build
	hw/misc/trace-events include/hw/pci/pci.h tests/qtest/edu-rng-test.c
	tests/qtest/meson.build)
SPEC_FILE=$TOP/qemu/docs/specs/edu-rng.rst
# the linux series: against guest/build-kernel.sh's kernel (its source
# and configured build), our driver's upstream parts as these files
LINUX_KERNEL=7.2
LINUX_HWRNG=drivers/char/hw_random
LINUX_DRIVER=(edu-rng-main.c edu-rng-cdev.c edu-rng.h)
LINUX_ABI=Documentation/ABI/testing/sysfs-bus-pci-drivers-edu-rng
LINUX_FILES=(MAINTAINERS "$LINUX_ABI" "$LINUX_HWRNG/Kconfig" "$LINUX_HWRNG/Makefile"
	"${LINUX_DRIVER[@]/#/$LINUX_HWRNG/}")
LINUX_MAINTAINERS_TITLE="EDU-RNG PCI HARDWARE RANDOM NUMBER GENERATOR DRIVER"

usage() {
	sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'
}

# NAME and EMAIL for Signed-off-by, from this tree's git config.
identity() {
	NAME=$(git -C "$TOP" config user.name || true)
	EMAIL=$(git -C "$TOP" config user.email || true)
	if [ -z "$NAME" ] || [ -z "$EMAIL" ]; then
		die "git config user.name and user.email must be set: each patch is signed off with them (Signed-off-by: Name <email>); set them with git config user.name 'Your Name' and git config user.email you@example.org"
	fi
}

# git with the series' identity and one date for every commit: our HEAD's,
# so the same tree gives the same series
sgit() {
	GIT_AUTHOR_NAME=$NAME GIT_AUTHOR_EMAIL=$EMAIL \
		GIT_COMMITTER_NAME=$NAME GIT_COMMITTER_EMAIL=$EMAIL \
		GIT_AUTHOR_DATE=$DATE GIT_COMMITTER_DATE=$DATE git "$@"
}

# --- series qemu ---

# What the qemu series needs; $1: 1 when it is checked too.
qemu_series_deps() {
	qemu_deps
	[ "$1" -eq 0 ] || "$TOP/scripts/deps.sh" python3-docutils
}

# QSRC: the newest QEMU source build-qemu.sh uses; QVER: its Debian
# version (1:10.2.2+ds-1); QREPO: the git baseline of its pristine tree,
# made once (branch baseline, one commit).
qemu_baseline() {
	local tmp
	QEMU_VERSION=newest
	QSRC=$(source_dir)
	QVER=${QSRC##*/}
	QVER=${QVER/_/:}
	QREPO=$CACHE/qemu-baseline/${QSRC##*/}
	[ -f "$QREPO/.git/edu-rng-baseline" ] && return 0
	echo "patches: making the git baseline of Debian qemu $QVER ($QREPO)" >&2
	mkdir -p "$CACHE/qemu-baseline"
	tmp=$QREPO.tmp
	rm -rf "$QREPO" "$tmp"
	pristine_source "$QSRC" "$tmp"
	git -C "$tmp" init -q -b baseline
	# every file as unpacked, its .gitignore notwithstanding
	git -C "$tmp" add -A -f
	GIT_AUTHOR_DATE=2000-01-01T00:00:00Z GIT_COMMITTER_DATE=2000-01-01T00:00:00Z git -C "$tmp" \
		-c user.name=baseline -c user.email=baseline@localhost \
		commit -q -m "Debian qemu $QVER as unpacked (baseline)"
	echo "$QVER" >"$tmp/.git/edu-rng-baseline"
	mv "$tmp" "$QREPO"
}

# Worktree $2 of baseline repository $1, fresh: at the baseline commit,
# every file as committed and nothing else (made once; then git rewrites
# only what differs, and removes what is not the baseline's).
baseline_worktree() {
	local repo=$1 wt=$2 common
	# a worktree of another repository (a baseline made again) is redone
	common=$(git -C "$wt" rev-parse --path-format=absolute --git-common-dir 2>/dev/null || true)
	if [ -n "$common" ] &&
		[ "$common" = "$(git -C "$repo" rev-parse --path-format=absolute --git-common-dir)" ]; then
		git -C "$wt" am --abort >/dev/null 2>&1 || true
		git -C "$wt" checkout -q -f --detach baseline
		git -C "$wt" clean -q -ffdx
	else
		rm -rf "$wt"
		git -C "$repo" worktree prune
		git -C "$repo" worktree add -q --detach "$wt" baseline
	fi
	git -C "$wt" diff --quiet baseline || die "worktree $wt is not the baseline"
}

qemu_worktree() {
	baseline_worktree "$QREPO" "$1"
}

# Commit what changed in worktree $1: subject $2, the body on stdin.
series_commit() {
	local wt=$1 subject=$2 body
	body=$(cat)
	sgit -C "$wt" add -A
	sgit -C "$wt" commit -q -s -F - <<MSG
$subject

$body
MSG
}

# pci.h: PCI_DEVICE_ID_REDHAT_EDU_RNG after the last 1b36:00xx ID, its
# value in the same column.
qemu_add_pci_id() {
	local wt=$1 h=$1/include/hw/pci/pci.h

	! grep -qiE "^#define PCI_DEVICE_ID_REDHAT_[A-Z0-9_]+ +$QEMU_PCI_ID\$" "$h" ||
		die "1b36:${QEMU_PCI_ID#0x} is taken in QEMU $(cat "$wt/VERSION") ($h): pick another in scripts/patches.sh and qemu/hw/edu-rng-lab.c"
	awk -v id="$QEMU_PCI_ID" '
		{ line[NR] = $0 }
		/^#define PCI_DEVICE_ID_REDHAT_[A-Z0-9_]+ +0x00[0-9a-f][0-9a-f]$/ { last = NR }
		END {
			for (i = 1; i <= NR; i++) {
				print line[i]
				if (i == last) {
					col = index(line[i], "0x") - 1
					printf "%-" col "s%s\n", "#define PCI_DEVICE_ID_REDHAT_EDU_RNG", id
				}
			}
		}' "$h" >"$h.new"
	mv "$h.new" "$h"
	grep -qx "#define PCI_DEVICE_ID_REDHAT_EDU_RNG *$QEMU_PCI_ID" "$h" ||
		die "cannot add PCI_DEVICE_ID_REDHAT_EDU_RNG to $h"
}

# docs/specs/pci-ids.rst: our ID's entry, text $2, after the last
# 1b36:00xx one (or in place of ours).
qemu_pci_ids_entry() {
	local r=$1/docs/specs/pci-ids.rst id=1b36:${QEMU_PCI_ID#0x}

	awk -v id="$id" -v text="$2" '
		$0 == id { skip = 1; next }
		skip && /^  / { next }
		{ skip = 0; line[++n] = $0 }
		/^1b36:00[0-9a-f][0-9a-f]$/ { item = n }
		END {
			for (i = 1; i <= n; i++) {
				print line[i]
				if (item && i > item && line[i + 1] !~ /^  /) {
					print id
					print "  " text
					item = 0
				}
			}
		}' "$r" >"$r.new"
	mv "$r.new" "$r"
	grep -qx "$id" "$r" || die "cannot add $id to $r"
}

# MAINTAINERS: an EDU-RNG entry after EDU's (made with $NAME <$EMAIL>),
# with file pattern $2 added.
qemu_maintain() {
	local m=$1/MAINTAINERS
	awk -v who="M: $NAME <$EMAIL>" -v f="F: $2" '
		{ line[NR] = $0 }
		END {
			for (i = 1; i <= NR; i++) {
				if (line[i] == "EDU-RNG") ours = 1
				if (line[i] == "EDU") edu = 1
			}
			for (i = 1; i <= NR; i++) {
				if (ours && in_ours && line[i] == "") {
					print f
					in_ours = 0
				}
				print line[i]
				if (line[i] == "EDU-RNG") in_ours = 1
				if (!ours && edu && line[i] == "EDU") in_edu = 1
				if (in_edu && line[i + 1] == "") {
					print ""
					print "EDU-RNG"
					print who
					print "S: Maintained"
					print f
					in_edu = 0
				}
			}
		}' "$m" >"$m.new"
	mv "$m.new" "$m"
	grep -qxF "F: $2" "$m" || die "cannot add $2 to $m"
}

# The qemu series, made in worktree $1; its commits on top of baseline.
qemu_make() {
	local wt=$1 s=$1/docs/specs
	qemu_worktree "$wt"

	qemu_add_pci_id "$wt"
	qemu_pci_ids_entry "$wt" "PCI random number generator (\`\`-device edu-rng\`\`)"
	series_commit "$wt" "docs/specs/pci-ids: allocate 1b36:0015 for edu-rng" <<'MSG'
edu-rng, a PCI random number generator with DMA added by the next
patch, takes the next free device ID of QEMU's 1b36 range.  Add it to
docs/specs/pci-ids.rst and as PCI_DEVICE_ID_REDHAT_EDU_RNG to
include/hw/pci/pci.h.
MSG

	install_device "$wt" edu-rng.c
	qemu_maintain "$wt" "hw/misc/edu-rng*"
	series_commit "$wt" "hw/misc: add edu-rng, a PCI random number generator with DMA" <<'MSG'
edu-rng is a PCI device (1b36:0015) for teaching and for testing
drivers, in the spirit of edu: BAR0 has two plain registers (0x00
read: 32 random bits, 0x04 write: a seed) and edu's DMA engine at
edu's offsets, extended so that one command fills guest memory from
the generator.  The generator is ChaCha20 (RFC 8439) keyed from
qemu_guest_getrandom(), or from a 64-bit seed the guest writes, so a
seeded stream can be checked against any ChaCha20 implementation.

The guest-visible logic (generator, registers, DMA commands, the
checks on every request) is in edu-rng-core.c, which depends on no
device model code; edu-rng.c connects it to PCI, MSI or INTx, reset and
migration.  Bad guest requests set STATUS.ERROR and are logged as guest
errors; generator DMA goes to RAM only, in 4 KiB chunks, so nothing a
guest writes keeps QEMU busy.  A worker thread makes the bytes of
generator transfers, one transfer ahead at most, so only their copy to
guest memory and the interrupt hold the BQL; it sleeps while nobody
reads and is joined when the VM stops, at reset and at unrealize.
Transfers complete in a guarded bottom half, never while the VM is
stopped; a delayed one (x-dma-latency-ns) migrates while pending
(subsection edu-rng/pending-dma).

x-dma-latency-ns, x-gen-ahead and x-fault-injection are for tests.
MSG

	mkdir -p "$s"
	install_if_changed "$SPEC_FILE" "$s/edu-rng.rst"
	sed -i '/^   edu-rng$/d; /^   edu$/a\   edu-rng' "$s/index.rst"
	grep -qx '   edu-rng' "$s/index.rst" || die "cannot add edu-rng to $s/index.rst"
	qemu_pci_ids_entry "$wt" "PCI random number generator (\`\`-device edu-rng\`\`, :doc:\`edu-rng\`)"
	qemu_maintain "$wt" docs/specs/edu-rng.rst
	series_commit "$wt" "docs/specs: add the edu-rng device specification" <<'MSG'
Registers, DMA commands, the generator and its known answers, reset
and migration, properties and trace events of edu-rng, linked from the
index and from its PCI ID's entry.
MSG

	install_qtest "$wt" edu-rng-test
	qemu_maintain "$wt" tests/qtest/edu-rng-test.c
	series_commit "$wt" "tests/qtest: add edu-rng-test" <<'MSG'
Check edu-rng's PCI identity and registers, the seeded known answers
over MMIO and over DMA into guest memory, every invalid request, MSI
and INTx, reset, and a migration with a generator transfer pending.
x86_64 (q35) only.
MSG
}

qemu_cover() {
	cat <<MSG
hw/misc: edu-rng, a PCI random number generator with DMA

This series adds edu-rng, a PCI device for teaching and for testing
drivers, in the spirit of edu: two plain registers (read 32 random
bits at 0x00, write a seed at 0x04) and edu's DMA engine, extended so
that one command fills guest memory from a ChaCha20 generator, keyed
from qemu_guest_getrandom() or from a seed the guest writes.  It takes
PCI ID 1b36:0015.

It comes with a specification (docs/specs/edu-rng.rst) and a qtest
(registers, seeded known answers over MMIO and DMA, every invalid
request, MSI and INTx, reset, migration with a transfer pending).  A
Linux hwrng driver for it exists out of tree; it is what the device
was designed against.

Patch 1 allocates the PCI ID, 2 adds the device, 3 its specification,
4 its qtest.  Made against QEMU $(cat "$QSRC/VERSION"); each patch passes
scripts/checkpatch.pl and the qtest passes on x86_64.
MSG
}

# Write series $1 into $2 (emptied first): the commits of worktree $3
# after its baseline, with the cover letter $4; $5 says what it is against.
series_format() {
	local name=$1 dir=$2 wt=$3 n
	n=$(git -C "$wt" rev-list --count baseline..HEAD)
	git -C "$wt" branch -f -q edu-rng HEAD
	git -C "$wt" config branch.edu-rng.description "$4"
	rm -rf "$dir"
	mkdir -p "$dir"
	git -C "$wt" -c core.abbrev=12 format-patch -q --cover-letter \
		--cover-from-description=subject --no-signature -o "$dir" \
		baseline..edu-rng
	git -C "$wt" rev-parse "edu-rng^{tree}" >"$dir/.tree"
	echo "patches: $name: $n patches and a cover letter in ${dir#"$TOP"/}, against $5" >&2
}

# Write the qemu series into $1 (emptied first).
qemu_write() {
	local wt=$CACHE/qemu-baseline/write.wt
	qemu_baseline
	qemu_make "$wt"
	series_format qemu "$1" "$wt" "$(qemu_cover)" \
		"QEMU $(cat "$QSRC/VERSION") (Debian $QVER)"
}

# Build qemu-system-x86_64 and tests/qtest/edu-rng-test in worktree
# commit $1 (tree $2): cached under $CACHE/qemu-series/out/<hash of that
# tree and the flags>; echo the directory with the two.
qemu_series_build() {
	local commit=$1 tree=$2 base=$CACHE/qemu-series key out wt bdir
	set_flags "$QSRC"
	key=$(hash_inputs "$tree" "${CONFIGURE_FLAGS[@]}" "${EXTRA_FLAGS[@]}")
	out=$base/out/$key
	mkdir -p "$base/out"
	exec 8>"$base/.lock"
	flock 8
	if [ ! -x "$out/edu-rng-test" ]; then
		# one source tree and build dir, moved from commit to commit:
		# git rewrites only the files that differ, ninja rebuilds those
		wt=$base/src-${QSRC##*/}
		bdir=$base/build-${QSRC##*/}
		if [ -e "$wt/.git" ]; then
			git -C "$wt" checkout -q -f --detach "$commit"
			git -C "$wt" clean -q -ffdx
		else
			rm -rf "$wt"
			git -C "$QREPO" worktree prune
			git -C "$QREPO" worktree add -q --detach "$wt" "$commit"
		fi
		build_tree "$wt" "$bdir" qemu-system-x86_64 tests/qtest/edu-rng-test
		rm -rf "$out.tmp"
		mkdir -p "$out.tmp"
		cp "$bdir/qemu-system-x86_64" "$bdir/tests/qtest/edu-rng-test" "$out.tmp/"
		rm -rf "$out"
		mv "$out.tmp" "$out"
	fi
	echo "$out"
}

# checkpatch.pl of tree $1 on patch $2: 0 errors and 0 warnings
qemu_checkpatch() {
	local out
	out=$(cd "$1" && perl scripts/checkpatch.pl "$2" 2>&1) || true
	printf '%s\n' "$out"
	printf '%s\n' "$out" | grep -qx 'total: 0 errors, 0 warnings, [0-9]* lines checked'
}

series_signed_off() {
	local p
	for p in "$1"/0*.patch; do
		case $p in */0000-*) continue ;; esac
		grep -qxF "Signed-off-by: $NAME <$EMAIL>" "$p" || { echo "$p: no Signed-off-by: $NAME <$EMAIL>"; return 1; }
	done
}

# The cover letter in $1 is written (no "*** ... HERE ***" left) and its
# subject starts with $2.
cover_ok() {
	local c
	c=$(echo "$1"/0000-*.patch)
	[ -f "$c" ] || { echo "no cover letter"; return 1; }
	! grep -n '\*\*\* .* HERE \*\*\*' "$c" || return 1
	grep -q "^Subject: \\[PATCH 0/[0-9]*\\] $2" "$c"
}

# Only QEMU_FILES changed from baseline to $2 in repo $1.
qemu_files_only() {
	local extra
	extra=$(git -C "$1" diff --name-only baseline "$2" | grep -vxF -f <(printf '%s\n' "${QEMU_FILES[@]}") || true)
	[ -z "$extra" ] || { echo "outside the series' files: $extra"; return 1; }
}

# None of our own parts: the lab's ID, our build's units, Debian's files.
qemu_no_lab() {
	! grep -nE '1234:cafe|PCI_VENDOR_ID_QEMU|DEVICE_ID.*0xcafe\b|edu-rng-lab|compat-7\.2|^\+\+\+ b/debian/|Documentation/' "$1"/0*.patch
}

# The spec's register and known-answer rows are ours (Documentation/).
qemu_spec_rows() {
	local re='^(0x[0-9a-f]{2}  |0 |42 |0xffffffffffffffff )'
	diff <(grep -E "$re" "$TOP/Documentation/edu-rng-device.rst") <(grep -E "$re" "$SPEC_FILE")
}

# reStructuredText file $1 parses without a docutils warning (Sphinx's
# :doc: role taken as plain text).
qemu_rst_ok() {
	/usr/bin/python3 - "$1" <<'PY'
import sys
from docutils import nodes
from docutils.core import publish_doctree
from docutils.parsers.rst import roles


def doc_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    return [nodes.literal(rawtext, text)], []


roles.register_local_role("doc", doc_role)
with open(sys.argv[1], encoding="utf-8") as f:
    publish_doctree(f.read(), source_path=sys.argv[1],
                    settings_overrides={"halt_level": 2, "report_level": 2})
PY
}

# Echo the qtest's results as our TAP lines; fail when it fails.
qemu_qtest() {
	local bin=$1 out rc=0 line
	out=$(QTEST_QEMU_BINARY=$bin/qemu-system-x86_64 "$bin/edu-rng-test" --tap 2>&1) || rc=$?
	while read -r line; do
		case $line in
		"ok "*) TAP_N=$((TAP_N + 1)); echo "ok $TAP_N qemu: qtest ${line#ok * }" ;;
		"not ok "*)
			TAP_N=$((TAP_N + 1)) TAP_FAILED=$((TAP_FAILED + 1))
			echo "not ok $TAP_N qemu: qtest ${line#not ok * }"
			;;
		esac
	done <<<"$out"
	if [ $rc -ne 0 ] || ! grep -q '^ok ' <<<"$out"; then
		TAP_N=$((TAP_N + 1)) TAP_FAILED=$((TAP_FAILED + 1))
		echo "not ok $TAP_N qemu: edu-rng-test exited with status $rc"
		printf '%s\n' "$out" | tail -n 20 | sed 's/^/# /'
	fi
}

# Verify the series in $1 (TAP lines).
qemu_check() {
	local dir=$1 wt=$CACHE/qemu-baseline/check.wt p n commit tree bin t0
	n=$(find "$dir" -name '0*.patch' ! -name '0000-*' | wc -l)
	tap_run "qemu: $n patches and a cover letter: $(cd "$dir" && echo 0*.patch)" \
		test "$n" -gt 0
	tap_run "qemu: the cover letter has its subject and text" cover_ok "$dir" "hw/misc: edu-rng"
	tap_run "qemu: every patch is Signed-off-by: $NAME <$EMAIL>" series_signed_off "$dir"
	tap_run "qemu: no lab PCI ID, none of our own files, no Debian file in the series" \
		qemu_no_lab "$dir"
	tap_run "qemu: docs/specs/edu-rng.rst has Documentation/edu-rng-device.rst's register and known-answer rows" \
		qemu_spec_rows
	tap_run "qemu: docs/specs/edu-rng.rst is reStructuredText without a docutils warning" \
		qemu_rst_ok "$SPEC_FILE"
	qemu_worktree "$wt"
	# shellcheck disable=SC2046
	tap_run "qemu: git am applies the series to a fresh baseline of QEMU $(cat "$QSRC/VERSION") (Debian $QVER)" \
		sgit -C "$wt" am -q --no-3way $(find "$dir" -name '0*.patch' ! -name '0000-*' | sort)
	commit=$(git -C "$wt" rev-parse HEAD)
	tree=$(git -C "$wt" rev-parse "HEAD^{tree}")
	tap_run "qemu: the applied series gives the tree it was made from" \
		test "$tree" = "$(cat "$dir/.tree")"
	tap_run "qemu: the series changes only ${QEMU_FILES[*]}" qemu_files_only "$wt" "$commit"
	t0=$SECONDS
	if bin=$(qemu_series_build "$commit" "$tree" 2>"$OUT/qemu-build.log"); then
		tap_run "qemu: qemu-system-x86_64 and tests/qtest/edu-rng-test build ($((SECONDS - t0)) s)" true
		qemu_qtest "$bin"
	else
		tap_run "qemu: qemu-system-x86_64 and tests/qtest/edu-rng-test build" \
			tail -n 30 "$OUT/qemu-build.log"
		tap_run "qemu: edu-rng-test" false
	fi
	for p in "$dir"/0*.patch; do
		case $p in */0000-*) continue ;; esac
		tap_run "qemu: checkpatch.pl ${p##*/}: 0 errors, 0 warnings" qemu_checkpatch "$wt" "$p"
	done
}

# --- series linux ---

# What the linux series needs (guest/build-kernel.sh installs the
# kernel's build tools; checkpatch's scripts/spdxcheck.py wants ply and
# GitPython); $1: 1 when it is checked too.
linux_series_deps() {
	"$TOP/scripts/deps.sh" git perl kmod
	[ "$1" -eq 0 ] || "$TOP/scripts/deps.sh" python3-ply python3-git
}

# LKOBJ: the configured 7.2 build of guest/build-kernel.sh (made when
# missing); LSRC: its source, Debian sid's linux-source-7.2 as unpacked;
# LVER: that source's name (linux-source-7.2-7.2.13-1); KVERSION: the
# kernel version (7.2.13); LREPO: the git baseline of that tree as it is
# (branch baseline, one commit; its own work tree is empty, the series'
# is a worktree of it), made once.  Not a bare repository: checkpatch's
# spdxcheck.py refuses worktrees of one.  Baselines of other sources go.
linux_baseline() {
	local tmp
	LKOBJ=$("$TOP/guest/build-kernel.sh" "$LINUX_KERNEL" --print-build-dir)
	LSRC=$(readlink -f "$LKOBJ/source")
	[ -f "$LSRC/Makefile" ] || die "no kernel source behind $LKOBJ/source"
	LVER=${LSRC##*/}
	KVERSION=$(awk -F' = ' '$1 == "VERSION" { v = $2 } $1 == "PATCHLEVEL" { p = $2 }
		$1 == "SUBLEVEL" { s = $2; print v "." p "." s; exit }' "$LSRC/Makefile")
	LREPO=$CACHE/linux-baseline/$LVER
	mkdir -p "$CACHE/linux-baseline"
	# one run at a time uses the series' worktree: held to the end
	exec 9>"$CACHE/linux-baseline/series.wt.lock"
	flock 9
	[ -f "$LREPO/.git/edu-rng-baseline" ] && return 0
	exec 7>"$CACHE/linux-baseline/.lock"
	flock 7
	if [ ! -f "$LREPO/.git/edu-rng-baseline" ]; then
		echo "patches: making the git baseline of $LVER ($LREPO)" >&2
		find "$CACHE/linux-baseline" -mindepth 1 -maxdepth 1 -type d \
			! -name series.wt -exec rm -rf {} +
		tmp=$LREPO.tmp
		git init -q -b baseline "$tmp"
		# every file as unpacked, its .gitignore notwithstanding; not the
		# mark build-kernel.sh leaves
		git -C "$LSRC" --git-dir="$tmp/.git" --work-tree="$LSRC" add -A -f -- . ':(exclude).done'
		GIT_AUTHOR_DATE=2000-01-01T00:00:00Z GIT_COMMITTER_DATE=2000-01-01T00:00:00Z \
			git -C "$LSRC" --git-dir="$tmp/.git" --work-tree="$LSRC" \
			-c user.name=baseline -c user.email=baseline@localhost \
			commit -q -m "Debian $LVER as unpacked (baseline)"
		# its own work tree stays empty: no index of the files it lacks
		rm -f "$tmp/.git/index"
		echo "$LVER" >"$tmp/.git/edu-rng-baseline"
		mv "$tmp" "$LREPO"
	fi
	exec 7>&-
}

# Driver source $1 as the upstream tree has it, on stdout: without the
# lab's parts (the #ifdef EDU_RNG_LAB blocks, and a blank line that
# would be the second in a row) and without the compat header, which
# only the older kernels need.
linux_upstream() {
	awk '
		/^#ifdef EDU_RNG_LAB([ \t]|$)/ { skip = 1; depth = 0; next }
		skip && /^#[ \t]*if/ { depth++; next }
		skip && /^#[ \t]*(else|elif)/ && !depth { bad = 1 }
		skip && /^#[ \t]*endif/ { if (depth) depth--; else { skip = 0; after = 1 }; next }
		skip { next }
		/^#include "edu-rng-compat\.h"$/ { next }
		after && $0 == "" && last == "" { after = 0; next }
		{ after = 0; last = $0; print }
		END { if (skip || bad) exit 1 }' "$1" ||
		die "$1: an #ifdef EDU_RNG_LAB block with #else, or without its #endif"
}

# Kconfig: our entry last in the HW_RANDOM menu.
linux_kconfig() {
	local k=$1
	awk '
		$0 == "endif # HW_RANDOM" && !done {
			print "config HW_RANDOM_EDU_RNG"
			print "\ttristate \"QEMU edu-rng PCI Random Number Generator support\""
			print "\tdepends on PCI"
			print "\thelp"
			print "\t  This driver provides kernel-side support for edu-rng, a PCI"
			print "\t  random number generator with DMA that QEMU emulates (-device"
			print "\t  edu-rng, PCI ID 1b36:0015) for teaching and for testing"
			print "\t  drivers.  Its bytes feed /dev/hwrng, and /dev/edu-rngN reads"
			print "\t  them directly; a seed written to sysfs makes them a"
			print "\t  reproducible stream, which the hwrng core then does not use."
			print ""
			print "\t  To compile this driver as a module, choose M here: the"
			print "\t  module will be called edu-rng."
			print ""
			print "\t  If unsure, say N."
			print ""
			done = 1
		}
		{ print }' "$k" >"$k.new"
	mv "$k.new" "$k"
	grep -qx 'config HW_RANDOM_EDU_RNG' "$k" || die "no 'endif # HW_RANDOM' in $k"
}

# MAINTAINERS: our section (made with $NAME <$EMAIL>), file patterns $2...,
# in its alphabetical place among the sections (made again when there).
linux_maintain() {
	local m=$1/MAINTAINERS
	shift
	LC_ALL=C awk -v title="$LINUX_MAINTAINERS_TITLE" -v who="M:	$NAME <$EMAIL>" \
		-v files="$(printf 'F:\t%s\n' "$@" | LC_ALL=C sort -f)" '
		function section() {
			print title
			print who
			print "L:\tlinux-crypto@vger.kernel.org"
			print "S:\tMaintained"
			print files
			print ""
			done = 1
		}
		{ line[NR] = $0 }
		END {
			for (i = 1; i <= NR; i++) {
				if (line[i] == title) {
					while (i <= NR && line[i] != "") i++
					continue
				}
				# a section title, among those of our first letter
				# (misordered ones are elsewhere): ours goes
				# before the first that comes after it
				if (line[i - 1] == "" && line[i + 1] ~ /^[A-Z]:\t/) {
					t = toupper(line[i])
					if (substr(t, 1, 1) == substr(title, 1, 1))
						letter = 1
					if (letter && !done && t > title)
						section()
				}
				print line[i]
			}
		}' "$m" >"$m.new"
	mv "$m.new" "$m"
	grep -qx "$LINUX_MAINTAINERS_TITLE" "$m" || die "cannot add $LINUX_MAINTAINERS_TITLE to $m"
}

# Our ABI file as upstream has it: the kernel that would take it, the
# list to write to.
linux_abi() {
	local next=${KVERSION%.*}
	next=${next%.*}.$((${next#*.} + 1))
	sed -e "s/^KernelVersion:.*/KernelVersion:\t$next/" \
		-e 's/^Contact:.*/Contact:\tlinux-crypto@vger.kernel.org/' "$TOP/$LINUX_ABI"
}

# The linux series, made in worktree $1; its commits on top of baseline.
linux_make() {
	local wt=$1 d=$1/$LINUX_HWRNG f
	baseline_worktree "$LREPO" "$wt"

	for f in "${LINUX_DRIVER[@]}"; do
		linux_upstream "$TOP/drivers/$f" >"$d/$f"
	done
	linux_kconfig "$d/Kconfig"
	# shellcheck disable=SC2016 # make's $(...), not the shell's
	printf '%s\n' 'obj-$(CONFIG_HW_RANDOM_EDU_RNG) += edu-rng.o' \
		'edu-rng-y := edu-rng-main.o edu-rng-cdev.o' >>"$d/Makefile"
	linux_maintain "$wt" "$LINUX_HWRNG/edu-rng*"
	# new files, which Debian's top .gitignore (/*) would leave out
	git -C "$wt" add -f -- "${LINUX_DRIVER[@]/#/$LINUX_HWRNG/}"
	series_commit "$wt" "hwrng: edu-rng - add driver for QEMU's edu-rng PCI device" <<'MSG'
edu-rng is a PCI random number generator with DMA that QEMU emulates
(-device edu-rng, 1b36:0015), for teaching and for testing drivers.
The device fills guest memory from a ChaCha20 generator, keyed from
the host's RNG or from a 64-bit seed the guest writes, one DMA transfer
at a time, and interrupts (MSI or INTx) when each is done.

The driver keeps a ring of four coherent DMA buffers full: the
interrupt handler starts the next transfer while a free buffer remains,
and nothing is transferred while the ring is full.  The hwrng core
reads 4 KiB of a full buffer at a time in place, with no lock on the
usual 64-byte read.  /dev/edu-rngN (a misc device per device, read and
poll) reads the ring directly, one buffer's bytes per lock hold.

A seed written to sysfs makes the stream a reproducible function of the
seed, for checking a driver against known answers; buffers filled
before are discarded, and the device leaves the hwrng core until mode
is set back to "host", so that nothing deterministic is credited as
entropy or reaches /dev/hwrng.  In host mode a VM fork (vmgenid) drops
every buffered byte.

A transfer that does not complete within a second is aborted and fails
one read with -EIO; a transfer reported done that did not write its
buffer (each 4 KiB of it holds a random canary until written) or an
interrupt that cannot be acknowledged (masked after 100 in a row) are
caught and counted the same way, in sysfs stats/.  Unbinding resets the
device and turns bus mastering off before the buffers are freed; open
files of /dev/edu-rngN outlive it and fail with -ENODEV.
MSG

	linux_abi >"$wt/$LINUX_ABI"
	linux_maintain "$wt" "$LINUX_HWRNG/edu-rng*" "$LINUX_ABI"
	git -C "$wt" add -f -- "$LINUX_ABI"
	series_commit "$wt" "hwrng: edu-rng - document the sysfs ABI" <<'MSG'
Document edu-rng's sysfs attributes: seed (write a 64-bit seed; the
device leaves the hwrng core while seeded), mode ("host" or "seeded";
write "host" to return to host entropy) and the counters in stats/.
MSG
}

linux_cover() {
	cat <<MSG
hwrng: edu-rng: driver for QEMU's edu-rng PCI device

This series adds a hwrng driver for edu-rng, a PCI random number
generator with DMA that QEMU emulates (-device edu-rng, 1b36:0015;
the device is posted to qemu-devel in a series of its own, with its
specification, docs/specs/edu-rng.rst).  The device is for teaching and
for testing drivers, in the spirit of QEMU's edu: a DMA engine that
fills guest memory from a ChaCha20 generator keyed from the host's RNG
or from a seed the guest writes.

Its bytes feed /dev/hwrng through a ring of four DMA buffers, 64 bytes
per read without a lock, and /dev/edu-rngN reads the ring directly in
large pieces.  Seeded through sysfs, the device gives a reproducible
stream, readable only through /dev/edu-rngN: it leaves the hwrng core
while seeded.  Failed, lost, unwritten and timed-out transfers and
interrupt storms are detected, counted in sysfs and reported as -EIO;
no byte is handed out twice, and none that the device did not write.

Patch 1 adds the driver, patch 2 documents its sysfs ABI.  Made against
Linux $KVERSION ($LVER, Debian's source); the driver builds
as a module with W=1 and C=1, and each patch passes
scripts/checkpatch.pl --strict.
MSG
}

# Write the linux series into $1 (emptied first).
linux_write() {
	local wt=$CACHE/linux-baseline/series.wt
	linux_baseline
	linux_make "$wt"
	series_format linux "$1" "$wt" "$(linux_cover)" "Linux $KVERSION ($LVER)"
}

# None of the lab's parts (its ID, ioctls, uapi header), no compat header,
# nothing of ours outside the series' files.
linux_no_lab() {
	! grep -nE 'EDU_RNG_LAB|edu-rng-lab|edu-rng-compat|uapi/linux/edu-rng|EDU_RNG_IOCTL|_IO[RW]*\(|1234:cafe|0x1234|LINUX_VERSION_CODE|KERNEL_VERSION|out of tree' "$1"/0*.patch
}

# Exactly LINUX_FILES changed from baseline to $2 in repo $1.
linux_files_only() {
	local changed
	changed=$(git -C "$1" diff --name-only baseline "$2")
	diff <(printf '%s\n' "${LINUX_FILES[@]}" | sort) <(printf '%s\n' "$changed" | sort) ||
		{ echo "the series' files differ from LINUX_FILES (< missing, > outside)"; return 1; }
}

# Kconfig of worktree $1: the 7.2 build's .config with HW_RANDOM_EDU_RNG=m
# keeps it through olddefconfig, which says nothing about our entry or
# its directory (in $OUT/linux-kconfig, kept for the next run's
# scripts/kconfig).
linux_kconfig_ok() {
	local o=$OUT/linux-kconfig out
	mkdir -p "$o"
	{ grep -v '^CONFIG_HW_RANDOM_EDU_RNG=' "$LKOBJ/.config"; echo CONFIG_HW_RANDOM_EDU_RNG=m; } >"$o/.config"
	out=$(make -s -C "$1" O="$o" ARCH=x86_64 olddefconfig 2>&1) || { echo "$out"; return 1; }
	printf '%s\n' "$out"
	! printf '%s\n' "$out" | grep -iE 'edu.rng|hw_random' || return 1
	grep -qx CONFIG_HW_RANDOM_EDU_RNG=m "$o/.config" || {
		grep HW_RANDOM "$o/.config"
		return 1
	}
}

# drivers/char/hw_random of worktree $1 built as modules against the
# configured 7.2 tree, CONFIG_HW_RANDOM_EDU_RNG=m, W=1 C=1 (sparse
# $2): no warning at all, sparse ran on each of our files, and
# edu-rng.ko is there.
linux_build() {
	local d=$1/$LINUX_HWRNG out f
	out=$(make -C "$LKOBJ" M="$d" CONFIG_HW_RANDOM_EDU_RNG=m W=1 C=1 CHECK="$2" modules 2>&1) ||
		{ printf '%s\n' "$out" | tail -n 40; return 1; }
	printf '%s\n' "$out" >"$OUT/linux-build.log"
	! printf '%s\n' "$out" | grep -E 'warning|error|not available|\.[ch]:[0-9]+:' || return 1
	for f in edu-rng-main.c edu-rng-cdev.c; do
		printf '%s\n' "$out" | grep -qE "^ *CHECK +(.*/)?$f\$" || { echo "sparse did not run on $f"; return 1; }
	done
	[ -f "$d/edu-rng.ko" ] || { echo "no $d/edu-rng.ko"; return 1; }
}

# The module binds to upstream QEMU's ID, and to nothing else.
linux_aliases() {
	local a
	a=$(modinfo -F alias "$1/$LINUX_HWRNG/edu-rng.ko") || return 1
	echo "$a"
	[ "$a" = 'pci:v00001B36d00000015sv*sd*bc*sc*i*' ]
}

# checkpatch.pl --strict of tree $1 on patch $2: 0 errors, 0 warnings,
# 0 checks; its SPDX check (scripts/spdxcheck.py, Debian's python3 first
# on PATH) ran.
linux_checkpatch() {
	local out
	out=$(cd "$1" && PATH=/usr/bin:$PATH perl scripts/checkpatch.pl --strict "$2" 2>&1) || true
	printf '%s\n' "$out"
	! printf '%s\n' "$out" | grep -q '^Traceback' || return 1
	printf '%s\n' "$out" | grep -qx 'total: 0 errors, 0 warnings, 0 checks, [0-9]* lines checked'
}

# Verify the series in $1 (TAP lines).
linux_check() {
	local dir=$1 wt=$CACHE/linux-baseline/series.wt p n commit tree sp t0
	n=$(find "$dir" -name '0*.patch' ! -name '0000-*' | wc -l)
	tap_run "linux: $n patches and a cover letter: $(cd "$dir" && echo 0*.patch)" \
		test "$n" -gt 0
	tap_run "linux: the cover letter has its subject and text" cover_ok "$dir" "hwrng: edu-rng"
	tap_run "linux: every patch is Signed-off-by: $NAME <$EMAIL>" series_signed_off "$dir"
	tap_run "linux: none of the lab's interface (PCI ID 1234:cafe, ioctls), no compat header in the series" \
		linux_no_lab "$dir"
	baseline_worktree "$LREPO" "$wt"
	# shellcheck disable=SC2046
	tap_run "linux: git am applies the series to a fresh baseline of Linux $KVERSION ($LVER)" \
		sgit -C "$wt" am -q --no-3way $(find "$dir" -name '0*.patch' ! -name '0000-*' | sort)
	commit=$(git -C "$wt" rev-parse HEAD)
	tree=$(git -C "$wt" rev-parse "HEAD^{tree}")
	tap_run "linux: the applied series gives the tree it was made from" \
		test "$tree" = "$(cat "$dir/.tree")"
	tap_run "linux: the series changes ${LINUX_FILES[*]}, and nothing else" linux_files_only "$wt" "$commit"
	tap_run "linux: Kconfig: HW_RANDOM_EDU_RNG=m stays through olddefconfig on the $LINUX_KERNEL guest's .config" \
		linux_kconfig_ok "$wt"
	t0=$SECONDS
	if sp=$("$TOP/scripts/sparse.sh"); then
		tap_run "linux: $LINUX_HWRNG builds in-tree, edu-rng.ko =m, W=1 C=1 without a warning, against $(cat "$LKOBJ/.release")" \
			linux_build "$wt" "$sp"
		echo "# linux: sparse and the build: $((SECONDS - t0)) s"
	else
		tap_run "linux: scripts/sparse.sh" false
	fi
	tap_run "linux: edu-rng.ko's only alias is PCI 1b36:0015" linux_aliases "$wt"
	for p in "$dir"/0*.patch; do
		case $p in */0000-*) continue ;; esac
		tap_run "linux: checkpatch.pl --strict ${p##*/}: 0 errors, 0 warnings, 0 checks" \
			linux_checkpatch "$wt" "$p"
	done
}

# --- main ---

main() {
	local check=0 s names=()
	while [ $# -gt 0 ]; do
		case $1 in
		--check) check=1 ;;
		--list) printf '%s\n' "${SERIES_ALL[@]}"; return 0 ;;
		-h | --help) usage; return 0 ;;
		-*) die "unknown option '$1' (see --help)" ;;
		*)
			printf '%s\n' "${SERIES_ALL[@]}" | grep -qxF "$1" ||
				die "no series '$1' (there are: ${SERIES_ALL[*]})"
			names+=("$1")
			;;
		esac
		shift
	done
	[ ${#names[@]} -gt 0 ] || names=("${SERIES_ALL[@]}")
	identity
	DATE=$(git -C "$TOP" log -1 --format=%cI)
	for s in "${names[@]}"; do
		"${s}_series_deps" "$check"
	done
	mkdir -p "$OUT"
	[ $check -eq 0 ] || echo "TAP version 13"
	for s in "${names[@]}"; do
		"${s}_write" "$OUT/$s"
		[ $check -eq 0 ] || "${s}_check" "$OUT/$s"
	done
	[ $check -eq 0 ] || tap_end
}

main "$@"

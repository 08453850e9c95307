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
# A series is two functions, <name>_write DIR and <name>_check DIR, and
# a name in SERIES_ALL; a Linux series (the driver) goes beside qemu.
set -eu
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"
# shellcheck source=../qemu/build-qemu.sh
. "$TOP/qemu/build-qemu.sh"
# shellcheck source=tap.sh
. "$TOP/scripts/tap.sh"

SERIES_ALL=(qemu)
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

# Worktree $1 of the baseline, fresh: at the baseline commit, every file
# as committed and nothing else (made once; then git rewrites only what
# differs, and removes what is not the baseline's).
qemu_worktree() {
	if git -C "$1" rev-parse --git-dir >/dev/null 2>&1; then
		git -C "$1" am --abort >/dev/null 2>&1 || true
		git -C "$1" checkout -q -f --detach baseline
		git -C "$1" clean -q -ffdx
	else
		rm -rf "$1"
		git -C "$QREPO" worktree prune
		git -C "$QREPO" worktree add -q --detach "$1" baseline
	fi
	git -C "$1" diff --quiet baseline || die "worktree $1 is not the baseline"
}

# Commit what changed in worktree $1: subject $2, the body on stdin.
qemu_commit() {
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
	qemu_commit "$wt" "docs/specs/pci-ids: allocate 1b36:0015 for edu-rng" <<'MSG'
edu-rng, a PCI random number generator with DMA added by the next
patch, takes the next free device ID of QEMU's 1b36 range.  Add it to
docs/specs/pci-ids.rst and as PCI_DEVICE_ID_REDHAT_EDU_RNG to
include/hw/pci/pci.h.
MSG

	install_device "$wt" edu-rng.c
	qemu_maintain "$wt" "hw/misc/edu-rng*"
	qemu_commit "$wt" "hw/misc: add edu-rng, a PCI random number generator with DMA" <<'MSG'
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
guest writes keeps QEMU busy.  A delayed transfer (x-dma-latency-ns)
completes in a guarded bottom half, never while the VM is stopped, and
migrates while pending (subsection edu-rng/pending-dma).

x-dma-latency-ns, x-gen-ahead and x-fault-injection are for tests.
MSG

	mkdir -p "$s"
	install_if_changed "$SPEC_FILE" "$s/edu-rng.rst"
	sed -i '/^   edu-rng$/d; /^   edu$/a\   edu-rng' "$s/index.rst"
	grep -qx '   edu-rng' "$s/index.rst" || die "cannot add edu-rng to $s/index.rst"
	qemu_pci_ids_entry "$wt" "PCI random number generator (\`\`-device edu-rng\`\`, :doc:\`edu-rng\`)"
	qemu_maintain "$wt" docs/specs/edu-rng.rst
	qemu_commit "$wt" "docs/specs: add the edu-rng device specification" <<'MSG'
Registers, DMA commands, the generator and its known answers, reset
and migration, properties and trace events of edu-rng, linked from the
index and from its PCI ID's entry.
MSG

	install_qtest "$wt" edu-rng-test
	qemu_maintain "$wt" tests/qtest/edu-rng-test.c
	qemu_commit "$wt" "tests/qtest: add edu-rng-test" <<'MSG'
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

# Write the qemu series into $1 (emptied first).
qemu_write() {
	local dir=$1 wt=$CACHE/qemu-baseline/write.wt n
	qemu_baseline
	qemu_make "$wt"
	n=$(git -C "$wt" rev-list --count baseline..HEAD)
	git -C "$wt" branch -f -q edu-rng HEAD
	git -C "$wt" config branch.edu-rng.description "$(qemu_cover)"
	rm -rf "$dir"
	mkdir -p "$dir"
	git -C "$wt" -c core.abbrev=12 format-patch -q --cover-letter \
		--cover-from-description=subject --no-signature -o "$dir" \
		baseline..edu-rng
	git -C "$wt" rev-parse "edu-rng^{tree}" >"$dir/.tree"
	echo "patches: qemu: $n patches and a cover letter in ${dir#"$TOP"/}, against QEMU $(cat "$QSRC/VERSION") (Debian $QVER)" >&2
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

qemu_signed_off() {
	local p
	for p in "$1"/0*.patch; do
		case $p in */0000-*) continue ;; esac
		grep -qxF "Signed-off-by: $NAME <$EMAIL>" "$p" || { echo "$p: no Signed-off-by: $NAME <$EMAIL>"; return 1; }
	done
}

qemu_cover_ok() {
	local c
	c=$(echo "$1"/0000-*.patch)
	[ -f "$c" ] || { echo "no cover letter"; return 1; }
	! grep -n '\*\*\* .* HERE \*\*\*' "$c" || return 1
	grep -q '^Subject: \[PATCH 0/[0-9]*\] hw/misc: edu-rng' "$c"
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
	tap_run "qemu: the cover letter has its subject and text" qemu_cover_ok "$dir"
	tap_run "qemu: every patch is Signed-off-by: $NAME <$EMAIL>" qemu_signed_off "$dir"
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
	qemu_deps
	[ $check -eq 0 ] || "$TOP/scripts/deps.sh" python3-docutils
	mkdir -p "$OUT"
	[ $check -eq 0 ] || echo "TAP version 13"
	for s in "${names[@]}"; do
		"${s}_write" "$OUT/$s"
		[ $check -eq 0 ] || "${s}_check" "$OUT/$s"
	done
	[ $check -eq 0 ] || tap_end
}

main "$@"

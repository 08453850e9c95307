#!/bin/sh
# The demo of make run GUEST=debian without a terminal: what systemd, udev
# and rngd made of edu-rng's packages on Debian 12, and the tools.  It
# shows, it does not test (the guest-debian suite does): each command as
# typed, its output, and on.
export SYSTEMD_COLORS=0
# back to host entropy: the device's mode attribute
host_mode() {
	for d in /sys/bus/pci/devices/*; do
		[ "$(cat "$d/vendor"):$(cat "$d/device")" = 0x1234:0xcafe ] || continue
		echo "# echo host > $d/mode"
		echo host >"$d/mode"
	done
}
typed() {
	echo "# $*"
	timeout 30 "$@" || echo "(status $?)"
}
echo "=== Debian $(cat /etc/debian_version), $(uname -r), edu-rng by DKMS"
typed systemctl is-system-running --wait
typed dpkg-query -W edu-rng-dkms edu-rng-tools
typed dkms status -m edu-rng
echo "=== udev loaded the module by the device's modalias"
typed sh -c 'grep -H . /sys/bus/pci/devices/*/modalias | grep -i v00001234d0000CAFE'
typed sh -c 'lsmod | grep -w edu_rng'
typed cat /sys/class/misc/hw_random/rng_current
echo "=== rng-tools5's rngd.service, on /dev/hwrng"
typed systemctl --no-pager status rngd.service
echo "=== the tools"
typed edu-rng info
typed edu-rng read -f hex -n 64
typed edu-rng seed 42
typed edu-rng read -f u32 -n 16
typed lab-rng -s 42 -n 4
host_mode
typed edu-rng bench -n 1M
typed journalctl -b --no-pager -o cat -g 'edu.rng|rngd'
exit 0

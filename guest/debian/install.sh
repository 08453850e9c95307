#!/bin/sh
# The first boot of make run GUEST=debian (guest/run-debian.sh): apt
# installs the two packages beside it, offline; DKMS builds the module.
set -eu
cd "$(dirname "$0")"
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
	./edu-rng-dkms_*.deb ./edu-rng-tools_*.deb
dkms status -m edu-rng

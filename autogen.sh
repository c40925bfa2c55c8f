#!/bin/sh
# Regenerates configure and Makefile.in from configure.ac and Makefile.am.
set -e
cd "$(dirname "$0")"
mkdir -p build-aux m4
autoreconf --install --force
# The TAP test driver ships with automake but is not installed by autoreconf.
cp -f "$(automake --print-libdir)/tap-driver.sh" build-aux/tap-driver.sh

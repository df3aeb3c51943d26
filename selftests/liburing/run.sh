#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Guest entry point of the liburing area: liburing's own tests
# (liburing.sh; README, "liburing's test suite").
exec bash "$(dirname "$(readlink -f "$0")")/liburing.sh"

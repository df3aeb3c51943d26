#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Guest entry point of the block selftests.
exec bash "$(dirname "$(readlink -f "$0")")/verify.sh"

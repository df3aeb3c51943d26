"""The skips the project expects in its own runs, each with its reason.

In the project's own runs (``make test``, ``harness suite``) a skip hides a
broken or missing feature, so every skip fails unless it is listed here:
``"area"`` for a whole area that reports ``1..0 # SKIP reason``, or
``"area/test"`` (the KTAP path, subtests as ``parent/child``) for one
result.  Each entry says why the skip is right on the project's own kernel
and machines.  There is none today.
"""

from __future__ import annotations

EXPECTED_SKIPS: dict[str, str] = {}

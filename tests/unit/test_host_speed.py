"""Guest time limits scaled by the host's speed (harness.host_speed; no VM)."""

from __future__ import annotations

import pytest

from harness import host_speed, vm


def test_scale_is_the_reference_over_the_rate_between_1_and_the_cap() -> None:
    ref = host_speed.REFERENCE_RATE
    assert host_speed.scale_for(ref) == 1.0
    assert host_speed.scale_for(ref * 3) == 1.0
    assert host_speed.scale_for(ref / 2.5) == pytest.approx(2.5)
    assert host_speed.scale_for(ref / 100) == host_speed.MAX_SCALE
    assert host_speed.scale_for(0) == host_speed.MAX_SCALE


def test_the_loop_rate_is_positive_and_counts_its_iterations() -> None:
    assert host_speed.loop_rate(10_000) > 0


def test_the_environment_overrides_the_host(monkeypatch) -> None:
    monkeypatch.setattr(vm, "_host_scale", lambda: 9.0)
    monkeypatch.setenv("HARNESS_TIMEOUT_SCALE", "2.5")
    assert vm.timeout_scale() == 2.5
    monkeypatch.delenv("HARNESS_TIMEOUT_SCALE")
    assert vm.timeout_scale() == 9.0


@pytest.mark.parametrize("value", ["fast", "0", "-1"])
def test_a_bad_environment_value_is_an_error_naming_it(monkeypatch, value: str) -> None:
    monkeypatch.setenv("HARNESS_TIMEOUT_SCALE", value)
    with pytest.raises(vm.GuestError, match="HARNESS_TIMEOUT_SCALE"):
        vm.timeout_scale()

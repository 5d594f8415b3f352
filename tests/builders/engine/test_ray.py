"""The Ray engine on a real local cluster: same results as the local engine, errors, retries."""

from __future__ import annotations

import functools
import os

import pytest

from builders.engine import Engine, map_units
from builders.errors import UserError
from tests.builders.engine import units

RAY = Engine("ray", workers=2)


def test_results_are_in_unit_order_and_equal_the_local_engine(ray_cluster):
    on_ray = map_units(units.slow_square, list(range(10)), engine=RAY, progress=False)
    local = map_units(units.slow_square, list(range(10)), workers=2, progress=False)
    assert [r[0] for r in on_ray] == [r[0] for r in local] == [x * x for x in range(10)]


def test_ray_workers_run_at_the_local_workers_priority(ray_cluster):
    # Ray's default niceness 15 let any other CPU load starve a build (20x slower)
    assert map_units(units.niceness, [0, 1], engine=RAY, progress=False) == [os.nice(0)] * 2
    assert map_units(units.niceness, [0, 1], workers=2, progress=False) == [os.nice(0)] * 2


def test_stateful_units_run_on_actors_that_keep_their_state(ray_cluster):
    results = map_units(
        units.count, list(range(8)), engine=RAY, state=units.make_counter, progress=False
    )
    per_actor: dict[int, list[int]] = {}
    for pid, calls in results:
        per_actor.setdefault(pid, []).append(calls)
    assert len(per_actor) == 2 and all(
        sorted(c) == list(range(1, len(c) + 1)) for c in per_actor.values()
    )


def test_a_failing_unit_is_named_with_its_node(ray_cluster):
    with pytest.raises(UserError, match=r"unit 3 is broken \[unit 3 on node "):
        map_units(units.fail_on_three, list(range(6)), engine=RAY, progress=False)
    with pytest.raises(UserError, match=r"no model here \[on node "):
        map_units(units.count, list(range(4)), engine=RAY, state=units.refuse_state, progress=False)


def test_a_worker_killed_mid_unit_loses_only_that_unit(ray_cluster, tmp_path):
    dies_once = functools.partial(units.die_once, str(tmp_path))
    assert map_units(dies_once, list(range(5)), engine=RAY, progress=False) == [0, 10, 20, 30, 40]
    assert (tmp_path / "died-2").is_file()


@pytest.mark.parametrize("address", ["127.0.0.1:1", "nonsense"])
def test_an_unreachable_or_malformed_address_is_a_prompt_one_line_error(address):
    with pytest.raises(UserError, match="Ray cluster at 127.0.0.1:1|auto or HOST:PORT"):
        map_units(units.slow_square, [1], engine=Engine("ray", 1, address), progress=False)


def test_ray_options_need_the_ray_engine():
    with pytest.raises(UserError, match="--ray-address needs --engine ray"):
        Engine("local", 1, "auto")

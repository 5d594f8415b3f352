"""The demo's step clock: wall and CPU seconds per step, without the background process's CPU."""

from __future__ import annotations

import time

from builders.demo.run import StepClock
from builders.engine.background import Background


def burn_cpu(seconds: float) -> str:
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass
    return "burnt"


def test_the_process_reports_its_cpu_time_and_a_clock_step_does_not_count_it(tmp_path):
    with Background(burn_cpu, 1.5, log=tmp_path / "log.txt") as job:
        clock = StepClock(1, background=job)
        with clock.step("a step during which the background process ends and is reaped"):
            while not job.finished():
                time.sleep(0.05)
        assert job.result() == "burnt"
    assert 1.4 <= job.cpu_seconds() < 10
    ((_, seconds, cpu),) = clock.times
    assert cpu < 0.5 * job.cpu_seconds() <= seconds  # without the discount it would be >= 1.5 s


def test_the_demo_builds_the_recipe_it_is_given():
    from builders.cli import build_parser
    from builders.misme.recipe import RECIPE_V1

    parser = build_parser(["demo"])
    assert parser.parse_args(["demo"]).recipe is None  # run_demo's default: recipe v2
    assert parser.parse_args(["demo", "--recipe", str(RECIPE_V1)]).recipe == RECIPE_V1

"""The Ray executor on a local two-CPU cluster: same paths as serial, killed workers and drivers."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import torch

ray = pytest.importorskip("ray")

import topoloss as tl  # noqa: E402
from topoloss.analytic import AnalyticLandscape, get_landscape  # noqa: E402

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]


class DiesOnce(AnalyticLandscape):
    """Himmelblau whose first objective call in any process kills that process (once,
    marked by a file): a worker dying mid-task on its first attempt."""

    def __init__(self, marker: str) -> None:
        base = get_landscape("himmelblau")
        self.__dict__.update(base.__dict__)
        self.marker = marker

    def objective(self, points, batch=None):
        if not os.path.exists(self.marker):
            Path(self.marker).write_text(str(os.getpid()))
            os._exit(1)
        return super().objective(points, batch)


@pytest.fixture(scope="module")
def cluster():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")])}})
    yield ray.get_runtime_context().gcs_address
    ray.shutdown()


OPTIONS = dict(steps=60, n_minima=16, seed=3, group=1, progress=False)


def test_ray_gives_the_serial_barriers_even_when_a_worker_dies(cluster, tmp_path):
    land = get_landscape("himmelblau")
    serial = tl.analyze(land, **OPTIONS)
    far = tl.analyze(land, executor="ray", **OPTIONS)
    assert [p.pair for p in far.paths] == [p.pair for p in serial.paths]
    assert [p.barrier for p in far.paths] == [p.barrier for p in serial.paths]  # bit-identical
    for a, b in zip(far.paths, serial.paths):
        assert torch.equal(a.bends, b.bends)
    # a worker killed by its first task: Ray retries the task, the path is the same
    marker = tmp_path / "died"
    dying = tl.analyze(DiesOnce(str(marker)), minima=serial.minima, executor="ray",
                       **{k: v for k, v in OPTIONS.items() if k != "n_minima"})
    assert marker.exists() and int(marker.read_text()) != os.getpid()
    assert [p.barrier for p in dying.paths] == [p.barrier for p in serial.paths]
    np.testing.assert_array_equal(dying.barcode.intervals, serial.barcode.intervals)


DRIVER = """
import sys
import time
import topoloss as tl
from topoloss.analytic import get_landscape
from topoloss.engine.store import Run

land = get_landscape("himmelblau")
config = tl.StudyConfig().with_options(landscape="himmelblau", steps=60, n_minima=16, seed=3, group=1,
                                       executor="ray", address=sys.argv[2], num_cpus=1)
done = []


def block_after_two(path):
    # called after the run directory stored the path: tell the test after the second one, and
    # block, so the test's SIGKILL falls after two stored paths and before a third, by construction
    done.append(path)
    if len(done) == 2:
        open(sys.argv[3], "w").write("2")
        time.sleep(3600)


tl.run_pipeline(land, config, store=Run(sys.argv[1], config.to_dict(), new=True), progress=False,
                on_path=block_after_two)
"""


def test_a_killed_ray_driver_resumes_without_recomputing(cluster, tmp_path):
    from topoloss.engine.store import Run

    run_dir = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    marker = tmp_path / "two-paths-stored"
    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(DRIVER), str(run_dir), cluster, str(marker)],
                            env=env)
    try:
        deadline = time.monotonic() + 120  # bounds a hang only; the kill waits for the event
        while not marker.exists():
            assert proc.poll() is None, f"the driver ended ({proc.returncode}) before two paths were stored"
            assert time.monotonic() < deadline, "two paths were not stored in time"
            time.sleep(0.05)
        assert proc.poll() is None  # blocked after its second path, by construction
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    run = Run(run_dir)
    finished, _ = run.finished_paths()
    assert len(finished) == 2
    stored = {p.pair: p.barrier for p in finished}
    result = tl.run_study(run, progress=False)
    total = len(result.paths)
    assert len(finished) < total
    assert (result.computed_paths, result.reused_paths) == (total - len(finished), len(finished))
    assert {p.pair: p.barrier for p in result.paths if p.pair in stored} == stored
    serial = tl.analyze(get_landscape("himmelblau"), **OPTIONS)
    assert [p.barrier for p in result.paths] == [p.barrier for p in serial.paths]


def test_ray_is_bit_identical_to_serial_on_a_model_landscape_from_a_user_module(cluster):
    """Full-batch and small: serial trains the pairs of a round as one group (the flat
    step); each Ray task must run that same group, not one pair with the blockwise step."""
    from topoloss.config import StudyConfig
    from topoloss.engine.factories import make_landscape
    from topoloss.minima.train import train_minima

    land = make_landscape(StudyConfig(model="_ray_user_nets:model", data="_ray_user_nets:data"))
    assert land.batches_per_epoch == 1
    minima = train_minima(land, seeds=range(3), epochs=3, progress=False)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the workers' count (num_cpus=1)
    try:
        serial = tl.connect(land, minima, epochs=2, pairs="all", seed=0, progress=False)
        far = tl.connect(land, minima, epochs=2, pairs="all", seed=0, executor="ray", progress=False)
    finally:
        torch.set_num_threads(threads)
    assert [p.pair for p in far] == [p.pair for p in serial]
    assert [p.barrier for p in far] == [p.barrier for p in serial]
    for a, b in zip(far, serial):
        assert torch.equal(a.bends, b.bends)
        np.testing.assert_array_equal(a.losses, b.losses)


def test_the_progress_record_follows_ray_arrivals_and_a_stop_cancels_the_rest(cluster, tmp_path):
    from topoloss.engine.progress import read_history, read_progress
    from topoloss.engine.store import Run

    land = get_landscape("himmelblau")
    options = {k: v for k, v in OPTIONS.items() if k != "progress"}
    config = tl.StudyConfig(landscape="himmelblau").with_options(executor="ray", pairs="all", **options)
    arrivals: list[tuple] = []
    result = tl.run_pipeline(land, config, store=Run(tmp_path / "run", config.to_dict()), progress=False,
                             on_path=lambda p: arrivals.append(p.pair))
    history = read_history(tmp_path / "run")
    assert [h.pair for h in history] == [h.pair for h in result.history] == arrivals
    assert [h.paths_done for h in history] == list(range(1, len(result.paths) + 1))
    final = read_progress(tmp_path / "run")
    assert final["status"] == "finished"
    assert final["intervals"] == result.barcode.to_dict()["intervals"]
    # a stop that fires while pairs run (here: once two paths arrived; deterministic, unlike a
    # time limit) collects what has finished and cancels the rest
    from topoloss.engine.executors import PairTask, make_executor

    task = PairTask(land, result.minima, config.paths, config.evaluation, config.seed)
    pairs = [tuple(result.minima.index(n) for n in p.pair) for p in result.paths]
    arrived: list = []
    got = make_executor(config.execution).run(task, pairs, progress=False, on_path=arrived.append,
                                              stop=lambda: len(arrived) >= 2)
    assert 2 <= len(got) < len(pairs) and {p.pair for p in got} == {p.pair for p in arrived}
    by_pair = {p.pair: p for p in result.paths}
    assert all(p.barrier == by_pair[p.pair].barrier for p in got)  # what it kept is the full run's

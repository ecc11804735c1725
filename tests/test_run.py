"""Run directories: atomic results, resuming, refusing to mix configurations."""

import json

import pytest
import torch

from topoloss.config import StudyConfig
from topoloss.data import digits
from topoloss.engine.pipeline import prepare_minima, run_study
from topoloss.engine.provenance import minimum_fingerprint
from topoloss.engine.store import ConfigMismatch, Run
from topoloss.landscapes.model import ModelLandscape
from topoloss.minima.train import train_minima
from topoloss.models import fcn

CONFIG = {"model": "fcn:depth=1,width=8", "data": "digits", "minima": {"seeds": [0, 1, 2], "epochs": 2}}


@pytest.fixture(scope="module")
def land():
    train, test = digits()
    return ModelLandscape(lambda: fcn(64, 10, depth=1, width=8), train, test_data=test)


def test_interrupted_training_resumes_with_the_missing_seeds(land, tmp_path):
    full = prepare_minima(land, StudyConfig.from_dict(CONFIG), store=Run(tmp_path / "a", CONFIG), progress=False)
    run = Run(tmp_path / "b", CONFIG)
    # a run killed after seed 1 finished: only its part is on disk
    options = StudyConfig.from_dict(CONFIG).minima.training_options()
    stamp1 = minimum_fingerprint(StudyConfig.from_dict(CONFIG), 1)
    train_minima(land, seeds=[1], progress=False, on_minimum=lambda m: run.save_minimum_part(m, provenance=stamp1),
                 **options)
    part = run.dir / "minima" / "seed1.safetensors"
    stamp = (part.read_bytes(), part.stat().st_mtime_ns)
    resumed = prepare_minima(land, StudyConfig.from_dict(CONFIG), store=run, progress=False)
    assert (part.read_bytes(), part.stat().st_mtime_ns) == stamp
    assert resumed.names == full.names == ("seed0", "seed1", "seed2")
    assert torch.equal(resumed.points, full.points)
    assert list(resumed.losses) == list(full.losses)
    assert resumed.metrics == full.metrics
    # and the finished record is reused as it is
    again = prepare_minima(land, StudyConfig.from_dict(CONFIG), store=Run(tmp_path / "b", CONFIG), progress=False)
    assert torch.equal(again.points, full.points)


def test_config_mismatch_extension_and_new(tmp_path):
    Run(tmp_path / "r", CONFIG)
    extended = {**CONFIG, "paths": {"curve": "bezier"}}
    assert Run(tmp_path / "r", extended).config["paths"] == {"curve": "bezier"}
    changed = {**CONFIG, "minima": {"seeds": [0, 1], "epochs": 2}}
    with pytest.raises(ConfigMismatch, match="minima.seeds"):
        Run(tmp_path / "r", changed)
    run = Run(tmp_path / "r", changed, new=True)
    assert json.loads((run.dir / "config.json").read_text())["minima"]["seeds"] == [0, 1]
    aside = [p for p in tmp_path.iterdir() if p.name.startswith("r.old-")]
    assert len(aside) == 1 and json.loads((aside[0] / "config.json").read_text())["paths"]
    with pytest.raises(FileNotFoundError, match="not a topoloss run"):
        Run(tmp_path / "nothing")


def test_changed_checkpoint_is_refused(land, tmp_path):
    from topoloss.minima.train import save_minimum

    files = [save_minimum(land, land.initial_point(s), tmp_path / f"c{s}.safetensors") for s in range(2)]
    config = {"model": "fcn:depth=1,width=8", "data": "digits",
              "minima": {"checkpoints": [str(f) for f in files]}}
    run = Run(tmp_path / "run", config)
    cfg = StudyConfig.from_dict(config)
    first = prepare_minima(land, cfg, store=run, progress=False)
    assert torch.equal(prepare_minima(land, cfg, store=run, progress=False).points, first.points)
    save_minimum(land, land.initial_point(7), files[1])  # the user overwrites a checkpoint
    with pytest.raises(ConfigMismatch, match="c1.safetensors changed"):
        prepare_minima(land, cfg, store=run, progress=False)


def test_a_stored_path_of_other_endpoints_is_recomputed(land, tmp_path):
    config = {**CONFIG, "minima": {"seeds": [0, 1], "epochs": 1}, "paths": {"epochs": 1}}
    run = Run(tmp_path / "r", config)
    first = run_study(run, landscape=land, progress=False)
    (path,) = first.paths
    # a path file from elsewhere (e.g. copied in by hand) with the same name but other endpoints
    from dataclasses import replace

    run.save_path(replace(path, start=path.start + 1.0))
    messages = []
    again = run_study(run, landscape=land, progress=False, log=messages.append)
    assert any("does not join" in m for m in messages) and again.computed_paths == 1
    assert again.paths[0].barrier == first.paths[0].barrier


def test_minima_fingerprint_of_older_runs_is_unchanged_by_new_minima_options():
    """A run directory written before ``[minima] target_loss`` existed still resumes: the
    fingerprint at the option's default is the one the earlier release wrote (computed
    with commit 304b9b6 for this config), and setting the option changes it."""
    from topoloss.engine.provenance import minima_fingerprint

    config = StudyConfig.from_dict({"landscape": "rastrigin", "minima": {"n_minima": 9}})
    assert minima_fingerprint(config) == "c7850fb6e2a0209334328f0abe90f84b3f483920ea2a1f47dd876693e5d99cdb"
    target = StudyConfig.from_dict({"landscape": "rastrigin", "minima": {"n_minima": 9, "target_loss": 0.1}})
    assert minima_fingerprint(target) != minima_fingerprint(config)


def test_a_run_written_before_an_option_existed_resumes(tmp_path):
    """config.json of an older release lacks ``[minima] target_loss``: the run resumes, reusing its paths."""
    import topoloss as tl

    config = StudyConfig.from_dict({"landscape": "himmelblau", "minima": {"n_minima": 4},
                                    "paths": {"steps": 10, "pairs": "all"}})
    first = run_study(Run(tmp_path / "r", config.to_dict()), progress=False)
    stored = json.loads((tmp_path / "r" / "config.json").read_text())
    del stored["minima"]["target_loss"]
    (tmp_path / "r" / "config.json").write_text(json.dumps(stored))
    again = run_study(Run(tmp_path / "r", config.to_dict()), progress=False)
    assert first.computed_paths > 0 and again.computed_paths == 0 and again.reused_paths == first.computed_paths
    assert tl.to_score(again.barcode) == tl.to_score(first.barcode)


# ------------------------------------------------------------------ file names
NAMES = ("a b", "a_b", "a--b", "c", "a", "b--c")  # "a b"/"a_b" and ("a--b", "c")/("a", "b--c") collided


def test_file_names_are_injective_for_names_and_pairs():
    from topoloss.engine.store import file_name

    stems = [file_name(n) for n in (*NAMES, "-a", "a-", "a-b", "%20", ".", "..", "", "é", "a/b")]
    assert len(set(stems)) == len(stems)
    assert all("/" not in s and s not in (".", "..") for s in stems)
    pairs = {f"{file_name(u)}--{file_name(v)}" for u in NAMES for v in NAMES if u != v}
    assert len(pairs) == len(NAMES) * (len(NAMES) - 1)
    assert file_name("seed0") == "seed0" and file_name("w-1") == "w-1"  # usual names keep their files


def _colliding_study(tmp_path):
    from topoloss.analytic import get_landscape
    from topoloss.minima.find import Minima

    land = get_landscape("himmelblau")
    points = torch.tensor([[3.0, 2.0], [-2.8, 3.1], [-3.8, -3.3], [3.6, -1.8], [0.0, 0.0], [1.0, 4.0]])
    minima = Minima.from_points(land, points, names=NAMES)
    config = StudyConfig(landscape="himmelblau").with_options(steps=4, pairs="all")
    return land, minima, config


def test_colliding_names_keep_every_path_and_resume_without_recomputing(tmp_path):
    from topoloss.engine.pipeline import run_pipeline

    land, minima, config = _colliding_study(tmp_path)
    first = run_pipeline(land, config, minima=minima, store=Run(tmp_path / "r", config.to_dict()), progress=False)
    assert (first.computed_paths, first.reused_paths) == (15, 0)
    assert len(list((tmp_path / "r" / "paths").glob("*.safetensors"))) == 15
    again = run_pipeline(land, config, minima=minima, store=Run(tmp_path / "r", config.to_dict()), progress=False)
    assert (again.computed_paths, again.reused_paths) == (0, 15)
    assert [p.barrier for p in again.paths] == [p.barrier for p in first.paths]
    assert Run(tmp_path / "r").load_path("a--b", "c").pair == ("a--b", "c")
    assert Run(tmp_path / "r").load_path("b--c", "a").pair == ("a", "b--c")


def test_a_run_written_with_the_old_colliding_names_resumes_and_loses_nothing(tmp_path):
    import re

    from topoloss.engine.pipeline import run_pipeline

    land, minima, config = _colliding_study(tmp_path)
    reference = run_pipeline(land, config, minima=minima, store=Run(tmp_path / "new", config.to_dict()),
                             progress=False)
    # the old run: the same files under the old names, where later pairs overwrote earlier ones
    old = tmp_path / "old"
    Run(old, config.to_dict())
    (old / "paths").mkdir()
    legacy = {}
    for p in reference.paths:
        stem = "--".join(re.sub(r"[^A-Za-z0-9._-]+", "_", str(n)) for n in p.pair)
        legacy[stem] = p.pair
        (old / "paths" / f"{stem}.safetensors").write_bytes(Run(tmp_path / "new").path_file(*p.pair).read_bytes())
    assert len(legacy) == 10  # five of the 15 paths were lost to a collision
    resumed = run_pipeline(land, config, minima=minima, store=Run(old, config.to_dict()), progress=False)
    assert (resumed.computed_paths, resumed.reused_paths) == (5, 10)
    assert [p.barrier for p in resumed.paths] == [p.barrier for p in reference.paths]
    stored = sorted(tuple(sorted(record.pair)) for _, record, _ in Run(old).stored_paths()[0])
    assert stored == sorted(tuple(sorted(p.pair)) for p in reference.paths)  # 15 files, one per pair
    final = run_pipeline(land, config, minima=minima, store=Run(old, config.to_dict()), progress=False)
    assert (final.computed_paths, final.reused_paths) == (0, 15)
    for pair in legacy.values():  # an old file read through the old name by load_path too
        assert {*Run(old).load_path(*pair).pair} == {*pair}

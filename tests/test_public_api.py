"""The flat API (``import topoloss as tl``): every registry's ``register_*`` is there, and
each name is the very object its home module defines."""

from __future__ import annotations

import importlib

import topoloss as tl

#: Every registry a user can add to, and the module that owns it.
HOMES = {
    "register_curve": "topoloss.paths.curves",
    "register_landscape": "topoloss.analytic",
    "register_dataset": "topoloss.data",
    "register_model": "topoloss.models",
    "register_pairs": "topoloss.engine.planners",
    "register_planner": "topoloss.engine.planners",
    "register_executor": "topoloss.engine.executors",
}


def test_every_register_function_is_top_level_and_the_same_object() -> None:
    for name, home in HOMES.items():
        assert name in tl.__all__, name
        assert getattr(tl, name) is getattr(importlib.import_module(home), name), name


def test_no_register_function_is_left_out() -> None:
    found = set()
    for home in set(HOMES.values()) | {"topoloss.paths", "topoloss.engine"}:
        module = importlib.import_module(home)
        found |= {n for n in getattr(module, "__all__", ()) if n.startswith("register_")}
    assert found <= set(HOMES), found - set(HOMES)


def test_every_public_name_resolves() -> None:
    for name in tl.__all__:
        assert getattr(tl, name) is not None, name

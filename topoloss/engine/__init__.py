"""The engine: configuration, pair planners, executors, the pipeline and run directories.

Importing the package registers the adaptive planner (:mod:`topoloss.engine.adaptive`
registers itself), so ``pairs="adaptive"`` works whichever engine module is imported first.
"""

from topoloss.engine import adaptive as _adaptive  # noqa: F401 - registers pairs="adaptive"

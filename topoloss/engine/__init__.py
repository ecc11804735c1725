"""The engine: configuration, pair planners, executors, the pipeline and run directories."""

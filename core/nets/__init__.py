"""The networks: architectures and the shipped models, a training's configuration, loop, cost and run, a visitor's
own models, links and uploads."""

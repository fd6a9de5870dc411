"""Image distribution: the registry v2 client and the pull, push, save and load pipelines."""

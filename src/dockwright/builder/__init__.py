"""The Dockerfile builder: parsing, expansion, .dockerignore, stages, cache keys (pure), and the
context and copy helpers the engine's build service uses on its private temporary directories."""

.PHONY: setup demo test unit

setup:
	bash scripts/setup.sh

demo: setup
	bash scripts/demo.sh

test: setup
	bash scripts/test.sh

unit: setup
	.venv/bin/pytest -m unit -q

# Shortcuts for developers once `bash bootstrap.sh test` has set up .venv.
VENV := .venv/bin

.PHONY: demo test check lint fleet-up fleet-down fleet-cleanup

demo:
	bash bootstrap.sh demo

test:
	bash bootstrap.sh test

# The quick loop: lint, types and the tests that need no fleet.
check: lint
	$(VENV)/pytest -q -m "not fleet"

lint:
	$(VENV)/ruff check src tests bench lab
	$(VENV)/mypy

fleet-up:
	$(VENV)/python -m lab up --schools 2 --state /run/dlict-dev-fleet

fleet-down:
	$(VENV)/python -m lab down --state /run/dlict-dev-fleet

fleet-cleanup:
	$(VENV)/python -m lab cleanup

# The two commands a newcomer needs: `make run` (the bot in this terminal) and `make test`.
# Each creates the virtual environment and installs the project on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test lint format bench clean

$(BIN)/studybot: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	@touch $@

run: $(BIN)/studybot
	$(BIN)/studybot console

test: $(BIN)/studybot
	$(BIN)/pytest

lint: $(BIN)/studybot
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy bot adapters scheduler

format: $(BIN)/studybot
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(BIN)/studybot
	$(BIN)/python -m bench.store

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info

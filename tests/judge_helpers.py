"""What the tests of the LLM judges share: an isolated cache, a server, fast retry settings, scripted verdicts.

A test module imports the fixtures it wants (``from judge_helpers import isolated_judge_env, server``);
``isolated_judge_env`` is autouse, so importing it covers every test of the module.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from judge_server import JudgeServer, Reply, completion

__all__ = ["FAST", "isolate_judge_env", "isolated_judge_env", "last_user_text", "server", "verdict"]

FAST = {"timeout": 2.0, "max_retries": 1, "retry_backoff": 0.01, "retry_backoff_max": 0.05}
"""Judge settings that keep failing tests quick: short timeouts, one quick retry."""


def isolate_judge_env(tmp_path: Any, monkeypatch: Any) -> None:
    """A cache directory of the test's own and no inherited OpenAI settings."""
    monkeypatch.setenv("RFT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("RFT_NO_CACHE", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")


@pytest.fixture(autouse=True)
def isolated_judge_env(tmp_path, monkeypatch):
    """Every test gets its own judge cache and no inherited OpenAI settings."""
    isolate_judge_env(tmp_path, monkeypatch)


@pytest.fixture
def server():
    """A scripted judge server for the test (set ``server.script``)."""
    with JudgeServer(lifetime=60) as running:
        yield running


def verdict(result: Any, steps: tuple = (), **fields: Any) -> Reply:
    """A reply whose content is the structured verdict ``{"steps": [...], "result": result}``."""
    return completion(json.dumps({"steps": list(steps), "result": result}), **fields)


def last_user_text(body: dict[str, Any]) -> str:
    """The text of the last message of a request: where the judges put what they ask."""
    return body["messages"][-1]["content"]

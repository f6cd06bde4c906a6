"""OpenRLHF's ``reward_func``, loaded and called by OpenRLHF's own code (``SingleTurnAgentExecutor``)."""

from __future__ import annotations

import asyncio

import pytest
from openrlhf.utils.agent import SingleTurnAgentExecutor

from rft_core import Result, RftError, Status
from rft_core.integrations.openrlhf import STOP_MARKERS, response_text, reward_func, reward_inputs

SPEC_YAML = """\
type: multi
calculate_output: 0.5 * format + 0.5 * exact
graders:
  format: {type: string_check, operation: regex, reference: "^Answer: "}
  exact: {type: string_check, extract: "Answer:\\\\s*(.+)", reference: "{{ item.answer }}"}
"""


def test_openrlhf_loads_and_calls_our_reward_func(tmp_path):
    # --reward.remote_url my_reward.py: OpenRLHF imports the file and calls its reward_func(queries, prompts, labels)
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC_YAML)
    module = tmp_path / "my_reward.py"
    module.write_text(
        "import functools\n"
        "from rft_core.integrations.openrlhf import reward_func\n"
        f"reward_func = functools.partial(reward_func, spec={str(spec)!r})\n"
    )
    executor = SingleTurnAgentExecutor(remote_rm_url=str(module))
    queries = ["<s>Q: capital? Answer: Paris</s>", "<s>Q: capital? Paris</s>"]
    prompts = ["<s>Q: capital? ", "<s>Q: capital? "]
    infos = asyncio.run(executor._fetch_rewards_via_func(queries, prompts, ["Paris", "Paris"]))
    assert [info["rewards"] for info in infos] == [[1.0], [0.0]]
    assert infos[1]["extra_logs"] == {"format": [0.0], "exact": [0.0], "ungradable": [0.0]}  # a wrong format is a real 0


def test_reward_func_flags_what_it_cannot_grade():
    spec = {"type": "string_check", "reference": "{{ item.answer }}"}
    answer = reward_func(["P: x", "P: y", "other"], ["P: ", "P: ", "P: "], ['{"solution": "x"}', "y", "z"], spec=spec)
    # no item.answer in the first label; the third query lacks its prompt: reward 0.0 (documented) and flagged
    assert answer == {"rewards": [0.0, 1.0, 0.0], "scores": [0.0, 1.0, 0.0], "extra_logs": {"ungradable": [1.0, 0.0, 1.0]}}


RESPONSES = [
    # (query, prompt, response)
    pytest.param("Q A<|im_end|>", "Q ", "A", id="chatml"),
    pytest.param("Q A<|eot_id|><|end_of_text|>", "Q ", "A", id="two-markers"),
    pytest.param("Q A </s>", "Q ", "A ", id="text-before-marker-kept"),
    pytest.param("Q </s>A", "Q ", "</s>A", id="marker-inside-kept"),
    pytest.param("Q ", "Q ", "", id="empty"),
    pytest.param("Q a<b>", "Q ", "a<b>", id="other-tag-kept"),
    pytest.param("Q x>", "Q ", "x>", id="bracket-without-tag"),
    pytest.param("Q <|im_end|>", "Q ", "", id="only-a-marker"),
    pytest.param("X A", "Q ", None, id="not-the-prompt"),
]


@pytest.mark.parametrize(("query", "prompt", "response"), RESPONSES)
def test_response_text(query, prompt, response):
    assert response_text(query, prompt) == response


def test_reward_inputs_items():
    inputs = reward_inputs(["Q A"], ["Q "], [{"answer": "A", "prompt": "mine"}])
    assert inputs.items == [{"answer": "A", "prompt": "mine"}]  # the label's own prompt wins
    assert [sample.output_text for sample in inputs.samples] == ["A"]
    assert reward_inputs(["Q A"], ["Q "], [None]).items == [{"prompt": "Q "}]
    with pytest.raises(RftError, match="'labels' has 0 entries but 'query' has 1"):
        reward_inputs(["Q A"], ["Q "], [])


def test_reward_inputs_keep_unreadable_queries_in_their_place():
    inputs = reward_inputs(["Q1 A", "elsewhere", "Q3 C"], ["Q1 ", "Q2 ", "Q3 "], ["a", "b", "c"])
    assert [sample.output_text for sample in inputs.samples] == ["A", "C"]
    assert list(inputs.unreadable) == [1] and "query 1 does not start with its prompt" in inputs.unreadable[1]
    graded = [Result(1.0), Result(0.5)]
    results = inputs.results(graded)
    assert results[0] is graded[0] and results[2] is graded[1]
    assert results[1].status is Status.ERROR and results[1].error_code == "sample_parse_error"


def test_every_stop_marker_is_stripped():
    for marker in STOP_MARKERS:
        assert response_text(f"Q A{marker}", "Q ") == "A", marker

"""Tests for graders/python/code.py: program extraction, test cases, the OS sandbox, the Sandbox Fusion backend, the corpus."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from code_corpus import TIMEOUT, triples
from graders.python.code import Code, extract_program
from rft_core import SpecError, Status, load_spec
from rft_core.infra import sandbox
from rft_core.integrations.openai_compat import export_openai
from sandbox_checks import gone, shared_dir, with_secret

needs_sandbox = pytest.mark.skipif(sandbox.unavailable_reason() is not None, reason="no OS sandbox here")


def fenced(program: str, language: str = "python") -> str:
    return f"Solution:\n```{language}\n{program}\n```\n"


DOUBLE = {"tests": [{"stdin": "21\n", "stdout": "42\n"}, {"stdin": "5", "stdout": "10"}]}


# --- extraction ----------------------------------------------------------------------------------

TEXT = "First try:\n```python\nprint(1)\n```\nBetter:\n```py solution\nprint(2)\n```\n```bash\necho 3\n```\n"


@pytest.mark.parametrize(("language", "block", "program"), [
    ("python", "last", "print(2)\n"),
    ("python", "first", "print(1)\n"),
    ("python", "solution", "print(2)\n"),
    ("python", "helper", None),
    ("bash", "last", "echo 3\n"),
    ("cpp", "last", None),
])
def test_extract_program(language, block, program):
    assert extract_program(TEXT, language, block) == program


def test_an_unclosed_fence_is_no_program():
    assert extract_program("```python\nprint(1)\n", "python") is None


def test_a_flood_of_unclosed_fences_is_read_in_one_pass():
    """A regex pairing fences would scan to the end from every opener (quadratic): this took minutes with one."""
    assert extract_program("```python\n" * 200_000, "python") is None
    assert extract_program("````python\nx = '```'\n```\n````\n", "python") == "x = '```'\n```\n"


@needs_sandbox
def test_no_block_is_a_parse_error():
    result = Code().grade("print(42)", DOUBLE)
    assert (result.status, result.error_code) == (Status.PARSE_ERROR, "code_no_program")


# --- tests and comparison ------------------------------------------------------------------------

@needs_sandbox
def test_assert_forms_keep_the_literal_out_of_the_sandbox():
    program = "def f(a, b):\n    return 3\ndef g(x):\n    return (4, 5)\ndef is_even(n):\n    return n % 2 == 0\n"
    tests = ["assert f(1, [2]) == 3", "assert (4, 5) == g(x=1)", "assert is_even(4)", "assert not is_even(3)",
             "assert f(1, [2]) == 4", "assert is_even(3)", "assert not is_even(4)"]
    result = Code().grade(fenced(program), {"tests": tests})
    assert result.metadata["cases"] == ["passed"] * 4 + ["wrong_answer"] * 3
    # the program looks for the asserted literal in its memory and returns it if it finds it
    hunt = ("import gc, re, sys\ndef f():\n    seen = [repr(o) for o in gc.get_objects()]\n"
            "    frame = sys._getframe()\n    while frame:\n        seen.append(repr(frame.f_locals))\n"
            "        frame = frame.f_back\n    found = re.search(r'UNIQUE-LITERAL-\\d{4}', ' '.join(seen))\n"
            "    return found.group(0) if found else None\n")
    result = Code().grade(fenced(hunt), {"tests": ["assert f() == 'UNIQUE-LITERAL-0452'"]})
    assert result.metadata["cases"] == ["wrong_answer"]


@needs_sandbox
def test_apps_style_columns_and_json_text():
    double = fenced("print(int(input()) * 2)")
    stdio = json.dumps({"inputs": ["1\n", "2\n"], "outputs": ["2\n", "4\n"]})
    assert Code().grade(double, {"tests": stdio}).metadata["cases"] == ["passed", "passed"]
    calls = {"inputs": [[1, 2], [2, 2]], "outputs": [3, 5], "fn_name": "add"}
    result = Code().grade(fenced("def add(a, b):\n    return a + b\n"), {"tests": calls})
    assert result.metadata["cases"] == ["passed", "wrong_answer"]


@pytest.mark.parametrize("tests", [
    [], "import os", "assert (", [{"stdin": 1, "stdout": "x"}], [{"fn_name": "a b", "args": []}],
    [{"fn_name": "f", "args": 3}], [{"stdin": "", "stdout": "", "timeout": -1}], [{"stdin": "", "stdout": "", "memory_mb": True}],
    {"inputs": [1], "outputs": []}, "[not json", [7],
])
def test_malformed_tests_are_refused(tests):
    result = Code().grade(fenced("print(1)"), {"tests": tests})
    assert (result.status, result.error_code, result.reward) == (Status.ERROR, "code_tests_error", 0.0)
    assert result.reason.startswith("code: the item's tests ({{ item.tests }}): ")
    assert result.reason.endswith("; fix the dataset row")


@needs_sandbox
@pytest.mark.parametrize(("got", "expected", "compare", "equal"), [
    ("42\n", "42", "exact", False),
    ("42  \n\n", "42\n", "lines", True),
    ("1 2\n3", "1\n2 3", "lines", False),
    ("1 2\n3", "1\n2 3", "tokens", True),
    ("0.3333333\n", "0.33333333", "float", True),
    ("0.34\n", "0.33333333", "float", False),
    ("nan", "nan", "float", True),  # the same token
    ("inf", "1e308", "float", False),
])
def test_output_comparison(got, expected, compare, equal):
    program = fenced(f"import sys\nsys.stdout.write({got!r})")
    result = Code(compare=compare, float_tolerance=1e-6).grade(program, {"tests": [{"stdin": "", "stdout": expected}]})
    assert result.metadata["cases"] == ["passed" if equal else "wrong_answer"]


@needs_sandbox
def test_value_comparison_is_typed():
    cases = [
        ("True", 1, False), ("1", True, False), ("1", 1.0, True), ("[1, [2]]", [1, [2]], True),
        ("{'a': 1}", {"a": 1, "b": 2}, False), ("'1'", 1, False), ("0.1 + 0.2", 0.3, True), ("None", 0, False),
    ]
    program = "VALUES = [" + ", ".join(got for got, _, _ in cases) + "]\ndef value(n):\n    return VALUES[n]\n"
    tests = [{"fn_name": "value", "args": [n], "expected": expected} for n, (_, expected, _) in enumerate(cases)]
    result = Code(float_tolerance=1e-9).grade(fenced(program), {"tests": tests})
    assert result.metadata["cases"] == ["passed" if equal else "wrong_answer" for _, _, equal in cases]


# --- running in the sandbox ----------------------------------------------------------------------

@needs_sandbox
def test_stdio_call_and_assert_cases():
    grader = Code()
    assert grader.grade(fenced("print(int(input()) * 2)"), DOUBLE).reward == 1.0
    program = fenced("def pair(a, b):\n    return (a, {b})\n")
    tests = [{"fn_name": "pair", "args": [1, 2], "expected": [1, {"$set": [2]}]}, "assert pair(1, 2) == (1, {2})",
             "assert pair(1, 2)", "assert not pair(1, 2)", "assert pair(1, 2) == (1, {3})"]
    result = grader.grade(program, {"tests": tests})
    assert result.metadata["cases"] == ["passed", "passed", "passed", "wrong_answer", "wrong_answer"]
    assert result.reward == 3 / 5


@needs_sandbox
def test_all_or_nothing_stops_at_the_first_failure():
    result = Code(scoring="all").grade(fenced("print(int(input()) * 3)"), {"tests": [*DOUBLE["tests"], *DOUBLE["tests"]]})
    assert (result.reward, result.metadata["cases"]) == (0.0, ["wrong_answer"])


@needs_sandbox
def test_each_case_has_its_own_limits():
    program = fenced("import sys\nn = int(input())\nif n == 1:\n    while True: pass\nx = bytearray(n << 20)\nprint(n)")
    tests = [{"stdin": "1", "stdout": "1", "timeout": 0.5}, {"stdin": "300", "stdout": "300", "memory_mb": 100},
             {"stdin": "300", "stdout": "300", "memory_mb": 1024}, {"stdin": "2", "stdout": "2"}]
    result = Code(timeout=30).grade(program, {"tests": tests})
    assert result.metadata["cases"] == ["timeout", "memory_limit", "passed", "passed"]
    assert result.reason.startswith("2/4 cases passed; first failure: case 0: timeout")


@needs_sandbox
def test_one_sandbox_serves_every_sample_and_a_killed_one_is_replaced():
    grader = Code()
    assert [r.reward for r in grader.grade_batch([fenced("print(int(input()) * 2)")] * 5, [DOUBLE] * 5)] == [1.0] * 5
    assert grader.sandboxes_started == 1
    grader.close()
    assert grader.grade(fenced("print(int(input()) * 2)"), DOUBLE).reward == 1.0
    assert grader.sandboxes_started == 2
    clone = pickle.loads(pickle.dumps(grader))
    assert clone.grade(fenced("print(int(input()) * 2)"), DOUBLE).reward == 1.0


@needs_sandbox
def test_the_program_cannot_find_the_expected_output():
    """The expected values live only in rft's process: the program searches files and its own memory."""
    directory = shared_dir()
    secret = with_secret(directory)
    hunt = f"""
import gc, os, sys
found = []
for path in ({str(secret)!r}, "/proc/1/environ", "/etc/passwd"):
    try:
        found.append(open(path).read())
    except OSError:
        pass
for root, dirs, files in os.walk("/"):
    dirs[:] = [d for d in dirs if d not in ("usr", "dev") and root.count("/") < 4]
    found += [open(os.path.join(root, name), errors="replace").read(10_000) for name in files
              if os.access(os.path.join(root, name), os.R_OK) and not os.path.islink(os.path.join(root, name))]
found += [repr(o) for o in gc.get_objects() if isinstance(o, dict) and ("stdout" in o or "expected" in o)]
frame = sys._getframe()
while frame:
    found.append(repr(frame.f_locals)[:2000])
    frame = frame.f_back
print(repr(found))
"""
    # what it found goes to its output: 'clean' when neither the secret nor the expected output is in it (the
    # program file is among the files it reads: its pattern must not spell the secret)
    report = (hunt + "import re\nmatch = re.search('hunt' 'er2|UNIQUE-EXPECTED-[0-9]{4}', ' '.join(found))\n"
              "print(match.group(0) if match else 'clean')\n").replace("print(repr(found))\n", "")
    grader = Code()
    result = grader.grade(fenced(report), {"tests": [{"stdin": "1", "stdout": "clean"}]})
    assert result.metadata["cases"] == ["passed"], result.reason
    # a found expected output would be printed and pass: the expected values never reach the sandbox
    result = grader.grade(fenced(report), {"tests": [{"stdin": "1", "stdout": "UNIQUE-EXPECTED-0451"}]})
    assert result.metadata["cases"] == ["wrong_answer"]
    assert "UNIQUE-EXPECTED-0451" not in result.reason


@needs_sandbox
def test_leftover_processes_are_killed_after_each_case():
    program = fenced("import os, subprocess\nsubprocess.Popen(['/usr/bin/sleep', '3600', 'rft-code-orphan-7'])\nprint(1)")
    result = Code().grade(program, {"tests": [{"stdin": "", "stdout": "1"}]})
    assert result.metadata["cases"] == ["passed"]
    assert gone("rft-code-orphan-7")


@needs_sandbox
def test_state_does_not_leak_between_cases():
    program = fenced("import os\nprint(len(os.listdir('.')))\nopen('mark', 'w').write('x')")
    result = Code().grade(program, {"tests": [{"stdin": "", "stdout": "0"}] * 3})
    assert result.reward == 1.0


@needs_sandbox
@pytest.mark.parametrize(("output", "verdict"), [
    (fenced("import sys\nsys.stdout.buffer.write(b'\\xff\\xfe 42')"), "wrong_answer"),  # not UTF-8
    (fenced("def f(n):\n    return f(n + 1)\nf(0)"), "runtime_error"),  # RecursionError
    (fenced("import sys\nsys.stderr.write('e' * (1 << 24))\nprint(42)"), "passed"),  # stderr is kept as a tail
    (fenced("import os\nos.close(1)\nprint(42)"), "runtime_error"),
    (fenced("x = 1\n" * 50_000 + "print(42)"), "passed"),
    (fenced("import signal, os\nos.kill(os.getpid(), signal.SIGSEGV)"), "runtime_error"),
])
def test_hostile_programs_get_a_verdict(output, verdict):
    result = Code(max_program_chars=1_000_000).grade(output, {"tests": [{"stdin": "", "stdout": "42"}]})
    assert result.metadata["cases"] == [verdict], result.reason


@needs_sandbox
def test_a_program_over_the_size_limit_is_a_parse_error():
    result = Code(max_program_chars=100).grade(fenced("#" * 200), DOUBLE)
    assert (result.status, result.error_code) == (Status.PARSE_ERROR, "code_no_program")


def test_malformed_item_tests_are_an_error_naming_the_field():
    result = Code().grade(fenced("print(1)"), {"tests": "import os"})
    assert (result.status, result.error_code) == (Status.ERROR, "code_tests_error")
    assert "{{ item.tests }}" in result.reason and "fix the dataset row" in result.reason


# --- the corpus ----------------------------------------------------------------------------------

@needs_sandbox
def test_the_corpus_gets_the_expected_rewards():
    directory = shared_dir()
    tests_path = directory / "tests.jsonl"
    corpus = triples(str(tests_path))
    assert len(corpus) >= 200
    tests_path.write_text("".join(json.dumps({"item": t.item}) + "\n" for t in corpus))
    tests_path.chmod(0o644)  # readable by anyone on the host: only the sandbox keeps it away
    grader = Code(timeout=TIMEOUT)
    results = grader.grade_batch([t.output_text for t in corpus], [t.item for t in corpus])
    wrong = [(t.problem, t.variant, r.reward, r.metadata.get("verdict"), r.reason) for t, r in zip(corpus, results)
             if abs(r.reward - t.reward) > 1e-9 or r.metadata.get("verdict") != t.verdict]
    assert not wrong, wrong[:5]
    assert grader.sandboxes_started == 1
    assert Counter(r.status for r in results) == {Status.OK: len(corpus) - 24, Status.PARSE_ERROR: 24}  # the syntax errors


def test_the_reads_tests_attack_works_without_the_sandbox(tmp_path):
    """The attack is real: run directly on the host it prints the expected output it read."""
    tests_path = tmp_path / "tests.jsonl"
    corpus = triples(str(tests_path))
    tests_path.write_text("".join(json.dumps({"item": t.item}) + "\n" for t in corpus))
    attack = next(t for t in corpus if t.variant == "reads_tests" and "stdin" in t.item["tests"][0])
    program = extract_program(attack.output_text, "python")
    case = attack.item["tests"][-1]
    done = subprocess.run([sys.executable, "-I", "-c", program], input=case["stdin"], capture_output=True, text=True,
                          timeout=60)
    assert done.stdout == case["stdout"]


# --- Sandbox Fusion backend ----------------------------------------------------------------------

class FusionStandIn:
    """A stand-in Sandbox Fusion server on 127.0.0.1: POST /run_code, answers scripted by the program's text."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                stand_in.requests.append({"path": self.path, **body})
                payload = json.dumps(stand_in.answer(body)).encode() if self.path == "/run_code" else b"{}"
                self.send_response(200 if self.path == "/run_code" else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    @staticmethod
    def answer(body: dict) -> dict:
        def result(status="Finished", code=0, stdout="", stderr=""):
            return {"status": status, "execution_time": 0.01, "return_code": code, "stdout": stdout, "stderr": stderr}

        code = body["code"]
        compiled = result() if body["language"] == "cpp" else None
        if "COMPILE_FAIL" in code:
            return {"status": "Failed", "message": "", "compile_result": result(code=1, stderr="error: expected ';'"),
                    "run_result": None}
        if "SANDBOX_DOWN" in code:
            return {"status": "SandboxError", "message": "no executor", "compile_result": None, "run_result": None}
        if "SLOW" in code:
            run = result("TimeLimitExceeded", code=None)
        elif "CRASH" in code:
            run = result(code=139, stderr="Segmentation fault")
        else:  # DOUBLE: the program doubles its input
            run = result(stdout=f"{2 * int(body['stdin'])}\n")
        status = "Success" if run["status"] == "Finished" and run["return_code"] == 0 else "Failed"
        return {"status": status, "message": "", "compile_result": compiled, "run_result": run}

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fusion():
    server = FusionStandIn()
    yield server
    server.close()


@pytest.mark.integration
@pytest.mark.parametrize(("program", "status", "verdicts"), [
    ("// DOUBLE", Status.OK, ["passed", "passed", "wrong_answer"]),
    ("// COMPILE_FAIL", Status.PARSE_ERROR, None),
    ("// SLOW", Status.OK, ["timeout"] * 3),
    ("// CRASH", Status.OK, ["runtime_error"] * 3),
    ("// SANDBOX_DOWN", Status.ERROR, None),
])
def test_sandbox_fusion_backend(fusion, program, status, verdicts):
    grader = Code(language="cpp", backend="sandbox_fusion", endpoint=fusion.url, timeout=3, memory_mb=256)
    tests = [{"stdin": "2", "stdout": "4"}, {"stdin": "5", "stdout": "10"}, {"stdin": "1", "stdout": "3"}]
    result = grader.grade(fenced(program, "cpp"), {"tests": tests})
    assert result.status == status, result.reason
    assert result.metadata.get("cases") == verdicts
    sent = fusion.requests[0]
    assert sent == {"path": "/run_code", "code": program + "\n", "language": "cpp", "stdin": "2", "compile_timeout": 3,
                    "run_timeout": 3, "memory_limit_MB": 256}  # the expected output is never sent


@pytest.mark.integration
def test_sandbox_fusion_refuses_call_cases_and_reports_an_unreachable_server(fusion):
    grader = Code(language="cpp", backend="sandbox_fusion", endpoint=fusion.url)
    refused = grader.grade(fenced("// DOUBLE", "cpp"), {"tests": ["assert f(1) == 2"]})
    assert (refused.status, refused.error_code) == (Status.ERROR, "code_tests_error")
    fusion.close()
    down = grader.grade(fenced("// DOUBLE", "cpp"), {"tests": [{"stdin": "1", "stdout": "2"}]})
    assert (down.status, down.error_code) == (Status.ERROR, "code_backend_error")
    assert "endpoint" in down.reason


# --- spec, schema, OpenAI ------------------------------------------------------------------------

@pytest.mark.parametrize(("fields", "message"), [
    ({"language": "cpp"}, "the local backend runs python only"),
    ({"backend": "sandbox_fusion"}, "needs 'endpoint'"),
    ({"compare": "fuzzy"}, "compare"),
])
def test_bad_config_fails_the_spec_load(registry, fields, message):
    with pytest.raises(SpecError, match=message):
        load_spec({"type": "code", **fields}, registry=registry)


def test_export_to_openai_is_refused_with_the_reason(registry):
    with pytest.raises(SpecError, match="OpenAI has no code-execution grader"):
        export_openai({"type": "code"}, registry=registry)


# --- rft audit -----------------------------------------------------------------------------------

@needs_sandbox
def test_the_code_probes_fail_on_hidden_tests_and_flag_weak_ones():
    from rft_core.audit.auditor import audit

    items = [{"tests": [{"stdin": "2", "stdout": "4"}, {"stdin": "5", "stdout": "10"}, {"stdin": "0", "stdout": "0"}]},
             {"tests": [{"fn_name": "f", "args": [1], "expected": [1]}, {"fn_name": "f", "args": [2], "expected": [2, 2]},
                        {"fn_name": "f", "args": [0], "expected": []}]},
             {"tests": json.dumps({"inputs": ["1\n", "2\n", "3\n"], "outputs": ["1\n", "4\n", "9\n"]})}]
    probes = ["code_visible_example", "code_exits_early"]
    report = audit({"type": "code"}, items, probes=probes)
    assert report.passed
    example = next(f for f in report.findings if f.probe == "code_visible_example" and f.grader == "(root)")
    assert example.mean_reward == pytest.approx(1 / 3)
    weak = [{"tests": [{"stdin": str(n), "stdout": "yes"} for n in range(3)] + [{"stdin": "7", "stdout": "no"}]}] * 2
    assert [finding.probe for finding in audit({"type": "code"}, weak, probes=probes).flagged] == ["code_visible_example"]


def test_the_code_probes_skip_items_without_tests():
    from rft_core.audit.probes import PROBES, contexts

    context = contexts([{"answer": "Paris"}])[0]
    assert [probe.name for probe in PROBES if probe.name.startswith("code_") and probe.texts(context)] == []


@needs_sandbox
def test_a_program_that_fails_in_every_way_keeps_status_ok_and_its_partial_reward():
    """The status says whether the sample could be graded; what the program did is its verdict. A
    crash or a loop costs reward (a trainer must not skip it), the cases it passed still count."""
    program = fenced("n = int(input())\nif n == 2:\n    print(5)\nelif n == 3:\n    raise ValueError(n)\n"
                     "elif n == 4:\n    while True: pass\nelse:\n    print(n)")
    tests = [{"stdin": str(n), "stdout": str(n)} for n in (1, 2, 3, 4)]
    result = Code(timeout=0.5).grade(program, {"tests": tests})
    assert (result.status, result.reward) == (Status.OK, 0.25)
    assert result.metadata["cases"] == ["passed", "wrong_answer", "runtime_error", "timeout"]
    assert result.metadata["verdict"] == "wrong_answer"  # the first failing case's
    assert "error_code" not in result.metadata  # no error flag: the grade itself went fine
    broken = Code().grade(fenced("print(("), {"tests": tests})
    assert (broken.status, broken.reward, broken.metadata["verdict"]) == (Status.PARSE_ERROR, 0.0, "compile_error")

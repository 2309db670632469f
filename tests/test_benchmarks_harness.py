"""The benchmark command: figures summed up, goals judged, the table, and what makes it fail."""

from __future__ import annotations

import json

import pytest

from tests.benchmarks import run, table
from tests.benchmarks.harness import Context, Goal, Outcome, Scenario, percentile, timings


def test_timings_sum_up_the_samples_in_seconds():
    row = timings("send", [0.004, 0.001, 0.003, 0.002, 0.010])
    assert (row.samples, row.median, row.min, row.max) == (5, 0.003, 0.001, 0.010)
    assert row.p95 == 0.010


def test_percentile_is_the_nearest_rank():
    ordered = [float(n) for n in range(1, 101)]
    assert (percentile(ordered, 95), percentile(ordered, 50), percentile(ordered, 1)) == (
        95.0, 50.0, 1.0)
    assert percentile([7.0], 95) == 7.0


def test_a_row_against_its_reference_has_the_ratio_of_the_medians_and_the_goal():
    reference = timings("bare", [0.010, 0.010, 0.010])
    row = timings("cosmobot", [0.0102, 0.0102, 0.0102]).against(reference, Goal("ratio", 1.03))
    assert (row.reference, round(row.ratio, 6), row.met) == ("bare", 1.02, True)
    slow = timings("slow", [0.0104, 0.0104, 0.0104]).against(reference, Goal("ratio", 1.03))
    assert slow.met is False


def test_a_goal_is_met_at_its_limit_unless_it_is_strict():
    row = timings("answer", [0.020])
    assert Goal("p95", 0.020).met(row)
    assert not Goal("p95", 0.020, strict=True).met(row)
    assert Goal("median", 0.021, strict=True).met(row)
    assert timings("no goal", [1.0]).met is None


def test_a_goal_says_its_bound_in_the_rows_unit():
    assert Goal("ratio", 1.05).describe("ms") == "ratio ≤ 1.05"
    assert Goal("p95", 0.020, strict=True).describe("ms") == "p95 < 20 ms"
    assert Goal("median", 20e-6).describe("µs") == "median ≤ 20 µs"
    assert Goal("median", 28.0, minimum=True).describe("msg/s") == "median ≥ 28 msg/s"


def test_a_floor_is_met_at_or_above_it():
    rate = timings("messages a second", [28.0])
    assert Goal("median", 28.0, minimum=True).met(rate)
    assert not Goal("median", 28.5, minimum=True).met(rate)
    assert not Goal("median", 28.0, strict=True, minimum=True).met(rate)


def test_a_memory_row_kept_in_bytes_shows_in_megabytes():
    row = timings("resident memory", [4_650_000, 4_640_000, 4_660_000], "MB")
    row.scenario = "assets_scan"
    assert "4.65 MB" in table.render([Outcome(Scenario("assets_scan", "", list), [row])], "")


def test_full_speed_lifts_the_network_model_for_the_block_only(fake_api, tmp_path):
    context = Context(fake_api, 0.05, 2e6, quick=True, scratch=tmp_path)
    fake_api.latency, fake_api.upload_bandwidth = 0.05, 2e6
    with pytest.raises(RuntimeError), context.full_speed():
        assert (fake_api.latency, fake_api.upload_bandwidth) == (0.0, None)
        raise RuntimeError("set-up failed")
    assert (fake_api.latency, fake_api.upload_bandwidth) == (0.05, 2e6)
    assert (context.size(100, 10), Context(fake_api, 0, None, False, tmp_path).size(100, 10)) == (
        10, 100)


def _outcomes() -> list[Outcome]:
    reference = timings("bare", [0.050, 0.052])
    rows = [reference, timings("cosmobot", [0.060, 0.062]).against(reference, Goal("ratio", 1.05)),
            timings("lookup", [8e-6, 9e-6], "µs", Goal("median", 20e-6))]
    for row in rows:
        row.scenario = "send"
    ok = Outcome(Scenario("send", "a send", lambda context: []), rows, seconds=3.0)
    skipped = Outcome(Scenario("pg", "on PostgreSQL", lambda context: []), skipped="no server")
    failed = Outcome(Scenario("herd", "a herd", lambda context: []),
                     error="Traceback...\nAssertionError: 2 uploads\n")
    return [ok, skipped, failed]


def test_the_table_marks_the_reference_the_ratio_and_each_goal():
    lines = table.render(_outcomes(), "headline").splitlines()
    assert lines[0] == "headline"
    assert lines[2].split() == list(table.COLUMNS)
    bare, cosmobot, lookup = lines[3:6]
    assert bare.split()[-1] == "ref" and "51.0 ms" in bare
    assert "1.196" in cosmobot and cosmobot.endswith("ratio ≤ 1.05: MISSED")
    assert "8.50 µs" in lookup and lookup.endswith("median ≤ 20 µs: met")
    assert lines[-2:] == ["pg: skipped, no server", "herd: ERROR AssertionError: 2 uploads"]


def test_the_json_holds_the_same_figures_in_each_rows_unit():
    document = json.loads(json.dumps(table.as_json(_outcomes(), {"rtt_ms": 50})))
    send, skipped, failed = document["scenarios"]
    assert [scenario["status"] for scenario in document["scenarios"]] == [
        "ok", "skipped", "error"]
    cosmobot, lookup = send["rows"][1:]
    assert (cosmobot["unit"], cosmobot["reference"], cosmobot["samples"]) == ("ms", "bare", 2)
    assert (cosmobot["median"], cosmobot["max"]) == (pytest.approx(61.0), pytest.approx(62.0))
    assert (cosmobot["goal"], cosmobot["met"]) == ("ratio ≤ 1.05", False)
    assert cosmobot["ratio"] == pytest.approx(61 / 51)
    assert (lookup["median"], lookup["unit"], lookup["met"]) == (pytest.approx(8.5), "µs", True)
    assert skipped["reason"] == "no server" and "2 uploads" in failed["reason"]


def _scenario(name: str, rows=None, error: Exception | None = None, postgres=False) -> Scenario:
    def body(context: Context):
        assert context.api.latency == 0.05  # the fake models the round trip asked for
        if error is not None:
            raise error
        return rows or [timings(f"{name} figure", [0.001])]
    return Scenario(name, f"the {name} scenario", body, needs_postgres=postgres)


@pytest.fixture
def scenarios(monkeypatch):
    """Stand-in scenarios for the command, and logging left alone."""
    listed = [_scenario("fine"), _scenario("broken", error=ValueError("boom")),
              _scenario("missed", [timings("slow", [1.0], goal=Goal("median", 0.5))]),
              _scenario("needs_pg", postgres=True)]
    monkeypatch.setattr(run, "SCENARIOS", listed)
    monkeypatch.setattr(run, "configure_logging", lambda level: None)
    monkeypatch.delenv(run.POSTGRES_VARIABLE, raising=False)
    return listed


def test_a_scenario_that_raises_fails_the_command_and_the_others_still_report(scenarios, capsys):
    assert run.main(["--rtt", "50"]) == 1
    out = capsys.readouterr().out
    assert "fine figure" in out and "slow" in out
    assert "broken: ERROR ValueError: boom" in out
    assert f"needs_pg: skipped, {run.NO_POSTGRES}" in out


def test_a_missed_goal_does_not_fail_the_command(scenarios, capsys):
    assert run.main(["--only", "missed", "fine"]) == 0
    out = capsys.readouterr().out
    assert "median ≤ 500 ms: MISSED" in out and "broken" not in out


def test_json_instead_of_the_table(scenarios, capsys):
    assert run.main(["--only", "fine", "needs_pg", "--json", "--quick"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["settings"]["run"] == "quick"
    assert [(s["name"], s["status"]) for s in document["scenarios"]] == [
        ("fine", "ok"), ("needs_pg", "skipped")]


def test_only_names_known_scenarios(scenarios, capsys):
    with pytest.raises(SystemExit) as exit_info:
        run.main(["--only", "nonesuch"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'nonesuch'" in capsys.readouterr().err


def test_a_postgres_scenario_runs_when_a_server_is_given(scenarios, capsys):
    assert run.main(["--only", "needs_pg", "--postgres", "postgresql://somewhere/db"]) == 0
    assert "needs_pg figure" in capsys.readouterr().out

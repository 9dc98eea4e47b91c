"""The dashboard's Regressions page: corroboration filter, acknowledgement errors and warnings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402
from test_regressions import commit, noisy, write_asv_db  # noqa: E402

APP = str(Path(__file__).resolve().parents[1] / "dashboard" / "streamlit_app.py")


@pytest.fixture(scope="module")
def machines_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """bench.A.time_x on four machines: the same +20 % step at commit 40 on a and b, none on
    c, one at commit 20 on d only."""
    tmp = tmp_path_factory.mktemp("machines")
    root = tmp / "results"
    root.mkdir()
    for name, values in (
        ("a", noisy({40: 1.2}, seed=1)),
        ("b", noisy({40: 1.2}, seed=2)),
        ("c", noisy({}, seed=3)),
        ("d", noisy({20: 1.2}, seed=4)),
    ):
        one = write_asv_db(tmp / f"one-{name}", {"bench.A.time_x": values})
        (one / "box" / "machine.json").write_text(json.dumps({"machine": name, "version": 1}))
        (one / "box").rename(root / name)
        (one / "benchmarks.json").replace(root / "benchmarks.json")
    return root


def regressions_page(monkeypatch: pytest.MonkeyPatch, results: Path) -> AppTest:
    monkeypatch.setenv("TENSORBENCH_RESULTS", str(results))
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page("app_pages/regressions.py")
    at.run()
    return at


def test_page_filters_and_sorts_by_corroboration(
    monkeypatch: pytest.MonkeyPatch, machines_db: Path
) -> None:
    at = regressions_page(monkeypatch, machines_db)
    assert not at.exception, [e.value for e in at.exception]
    table = at.dataframe[0].value
    assert list(table["corroboration"]) == [1, 1, 0]
    assert set(table["machine"][:2]) == {"a", "b"}
    at.number_input(key="reg_min_corroboration").set_value(1).run()
    assert not at.exception
    assert sorted(at.dataframe[0].value["machine"]) == ["a", "b"]


@pytest.mark.parametrize(
    "raw, shown",
    [
        (b'[[acknowledged]]\nreason = "caf\xe9"\n', "error"),
        (b'[[acknowleged]]\nbenchmark = "x"\ncommit = "1234"\n', "warning"),
        (
            b'[[acknowledged]]\nbenchmark = "nothing.*"\ncommit = "'
            + commit(3)[:8].encode()
            + b'"\n',
            "warning",
        ),
    ],
)
def test_bad_acknowledgements_are_shown_not_raised(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, raw: bytes, shown: str
) -> None:
    results = write_asv_db(tmp_path / "results", {"bench.A.time_x": noisy({25: 1.25}, n=40)})
    (results / "acknowledged.toml").write_bytes(raw)
    at = regressions_page(monkeypatch, results)
    assert not at.exception, [e.value for e in at.exception]
    messages = [m.value for m in (at.error if shown == "error" else at.warning)]
    assert any("acknowledged.toml" in m for m in messages), messages


def test_page_opens_on_the_largest_open_regression(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Not on the first benchmark in alphabetical order: bench.A regresses 10 %, bench.Z 50 %."""
    results = write_asv_db(
        tmp_path / "results",
        {
            "bench.A.time_a": noisy({30: 1.10}, n=60, seed=1),
            "bench.M.time_m": noisy({}, n=60, seed=2),
            "bench.Z.time_z": noisy({30: 1.50}, n=60, seed=3),
        },
    )
    at = regressions_page(monkeypatch, results)
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="reg_benchmark").value == "bench.Z.time_z"
    spec = json.dumps(json.loads(at.get("vega_lite_chart")[0].proto.spec), ensure_ascii=False)
    assert commit(30)[:8] + " · 20" in spec  # the commit axis: short hash and date

"""Project 05 and its data handling: CSV reading, kinds, encoding, imputation, the stratified split, the
saved model and `backprop-lab predict`, and one clear error line for each kind of bad input."""

from __future__ import annotations

import csv
import io
import json
from contextlib import redirect_stdout

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd.errors import UsageError
from projects.catalog import p05_tabular
from projects.datasets.csv_table import is_missing, parse_number, read_csv
from projects.datasets.tabular import Preprocessor, encode_target, infer_kinds, stratified_split
from projects.lab import cli


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def run_quiet(config, out_dir):
    with redirect_stdout(io.StringIO()):
        return p05_tabular.run(config, out_dir)


# ---- reading ----------------------------------------------------------------------------------------------


def test_reads_separators_quotes_bom_and_blank_lines(tmp_path):
    path = write(tmp_path, "a.csv", '\ufeffname;size\n"Smith; J";3\n\nDoe;4\n')
    table = read_csv(path)
    assert table.columns == ["name", "size"]
    assert table.rows == [["Smith; J", "3"], ["Doe", "4"]]
    assert table.lines == [2, 4]


def test_missing_markers_and_numbers():
    assert all(is_missing(t) for t in ("", " NA ", "n/a", "NaN", "null", "?", "None"))
    assert not is_missing("0")
    assert parse_number("3e2") == 300.0 and parse_number("-1.5") == -1.5
    assert parse_number("inf") is None and parse_number("abc") is None and parse_number("1,234") is None


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "the file is empty"),
        (b"   \n\n", "the file is empty"),
        (b"a,b,c\n", "no data rows"),
        (b"a,b\n1,2\n3\n", "line 3: 1 fields, but the header has 2"),
        (b"a,a\n1,2\n", "appears twice"),
        (b"\x00\x01\x02\x03binary", "not a text file"),
    ],
)
def test_bad_files_are_one_clear_line(tmp_path, content, expected):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(UsageError) as info:
        read_csv(path)
    assert expected in str(info.value) and str(path) in str(info.value) and "\n" not in str(info.value)


def test_unreadable_paths(tmp_path):
    with pytest.raises(UsageError, match="no such file"):
        read_csv(tmp_path / "absent.csv")
    with pytest.raises(UsageError, match="is a folder"):
        read_csv(tmp_path)


# ---- kinds, target, split ---------------------------------------------------------------------------------


def test_kinds_are_inferred_and_dropped_columns_explained(tmp_path):
    rows = "\n".join(f"id{i},{i % 3},{'x' if i % 2 else 'y'},{i * 0.5},NA,c{i % 2}" for i in range(40))
    table = read_csv(write(tmp_path, "t.csv", "id,code,letter,value,empty,label\n" + rows + "\n"))
    kinds, dropped = infer_kinds(table, {"label"}, max_categories=30)
    assert kinds == {"code": "numeric", "letter": "categorical", "value": "numeric"}
    assert set(dropped) == {"id", "empty"}
    assert "40 distinct" in dropped["id"] and "no values" in dropped["empty"]
    kinds, _ = infer_kinds(table, {"label"}, categorical={"code"})
    assert kinds["code"] == "categorical"
    with pytest.raises(UsageError, match="--categorical: no column 'nope'"):
        infer_kinds(table, {"label"}, categorical={"nope"})


def test_text_in_a_numeric_column_names_line_and_value(tmp_path):
    rows = "\n".join(f"{i},{i % 2}" for i in range(20))
    table = read_csv(write(tmp_path, "t.csv", f"x,label\n{rows}\n12O,1\n"))
    with pytest.raises(UsageError) as info:
        infer_kinds(table, {"label"})
    assert "line 22" in str(info.value) and "'12O'" in str(info.value) and "'x'" in str(info.value)


def test_target_encoding(tmp_path):
    table = read_csv(write(tmp_path, "t.csv", "x,y\n1,10\n2,2\n3,NA\n4,10\n5,9\n"))
    rows, classes, codes = encode_target(table, "y")
    assert classes == ["2", "9", "10"]  # numeric labels in numeric order
    assert rows.tolist() == [0, 1, 3, 4] and codes.tolist() == [2, 0, 2, 1]
    with pytest.raises(UsageError, match="single class"):
        encode_target(read_csv(write(tmp_path, "s.csv", "x,y\n1,a\n2,a\n")), "y")


@settings(max_examples=60, deadline=None)
@given(
    counts=st.lists(st.integers(1, 40), min_size=2, max_size=6),
    fraction=st.floats(0.1, 0.5),
    seed=st.integers(0, 1000),
)
def test_stratified_split_keeps_each_class_share(counts, fraction, seed):
    labels = np.repeat(np.arange(len(counts)), counts)
    train, test = stratified_split(labels, fraction, np.random.default_rng(seed))
    assert sorted(np.r_[train, test].tolist()) == list(range(len(labels)))  # a partition
    for c, n in enumerate(counts):
        n_test = int((labels[test] == c).sum())
        if n == 1:
            assert n_test == 0
        else:
            assert 1 <= n_test <= n - 1 and abs(n_test - n * fraction) <= 1


# ---- preprocessing --------------------------------------------------------------------------------------


PENGUIN_LIKE = """\
species,island,bill,sex
A,Dream,40,male
A,Dream,NA,female
A,Biscoe,42,NA
B,Biscoe,50,male
B,Biscoe,52,female
B,Dream,54,male
"""


def test_fit_uses_training_rows_only_and_imputes(tmp_path):
    table = read_csv(write(tmp_path, "p.csv", PENGUIN_LIKE))
    rows, classes, _ = encode_target(table, "species")
    kinds, dropped = infer_kinds(table, {"species"})
    train = np.array([0, 1, 2, 3])  # rows 4 and 5 are "test": their bill (52, 54) must not count
    pre = Preprocessor.fit(table, train, "species", classes, kinds, dropped)
    bill = next(s for s in pre.columns if s.name == "bill")
    assert bill.fill == 42.0  # median of 40, 42, 50
    filled = np.array([40, 42, 42, 50])
    assert bill.mean == pytest.approx(filled.mean()) and bill.std == pytest.approx(filled.std())
    sex = next(s for s in pre.columns if s.name == "sex")
    assert sex.categories == ["female", "male"] and sex.fill == "male"
    assert pre.feature_names() == ["island=Biscoe", "island=Dream", "bill", "sex=female", "sex=male"]

    X, report = pre.transform(table)
    assert X.shape == (6, 5)
    assert X[1, 2] == pytest.approx((42 - bill.mean) / bill.std)  # the NA bill became the median
    assert X[2, 3:].tolist() == [0.0, 1.0]  # the NA sex became the most frequent one
    assert report.imputed == {"bill": 1, "sex": 1}


def test_unseen_category_is_all_zeros_and_reported(tmp_path):
    table = read_csv(write(tmp_path, "p.csv", PENGUIN_LIKE))
    rows, classes, _ = encode_target(table, "species")
    kinds, dropped = infer_kinds(table, {"species"})
    pre = Preprocessor.fit(table, rows, "species", classes, kinds, dropped)
    new = read_csv(write(tmp_path, "n.csv", "island,bill,sex\nAtlantis,45,male\nDream,46,female\n"))
    X, report = pre.transform(new)
    assert X[0, :2].tolist() == [0.0, 0.0] and X[1, :2].tolist() == [0.0, 1.0]
    assert report.unseen == {"island": {"Atlantis": 1}}
    assert "unseen category 'Atlantis'" in report.notes()[0]


def test_preprocessor_json_round_trip(tmp_path):
    table = read_csv(write(tmp_path, "p.csv", PENGUIN_LIKE))
    rows, classes, _ = encode_target(table, "species")
    kinds, dropped = infer_kinds(table, {"species"})
    pre = Preprocessor.fit(table, rows, "species", classes, kinds, dropped)
    back = Preprocessor.from_json(json.loads(pre.dumps()))
    np.testing.assert_array_equal(back.transform(table)[0], pre.transform(table)[0])
    with pytest.raises(UsageError, match="not a preprocessing file"):
        Preprocessor.from_json({"format": 1})


# ---- the project ------------------------------------------------------------------------------------------


def test_penguins_default_run(tmp_path):
    metrics = run_quiet(p05_tabular.Config(progress=False), tmp_path)
    assert metrics["test_accuracy"] >= 0.97  # the project's accuracy bar, at the default seed
    assert metrics["classes"] == ["Adelie", "Chinstrap", "Gentoo"]
    assert metrics["n_train"] + metrics["n_test"] == 344 and metrics["n_test"] == 86
    assert metrics["categorical_columns"] == ["island", "sex"]
    assert (
        "median" in metrics["imputation"]["bill_length_mm"] and "11 missing" in metrics["imputation"]["sex"]
    )
    assert set(metrics["precision"]) == set(metrics["recall"]) == set(metrics["classes"])
    assert np.sum(metrics["confusion_matrix"]) == 86
    for name in ("curves.png", "confusion_matrix.png", "precision_recall.png"):
        assert (tmp_path / name).exists()
    for name in ("weights.npz", "preprocessing.json", "model.json"):
        assert (tmp_path / "model" / name).exists()
    json.dumps(metrics)


@pytest.mark.parametrize(
    ("text", "target", "expected"),
    [
        ("", "y", "the file is empty"),
        ("x,y\n", "y", "no data rows"),
        ("x,y\n1,a\n2,b\n", "z", "no target column 'z'"),
        ("x,y\n1,a\n2,a\n3,a\n", "y", "single class"),
        ("x,y\n" + "".join(f"{i},{i % 2}\n" for i in range(12)) + "oops,1\n", "y", "text 'oops' in numeric"),
        ("x,y\n1,a\n2,b\n", None, "--target COLUMN is required"),
    ],
)
def test_bad_input_is_one_error_line_with_exit_status_2(tmp_path, capsys, text, target, expected):
    path = write(tmp_path, "bad.csv", text)
    with pytest.raises(UsageError, match=expected):
        run_quiet(p05_tabular.Config(csv=str(path), target=target), tmp_path / "out")
    args = ["run", "tabular", "--out", str(tmp_path / "runs"), "--no-progress", "--csv", str(path)]
    status = cli.main(args + (["--target", target] if target else []))
    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1 and err.startswith("backprop-lab: error: ") and expected in err


def test_unreadable_file_through_the_command_line(tmp_path, capsys):
    status = cli.main(
        ["run", "tabular", "--out", str(tmp_path), "--csv", str(tmp_path / "no.csv"), "--target", "y"]
    )
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1 and "no such file" in err


def test_any_csv_with_codes_and_missing_target(tmp_path):
    """Numeric class labels, a categorical column given as codes, rows without a target."""
    rng = np.random.default_rng(0)
    lines = ["a,b,shop,label"]
    for i in range(120):
        a, b = rng.normal(size=2)
        shop = rng.integers(1, 4)
        label = int(a + 0.5 * (shop == 2) > 0)
        lines.append(f"{a:.3f},{b:.3f},{shop},{label if i % 20 else 'NA'}")
    path = write(tmp_path, "codes.csv", "\n".join(lines) + "\n")
    config = p05_tabular.Config(csv=str(path), target="label", categorical="shop", epochs=60, progress=False)
    metrics = run_quiet(config, tmp_path / "out")
    assert metrics["classes"] == ["0", "1"] and metrics["rows_without_target"] == 6
    assert metrics["categorical_columns"] == ["shop"] and metrics["features"] == 5
    assert metrics["test_accuracy"] > 0.8


# ---- predict ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def penguin_model(tmp_path_factory):
    out = tmp_path_factory.mktemp("model-run")
    run_quiet(p05_tabular.Config(quick=True, progress=False), out)
    return out / "model"


def test_predict_labels_new_rows_and_reports_unseen_categories(penguin_model, tmp_path, capsys):
    new = write(
        tmp_path,
        "new.csv",
        "island,bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_g,sex,year\n"
        "Torgersen,39.1,18.7,181,3750,male,2007\n"
        "Atlantis,47.3,13.8,216,4725,NA,2009\n"
        "Dream,49.0,19.5,210,3950,male,2008\n",
    )
    assert cli.main(["predict", "--model", str(penguin_model), "--csv", str(new)]) == 0
    captured = capsys.readouterr()
    rows = list(csv.reader(io.StringIO(captured.out)))
    assert rows[0][-2:] == ["predicted_species", "probability"]
    assert [r[-2] for r in rows[1:]] == ["Adelie", "Gentoo", "Chinstrap"]
    assert all(0.3 < float(r[-1]) <= 1.0 for r in rows[1:])
    assert "unseen category 'Atlantis'" in captured.err and "sex (1)" in captured.err

    out = tmp_path / "labelled.csv"
    assert cli.main(["predict", "--model", str(penguin_model), "--csv", str(new), "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == captured.out


def test_predict_reports_accuracy_when_the_target_is_present(penguin_model, capsys):
    assert cli.main(["predict", "--model", str(penguin_model), "--csv", str(p05_tabular.PENGUINS)]) == 0
    err = capsys.readouterr().err
    assert "of 344 rows with a known 'species' predicted correctly" in err


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("island,bill_length_mm\nDream,40\n", "no column 'bill_depth_mm'"),
        (
            "island,bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_g,sex,year\n"
            "Dream,forty,18,190,3800,male,2008\n",
            "line 2: text 'forty' in numeric column 'bill_length_mm'",
        ),
    ],
)
def test_predict_errors(penguin_model, tmp_path, capsys, text, expected):
    path = write(tmp_path, "new.csv", text)
    assert cli.main(["predict", "--model", str(penguin_model), "--csv", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and expected in err


def test_predict_with_a_bad_model_folder(tmp_path, capsys):
    (tmp_path / "model").mkdir()
    assert cli.main(["predict", "--model", str(tmp_path / "model"), "--csv", str(p05_tabular.PENGUINS)]) == 2
    assert "missing model.json" in capsys.readouterr().err
    assert cli.main(["predict", "--model", str(tmp_path / "none"), "--csv", str(p05_tabular.PENGUINS)]) == 2
    assert "no such folder" in capsys.readouterr().err


def test_run_prints_where_the_model_ends_up_after_the_runner_renames_the_folder(tmp_path, capsys):
    assert cli.main(["run", "tabular", "--quick", "--no-progress", "--out", str(tmp_path)]) == 0
    final_model = tmp_path / "05-tabular" / "model"
    assert (final_model / "model.json").exists()
    assert f"--model {final_model} " in capsys.readouterr().out

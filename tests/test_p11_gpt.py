"""Project 11 (a GPT on both engines): the quick run through the runner with its bars, the two models
against each other (loss and every gradient, float64), the traced head against the full model, the bigram
baseline, padding, sampling, a custom --data file and bad input."""

from __future__ import annotations

import json
import math
import shutil
import string

import numpy as np
import pytest

from projects.catalog import p11_gpt
from projects.catalog.p11_gpt.architecture import Sizes, initial_weights
from projects.catalog.p11_gpt.attention_trace import trace_head
from projects.catalog.p11_gpt.data import Bigram, Vocabulary, pad_batch, read_documents, token_sequences
from projects.catalog.p11_gpt.model_scalar import ScalarGPT
from projects.catalog.p11_gpt.model_tensor import TensorGPT
from projects.catalog.p11_gpt.train import AdamSettings, compare_engines
from projects.lab import cli

LETTERS = set(string.ascii_lowercase)
HAS_DOT = shutil.which("dot") is not None


def run_cli(out, *options: str) -> dict:
    assert cli.main(["run", "11", "--no-progress", "--out", str(out), *options]) == 0
    return json.loads((out / "11-gpt" / "metrics.json").read_text())


def error_lines(capsys) -> list[str]:
    return [line for line in capsys.readouterr().err.splitlines() if line.strip()]


# ---- the quick run through the runner ----------------------------------------------------------------------


def test_quick_run_meets_the_bars_and_writes_every_figure(tmp_path):
    metrics = run_cli(tmp_path, "--quick")
    assert metrics["val_nll"] < metrics["bigram_val_nll"]  # the GPT beats the add-one bigram, held out
    assert metrics["loss_agreement"] <= 1e-9  # the two engines, same weights, float64
    assert metrics["gradient_agreement"] <= 1e-9 and metrics["weight_agreement"] <= 1e-9
    assert metrics["compare_steps"] == 3
    assert metrics["scalar_step_s"] > 0 and metrics["tensor_step_s"] > 0
    samples = metrics["samples"]
    assert len(samples) == 20 and all(isinstance(s, str) for s in samples)
    assert all(set(s) <= LETTERS and len(s) <= 16 for s in samples)
    assert metrics["n_train"] + metrics["n_val"] == 5163 and metrics["n_val"] == 516
    assert metrics["vocab_size"] == 27 and metrics["parameters"] == 4192  # microgpt's size
    run = tmp_path / "11-gpt"
    for name in ("engines.png", "training_curve.png", "samples.png", "attention.png"):
        assert (run / name).stat().st_size > 1000
    if HAS_DOT:
        assert metrics["traced"]["page"] == "attention_head.html"
        page = (run / "attention_head.html").read_text()
        assert page.count('<figure class="frame"') >= 10
        assert 'href="11-gpt/attention_head.html"' in (tmp_path / "index.html").read_text()


def test_the_same_seed_gives_the_same_run_another_seed_another(tmp_path):
    options = ("--quick", "--engine", "tensor", "--steps", "40")
    runs = [
        run_cli(tmp_path / name, "--seed", seed, *options)
        for name, seed in (("a", "3"), ("b", "3"), ("c", "4"))
    ]
    for key in ("val_nll", "bigram_val_nll", "samples", "final_train_loss", "traced"):
        assert runs[0][key] == runs[1][key]
    assert runs[0]["samples"] != runs[2]["samples"] and runs[0]["bigram_val_nll"] != runs[2]["bigram_val_nll"]


def test_scalar_engine_trains_with_microgpts_loop(tmp_path):
    metrics = p11_gpt.run(p11_gpt.Config(engine="scalar", quick=True, progress=False), tmp_path)
    assert metrics["steps"] == 20 and metrics["scalar_step_s"] > 0
    assert math.isfinite(metrics["val_nll"]) and metrics["val_nll"] < math.log(27)  # better than uniform
    assert all(set(s) <= LETTERS for s in metrics["samples"])
    assert "loss_agreement" not in metrics


# ---- the two models ----------------------------------------------------------------------------------------


def small_setup(names: list[str], block_size: int = 16, seed: int = 0):
    vocab = Vocabulary(tuple(sorted(set("".join(names)))))
    sizes = Sizes(vocab.size, n_embd=8, n_head=2, n_layer=2, block_size=block_size, mlp_width=12)
    weights = initial_weights(sizes, np.random.default_rng(seed), std=0.3)
    return vocab, sizes, weights


def test_scalar_and_tensor_models_agree_on_loss_and_every_gradient():
    """Names of different lengths (padding), repeated letters (the embedding lookup's backward adds up
    repeated rows), one longer than the context (cut), two layers: the same float64 numbers."""
    names = ["anna", "bob", "x", "hannah", "abcdefghijkl"]
    vocab, sizes, weights = small_setup(names, block_size=8)
    sequences = token_sequences(names, vocab, sizes.block_size)
    assert max(len(s) for s in sequences) == sizes.block_size + 1  # the long one is cut
    scalar, tensor = ScalarGPT(weights, sizes), TensorGPT(weights, sizes)
    scalar_loss = scalar.loss(sequences)
    scalar_loss.backward()
    tensor_loss = tensor.batch_loss(sequences, vocab.bos)
    tensor_loss.backward()
    assert abs(scalar_loss.data - tensor_loss.item()) < 1e-12
    g_s, g_t = scalar.gradients(), tensor.gradients()
    assert set(g_s) == set(weights)
    for name in g_s:
        np.testing.assert_allclose(g_t[name], g_s[name], rtol=0, atol=1e-12, err_msg=name)
    assert np.abs(g_s["wte"][vocab.chars.index("n")]).sum() > 0  # a repeated letter got its gradient


def test_training_leaves_the_initial_weights_alone():
    """Both engines start from the same dict of weights; neither model's updates may write into it."""
    names = ["anna", "bob"]
    vocab, sizes, weights = small_setup(names)
    before = {k: v.copy() for k, v in weights.items()}
    sequences = token_sequences(names, vocab, sizes.block_size)
    compare_engines(
        ScalarGPT(weights, sizes),
        TensorGPT(weights, sizes),
        sequences,
        vocab.bos,
        adam=AdamSettings(),
        schedule_steps=10,
    )
    for name in weights:
        np.testing.assert_array_equal(weights[name], before[name])
    assert TensorGPT(weights, sizes).params["wte"].dtype == np.float64


def test_tensor_gradient_matches_finite_differences():
    names = ["abba", "cab"]
    vocab, sizes, weights = small_setup(names, block_size=6)
    sequences = token_sequences(names, vocab, sizes.block_size)
    tensor = TensorGPT(weights, sizes)
    tensor.batch_loss(sequences, vocab.bos).backward()
    grads = tensor.gradients()
    rng = np.random.default_rng(1)
    h = 1e-6
    for name in ("wte", "wpe", "layer1.attn_wq", "layer0.mlp_fc1", "lm_head"):
        for _ in range(3):
            index = tuple(rng.integers(0, n) for n in weights[name].shape)
            plus = {k: v.copy() for k, v in weights.items()}
            minus = {k: v.copy() for k, v in weights.items()}
            plus[name][index] += h
            minus[name][index] -= h
            f_plus = TensorGPT(plus, sizes).batch_loss(sequences, vocab.bos).item()
            f_minus = TensorGPT(minus, sizes).batch_loss(sequences, vocab.bos).item()
            assert grads[name][index] == pytest.approx((f_plus - f_minus) / (2 * h), abs=1e-8)


def test_padding_changes_nothing():
    """A batch's loss is the token-weighted mean of each name's own loss: padding and mask add nothing."""
    names = ["ab", "abcab", "c"]
    vocab, sizes, weights = small_setup(names)
    sequences = token_sequences(names, vocab, sizes.block_size)
    tensor = TensorGPT(weights, sizes)
    inputs, targets, mask = pad_batch(sequences, vocab.bos)
    assert inputs.shape == (3, 6) and mask.sum(axis=1).tolist() == [3, 6, 2]
    each = [tensor.batch_loss([s], vocab.bos).item() * (len(s) - 1) for s in sequences]
    assert tensor.batch_loss(sequences, vocab.bos).item() == pytest.approx(sum(each) / mask.sum(), abs=1e-14)


def test_traced_head_reproduces_the_full_models_numbers_and_gradients():
    names = ["hannah", "bob"]
    vocab, sizes, weights = small_setup(names)
    tokens = token_sequences(["hannah"], vocab, sizes.block_size)[0]
    trace = trace_head(weights, sizes, tokens, position=4, head=1)
    assert len(trace.scores) == 5 and len(trace.out) == sizes.head_dim
    trace.root.backward()
    np.testing.assert_allclose([a.data for a in trace.weights], trace.model_weights, atol=1e-15)
    np.testing.assert_allclose([o.data for o in trace.out], trace.model_out, atol=1e-15)
    np.testing.assert_allclose([s.grad for s in trace.scores], trace.model_scores_grad, atol=1e-14)
    assert sum(a.data for a in trace.weights) == pytest.approx(1.0)
    np.testing.assert_allclose(trace.attention.sum(axis=2), 1.0)  # every row of every head sums to 1
    assert np.all(np.triu(trace.attention[0], 1) == 0)  # causal


def test_bigram_counts_with_add_one_smoothing():
    vocab = Vocabulary(("a", "b"))  # BOS = 2
    sequences = token_sequences(["ab", "a"], vocab, 16)  # [2,0,1,2], [2,0,2]
    bigram = Bigram.fit(sequences, vocab.size)
    # after BOS: a twice, b never, BOS never: (2+1)/(2+3) for a
    assert math.exp(bigram.log_probs[2, 0]) == pytest.approx(3 / 5)
    assert math.exp(bigram.log_probs[0, 1]) == pytest.approx(2 / 5)  # after a: b once, BOS once
    expected = -(math.log(3 / 5) + math.log(2 / 5)) / 2
    assert bigram.nll([[2, 0, 1]]) == pytest.approx(expected)


def test_samples_come_from_the_alphabet_and_stop_at_the_context():
    names = ["abc", "cab", "bca"]
    vocab, sizes, weights = small_setup(names, block_size=5)
    rng = np.random.default_rng(0)
    drawn = TensorGPT(weights, sizes).sample(30, vocab.bos, temperature=2.0, rng=rng)
    assert len(drawn) == 30 and all(len(d) <= 5 and vocab.bos not in d for d in drawn)
    assert {vocab.decode(d) for d in drawn} != {""}
    assert TensorGPT(weights, sizes).sample(0, vocab.bos, 1.0, rng) == []
    single = ScalarGPT(weights, sizes).sample(vocab.bos, 1.0, rng)
    assert len(single) <= 5 and set(vocab.decode(single)) <= set("abc")


# ---- data --------------------------------------------------------------------------------------------------


def test_a_custom_data_file(tmp_path):
    rng = np.random.default_rng(0)
    names = sorted({"".join(rng.choice(list("xyz"), size=rng.integers(2, 7))) for _ in range(120)})
    path = tmp_path / "names.txt"
    path.write_text("\n".join(["  " + n + "  " for n in names]) + "\n\n", encoding="utf-8")
    options = ("--quick", "--data", str(path), "--steps", "60", "--eval-every", "20", "--trace-position", "1")
    metrics = run_cli(tmp_path / "out", *options)
    assert metrics["data_source"] == str(path) and metrics["vocab_size"] == 4
    assert metrics["n_train"] + metrics["n_val"] == len(names) and metrics["n_val"] == round(0.1 * len(names))
    assert all(set(s) <= set("xyz") for s in metrics["samples"])
    assert metrics["traced"]["name"] in names


def test_unknown_characters_are_skipped_on_request(tmp_path):
    path = tmp_path / "names.txt"
    path.write_text("anna\nbo b\nzoë\ncarl\ndan\n", encoding="utf-8")
    documents = read_documents(path, alphabet="abcdefghijklmnopqrstuvwxyz", unknown="skip")
    assert documents.documents == ["anna", "carl", "dan"] and documents.skipped_lines == 2
    assert read_documents(path).documents[1:3] == ["bo b", "zoë"]  # by default: any printable character


@pytest.mark.parametrize(
    "content, options, message",
    [
        ("", (), "the file is empty"),
        ("\n   \n\t\n", (), "no usable lines (all blank"),
        ("ab1\n2\n", ("--alphabet", "abc", "--unknown", "skip"), "no usable lines (2 with characters"),
        ("anna\nbob\n", ("--alphabet", "abn"), "line 2 has the character 'o'"),
        ("anna\nbo\x07b\n", (), "line 2 has the character '\\x07'"),
        ("anna\n", (), "needs at least 2"),
        ("anna\nbob\n", ("--unknown", "drop"), "--unknown 'drop'"),
        ("anna\nbob\n", ("--n-head", "3"), "not divisible"),
        ("anna\nbob\n", ("--temperature", "0"), "--temperature"),
        ("anna\nbobby\n", ("--trace-name", "bo1"), "the character '1' is not in the data's alphabet"),
        ("anna\nbob\n", ("--engine", "gpu"), "--engine 'gpu'"),
    ],
)
def test_bad_input_is_one_line_and_status_2(tmp_path, capsys, content, options, message):
    path = tmp_path / "names.txt"
    path.write_text(content, encoding="utf-8")
    status = cli.main(
        [
            "run",
            "11",
            "--quick",
            "--no-progress",
            "--out",
            str(tmp_path / "out"),
            "--data",
            str(path),
            *options,
        ]
    )
    assert status == 2
    lines = error_lines(capsys)
    assert len(lines) == 1 and lines[0].startswith("backprop-lab: error:") and message in lines[0], lines
    assert not (tmp_path / "out" / "11-gpt").exists()


def test_unreadable_files_are_one_line_and_status_2(tmp_path, capsys):
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("zoë\nanna\n".encode("latin-1"))
    for path, message in ((latin1, "not UTF-8"), (tmp_path / "absent.txt", "no such file")):
        assert cli.main(["run", "11", "--quick", "--out", str(tmp_path / "out"), "--data", str(path)]) == 2
        lines = error_lines(capsys)
        assert len(lines) == 1 and message in lines[0]


def test_the_gallery_links_a_runs_html_pages(tmp_path):
    from projects.lab.report import render_index

    run = tmp_path / "11-gpt"
    run.mkdir()
    (run / "metrics.json").write_text(json.dumps({"figures": []}))
    (run / "attention_head.html").write_text("<html></html>")
    assert '<a href="11-gpt/attention_head.html">attention_head.html</a>' in render_index(tmp_path)

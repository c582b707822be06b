"""Corpus statistics and batch rendering on Ray equal the local ones, through killed actors and failing texts.

Starting a cluster and actors costs seconds (each actor imports torch and loads the model), so
one test starts one local cluster (``ray.init(num_cpus=2)``) and one pool of two actors and runs
every check that needs them in turn (the ``check_*`` functions below, each named for what it
shows); under ``pytest -n``, separate tests would each start a cluster in their own worker. The
checks that need no cluster are tests of their own.
"""
from __future__ import annotations

import json
import os
import sys
import warnings

import numpy as np
import pytest
import ray
from ray import cloudpickle

import attnfig
from attnfig import cli
from attnfig.export.batch import ViewOptions, run_batch, split_lines
from attnfig.export.manifest import MANIFEST_NAME
from attnfig.recording.engine import ModelSource, RayEngine, run_corpus
from attnfig.summaries.entropy import EntropyAccumulator
from attnfig.summaries.patterns import PatternAccumulator
from attnfig.summaries.special_tokens import SpecialTokenAccumulator

cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the actors unpickle this module's factory

TEXTS = [
    "the rabbit quickly hopped.",
    ("the cat sat on the mat", "a dog ran over it!"),
    "the cat sat on the mat and it was happy",
    "she said that they ran to the park, then home.",
    ("the quick brown fox", "jumped over the lazy dog"),
    "a cat",
    "the turtle slowly crawled, and the rabbit hopped",
    "the model is a layer",
    ("it was", "the end."),
    "the lazy dog sat",
]
TOO_LONG = " ".join(["cat"] * 300)  # 302 tokens; the tiny BERT takes 128


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    from attnfig.testing import save_tiny_model

    return save_tiny_model("bert", tmp_path_factory.mktemp("ray-bert") / "bert")


def test_on_a_local_cluster_every_result_equals_the_local_one(folder, tmp_path, capsys):
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        # Half a CPU each: the other CPU is for the pool `attnfig batch --engine ray` starts.
        with RayEngine(folder, actors=2, num_cpus=0.5, progress=False) as engine:
            for summary in (attnfig.head_entropy, attnfig.special_token_attention, attnfig.head_patterns,
                            attnfig.pattern_shares, attnfig.head_distances):
                check_the_summary_on_ray_equals_the_local_one(engine, folder, summary)
            check_the_sums_are_those_of_one_pass_whatever_the_shards(engine, folder)
            check_a_sink_share_on_ray_is_the_first_key_column_of_each_map(engine, folder)
            check_a_failing_text_is_named_by_its_index_and_the_rest_go_on(engine, folder)
            check_every_text_failing_raises_the_first_error(engine)
            check_a_pool_refuses_a_model_of_its_own_and_batches_of_another_model(engine, folder, tmp_path)
            check_an_actor_killed_mid_run_costs_a_retry_not_the_corpus(engine, folder, tmp_path)
            check_batch_on_ray_writes_the_local_files_and_manifest_and_reruns_only_what_changed(
                engine, folder, tmp_path, capsys)
    finally:
        ray.shutdown()


def assert_equal_statistics(ray_result, local_result):
    if isinstance(local_result, dict):
        assert ray_result.keys() == local_result.keys()
        for name in local_result:
            np.testing.assert_allclose(ray_result[name], local_result[name], rtol=1e-10, atol=1e-12, err_msg=name)
    elif local_result.dtype.kind in "US":
        assert ray_result.tolist() == local_result.tolist()
    else:
        np.testing.assert_allclose(ray_result, local_result, rtol=1e-10, atol=1e-12)


def check_the_summary_on_ray_equals_the_local_one(engine, folder, summary):
    local = summary(TEXTS, model=folder)
    assert_equal_statistics(summary(TEXTS, engine=engine), local)


def check_the_sums_are_those_of_one_pass_whatever_the_shards(engine, folder):
    # The actors' shards, merged on the driver, hold exactly the sums of one local pass.
    model, tokenizer = attnfig.load_model(folder)
    for accumulator in (EntropyAccumulator, SpecialTokenAccumulator, PatternAccumulator):
        whole = attnfig.stream_corpus(model, tokenizer, TEXTS, accumulator())
        split = accumulator().merge(attnfig.stream_corpus(model, tokenizer, TEXTS[7:], accumulator(), first_index=7))
        split.merge(attnfig.stream_corpus(model, tokenizer, TEXTS[:7], accumulator()))
        on_ray = run_corpus(None, None, TEXTS, accumulator, engine=engine)
        for merged in (split, on_ray):
            assert merged.inputs() == whole.inputs() == list(range(len(TEXTS)))
            for index in whole.inputs():
                assert merged.sums[index].keys() == whole.sums[index].keys()
                for name, values in whole.sums[index].items():
                    np.testing.assert_allclose(merged.sums[index][name], values, rtol=1e-12, err_msg=name)


def check_a_sink_share_on_ray_is_the_first_key_column_of_each_map(engine, folder):
    model, tokenizer = attnfig.load_model(folder)
    direct = np.mean([attnfig.from_model(model, tokenizer, *(t if isinstance(t, tuple) else (t,))).weights[..., 0]
                      .mean(-1) for t in TEXTS], axis=0)
    np.testing.assert_allclose(attnfig.special_token_attention(TEXTS, engine=engine)["first"], direct, atol=1e-6)


def check_a_failing_text_is_named_by_its_index_and_the_rest_go_on(engine, folder):
    texts = TEXTS[:2] + [TOO_LONG] + TEXTS[2:]
    results = {}
    for name, options in (("ray", {"engine": engine}), ("local", {"model": folder})):
        with pytest.warns(attnfig.SkippedInputsWarning, match=r"1 of 11 texts failed .*text 2 \(") as caught:
            results[name] = attnfig.head_entropy(texts, **options)
        assert list(caught[0].message.failures) == [2]
        assert "128" in caught[0].message.failures[2]  # why: the model's 128 positions
    expected = attnfig.head_entropy(TEXTS, model=folder)  # the corpus without it
    for result in results.values():
        np.testing.assert_allclose(result, expected, rtol=1e-10)


def check_every_text_failing_raises_the_first_error(engine):
    with pytest.raises(attnfig.AttentionInputError, match="128"):
        attnfig.head_entropy([TOO_LONG, TOO_LONG], engine=engine)


def test_bad_engine_arguments_are_refused_before_any_work(folder):
    # No cluster is started: each is refused before Ray is asked for anything.
    with pytest.raises(attnfig.ArgumentError, match="engine"):
        attnfig.head_entropy(TEXTS, model=folder, engine="dask")
    with pytest.raises(attnfig.ArgumentError, match="for engine='ray'"):
        attnfig.head_entropy(TEXTS, model=folder, engine_options={"actors": 2})
    with pytest.raises(attnfig.ArgumentError, match="not \\['actor'\\]"):
        attnfig.head_entropy(TEXTS, model=folder, engine="ray", engine_options={"actor": 2})
    with pytest.raises(attnfig.ArgumentError, match="pass `model=`"):
        attnfig.head_entropy(TEXTS, engine="ray")
    model, tokenizer = attnfig.load_model(folder)
    with pytest.raises(attnfig.ArgumentError, match="save_pretrained"):
        attnfig.head_entropy(TEXTS, model=model, tokenizer=tokenizer, engine="ray")
    assert not ray.is_initialized()


def check_a_pool_refuses_a_model_of_its_own_and_batches_of_another_model(engine, folder, tmp_path):
    with pytest.raises(attnfig.ArgumentError, match="leave `model`"):
        attnfig.head_entropy(TEXTS, model=folder, engine=engine)
    with pytest.raises(attnfig.ArgumentError, match="make the engine from that folder"):
        run_batch(tmp_path, [], tmp_path / "out", engine=engine)


class DiesOnce(SpecialTokenAccumulator):
    """The first chunk any actor feeds it ends that actor's process (once: a flag file says it happened)."""

    flag = None  # set on a subclass made per test, so the path travels to the actors with the class

    def update(self, chunk):
        if not os.path.exists(self.flag):
            try:  # claimed atomically: of two actors reaching here together, only one dies
                os.close(os.open(self.flag, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            except FileExistsError:
                pass
            else:
                os._exit(1)  # the process ends mid-text, as when a node is lost or the OOM killer strikes
        super().update(chunk)


def check_an_actor_killed_mid_run_costs_a_retry_not_the_corpus(engine, folder, tmp_path):
    # Ray restarts the actor (it loads the model again) and runs its tasks again: nothing is lost.
    flag = tmp_path / "killed"
    accumulator = type("DiesOnceHere", (DiesOnce,), {"flag": str(flag)})
    pids = set(engine.pids())
    with warnings.catch_warnings():
        warnings.simplefilter("error", attnfig.SkippedInputsWarning)  # no text may be lost
        fed = run_corpus(None, None, TEXTS, accumulator, engine=engine)
    assert flag.exists() and len(set(engine.pids()) - pids) == 1  # one actor did die, and was restarted
    assert fed.inputs() == list(range(len(TEXTS)))
    assert_equal_statistics(fed.result(), attnfig.special_token_attention(TEXTS, model=folder))


def test_model_may_be_a_factory_returning_model_and_tokenizer(folder):
    def load():
        return attnfig.load_model(folder)

    source = cloudpickle.loads(cloudpickle.dumps(ModelSource(load)))  # as an actor receives it
    model, tokenizer = source()
    assert type(model).__name__ == "BertModel" and tokenizer("a cat")["input_ids"][0] == tokenizer.cls_token_id
    np.testing.assert_allclose(attnfig.head_entropy(TEXTS, model=load), attnfig.head_entropy(TEXTS, model=folder))
    with pytest.raises(attnfig.ArgumentError, match=r"must return a \(model, tokenizer\) tuple"):
        attnfig.head_entropy(TEXTS, model=lambda: model)


def jsonl(path, texts):
    lines = [json.dumps({"id": f"t{i:02d}", "text": t} if isinstance(t, str) else {"id": f"t{i:02d}", "text": t[0],
                                                                                     "pair": t[1]})
             for i, t in enumerate(texts)]
    lines.insert(3, '{"id": "broken", "text": ')  # a bad line: reported by its number
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def outputs(folder):
    files = {p.name: p.read_bytes() for p in folder.iterdir() if not p.name.startswith(".")}
    records = {(r["file"], r["key"], r["sha256"]) for r in map(json.loads, (folder / MANIFEST_NAME).open())}
    return files, records


def check_batch_on_ray_writes_the_local_files_and_manifest_and_reruns_only_what_changed(engine, folder, tmp_path,
                                                                                        capsys):
    texts = TEXTS[:5] + [TOO_LONG]
    source = jsonl(tmp_path / "texts.jsonl", texts)
    arguments = ["batch", "--model", str(folder), "--input", str(source), "--view", "head", "--formats", "pdf,png"]
    assert cli.main([*arguments, "--out-dir", str(tmp_path / "local")]) == 1
    local_log = capsys.readouterr().err
    assert cli.main([*arguments, "--out-dir", str(tmp_path / "ray"), "--engine", "ray"]) == 1
    ray_log = capsys.readouterr().err
    assert "5 written, 0 skipped (unchanged), 2 bad line(s): 4, 7" in local_log
    assert ray_log.splitlines()[-3:] == local_log.splitlines()[-3:]  # the bad lines and the summary
    local_files, local_records = outputs(tmp_path / "local")
    assert len(local_files) == 10
    assert outputs(tmp_path / "ray") == (local_files, local_records)  # same bytes, same records

    texts[1] = "a changed text"
    changed = split_lines(jsonl(tmp_path / "changed.jsonl", texts).read_bytes())
    report = run_batch(folder, changed, tmp_path / "ray", formats=("pdf", "png"), engine=engine, log=sys.stderr,
                       options=ViewOptions(view="head", style=cli.DEFAULT_STYLE))  # the command's options
    assert report.written == ["t01"] and sorted(report.skipped) == ["t00", "t02", "t03", "t04"]


def test_batch_address_needs_engine_ray(tmp_path, capsys):
    assert cli.main(["batch", "--model", "minilm", "--input", "x.jsonl", "--out-dir", str(tmp_path),
                     "--address", "auto"]) == 2
    assert "--address names a Ray cluster: add --engine ray" in capsys.readouterr().err

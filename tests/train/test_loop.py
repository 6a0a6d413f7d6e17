import json
from dataclasses import replace

import pytest
import torch

from hdrconv.errors import InputMissingError, UsageError
from hdrconv.models.registry import create
from hdrconv.data.protocol import HELD_OUT_GROUPS
from hdrconv.train.loop import TrainConfig, cosine_lr, parse_arch, revalidate, train
from hdrconv.data.synthesis import EVALUATION_TONE_MAPPERS, TONE_MAPPERS
from hdrconv.train.samplers import SAMPLERS, patch_batch
from tests.hdr_data import write_hdr_folder
from tests.models.test_alternating_arch import TINY


def _config(data, out, **kw):
    args = dict(model="test-tiny-itm", data=str(data), out=str(out), steps=40, batch_size=4, patch=32,
                lr=3e-3, log_every=10, checkpoint_every=10, arch={"C": 6}, baselines=("test-sdr-at-203",))
    args.update(kw)
    return TrainConfig(**args)


def test_cosine_schedule_and_arch_parsing():
    assert cosine_lr(1.0, 0) == 1.0 and cosine_lr(1.0, 1) == pytest.approx(0.01)
    assert cosine_lr(1.0, 0.5) == pytest.approx(0.505)
    assert parse_arch(["C=8", "act=relu", "scales=[1,2]"]) == {"C": 8, "act": "relu", "scales": [1, 2]}
    with pytest.raises(UsageError):
        parse_arch(["C"])


def test_train_improves_on_step_0_resumes_exactly_and_writes_a_loadable_model(tmp_path):
    data = write_hdr_folder(tmp_path / "hdr", [f"img{i}.exr" for i in range(4)])
    logs = []

    def interrupt_at_step_20(line):  # after the step-20 checkpoint, like Ctrl-C
        logs.append(line)
        if line.startswith("step 20: loss"):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(_config(data, tmp_path / "a.pt"), log=interrupt_at_step_20)
    assert not (tmp_path / "a.pt").exists() and (tmp_path / "a.ckpt").exists()
    card_a = train(_config(data, tmp_path / "a.pt"), resume=True, log=logs.append)
    assert any(line.startswith("resumed from") and "at step 20" in line for line in logs)
    train(_config(data, tmp_path / "b.pt"), log=lambda s: None)
    assert any(line.startswith("step 10: loss") for line in logs)
    wa = torch.load(tmp_path / "a.pt", weights_only=True)
    wb = torch.load(tmp_path / "b.pt", weights_only=True)
    assert wa.keys() == wb.keys() and all(torch.allclose(wa[k], wb[k], atol=1e-6) for k in wa)

    card = json.loads((tmp_path / "a.json").read_text())
    assert card == json.loads(json.dumps(card_a))
    assert card["arch"] == {"C": 6} and card["params"] == 3 * 6 * 9 + 6 + 6 * 3 + 3
    assert card["training"]["steps_done"] == 40 and card["training"]["batch_size"] == 4
    assert card["data"]["validation_images"] == ["img0.exr"] and len(card["data"]["manifest_sha256"]) == 64
    assert set(card["synthesis"]["sdr"]["tone_mappers"]) >= {"clip", "bt2446a"}
    assert card["machine"]["torch"] == torch.__version__
    val = card["validation"]
    assert val["samples"] == len(EVALUATION_TONE_MAPPERS) and set(val["baselines"]) == {"test-sdr-at-203"}
    assert val["final"]["psnr_pq"]["mean"] > val["step_0"]["psnr_pq"]["mean"] + 3
    assert set(val["final"]) == {"psnr_pq", "ssim_pq", "delta_e_itp", "psnr_mu"}
    assert set(val["by_tone_mapper"]) == {"test-tiny-itm", "test-sdr-at-203"}
    assert set(val["by_tone_mapper"]["test-tiny-itm"]) == set(EVALUATION_TONE_MAPPERS)
    # held-out groups beside the in-family figure, for the model and every baseline
    assert set(val["held_out"]) == {"test-tiny-itm", "test-sdr-at-203"}
    assert set(val["held_out"]["test-tiny-itm"]["groups"]) == set(HELD_OUT_GROUPS)
    assert val["held_out"]["test-tiny-itm"]["mean"]["psnr_pq"] > 0

    # revalidation rewrites the validation section only, with the same numbers for the same weights
    revalidated = revalidate(_config(data, tmp_path / "a.pt"), log=logs.append)
    assert revalidated["training"] == card["training"] and revalidated["validation"] == val

    # the trained weights run through the model class like shipped weights
    model = create("test-tiny-itm", weights=str(tmp_path / "a.pt"))
    assert model.arch == {"C": 6} and model.trained
    hdr, _ = model.process(torch.rand(1, 3, 16, 16), None)
    assert hdr.shape == (1, 3, 16, 16) and float(hdr.min()) >= 0


def test_train_refuses_bad_requests(tmp_path):
    data = write_hdr_folder(tmp_path / "hdr", ["a.exr", "b.exr"])
    with pytest.raises(UsageError):
        train(_config(data, tmp_path / "x.pt", steps=None))
    with pytest.raises(UsageError):
        train(_config(data, tmp_path / "x.pt", model="test-sdr-at-203"))
    with pytest.raises(UsageError):
        train(_config(data, tmp_path / "x.pt", arch={"width": 3}))
    with pytest.raises(UsageError):
        train(_config(data, tmp_path / "x.pt", graphics=-1))
    for family in [(), ("clip", "aces")]:
        with pytest.raises(UsageError, match="--tone-mappers"):
            train(_config(data, tmp_path / "x.pt", tone_mappers=family))
    with pytest.raises(InputMissingError):
        train(_config(data, tmp_path / "x.pt"), resume=True)


def test_the_sampler_is_chosen_by_the_task_and_a_model_it_does_not_fit_is_refused(tmp_path, monkeypatch):
    data = write_hdr_folder(tmp_path / "hdr", ["a.exr", "b.exr"])
    assert SAMPLERS["itm"].draw is patch_batch
    monkeypatch.setitem(SAMPLERS, "itm", replace(SAMPLERS["itm"], window=3))
    with pytest.raises(UsageError, match=r"^model 'test-tiny-itm': the itm sampler draws single-frame "
                                         r"patches for window 3, scale 1 \(the model has window 1, scale 1\)$"):
        train(_config(data, tmp_path / "x.pt"))
    monkeypatch.delitem(SAMPLERS, "itm")
    with pytest.raises(UsageError, match=r"^model 'test-tiny-itm': hdrconv train has no sampler for task 'itm' "):
        train(_config(data, tmp_path / "x.pt"))


def test_fine_tuning_starts_from_the_given_weights_and_keeps_their_history(tmp_path):
    data = write_hdr_folder(tmp_path / "hdr", ["a.exr", "b.exr"])
    first = train(_config(data, tmp_path / "first.pt", steps=10), log=lambda s: None)
    tuned = train(_config(data, tmp_path / "tuned.pt", steps=10, init=str(tmp_path / "first.pt"), bf16=True,
                          tone_mappers=("clip", "hable")), log=lambda s: None)
    assert first["synthesis"]["sdr"]["tone_mappers"] == list(TONE_MAPPERS)
    assert tuned["synthesis"]["sdr"]["tone_mappers"] == ["clip", "hable"]
    assert tuned["validation"]["step_0"] == first["validation"]["final"]
    assert tuned["training"]["init_training"]["steps_done"] == 10 and tuned["training"]["bf16"]
    assert tuned["validation"]["final"] != first["validation"]["final"]

    with pytest.raises(UsageError, match="not weights of this architecture"):
        train(_config(data, tmp_path / "x.pt", arch={"C": 4}, init=str(tmp_path / "first.pt")))
    with pytest.raises(InputMissingError):
        train(_config(data, tmp_path / "x.pt", init=str(tmp_path / "missing.pt")))


def test_alt_exp_validation_scores_coarse_net_alone_beside_the_whole_network(tmp_path, one_thread):
    data = write_hdr_folder(tmp_path / "hdr", ["a.exr", "b.exr"])
    config = _config(data, tmp_path / "c2f.pt", model="c2f-2exp", steps=1, batch_size=2, arch=TINY,
                     baselines=("merge",))
    card = train(config, log=lambda s: None)
    coarse = card["validation"]["ablation"]["coarse"]
    assert set(card["validation"]["ablation"]) == {"coarse"} and set(coarse) == set(card["validation"]["final"])
    # a RefineNet that corrects CoarseNet: the whole network's figures move, CoarseNet's alone stay
    weights = torch.load(tmp_path / "c2f.pt", weights_only=True)
    g = torch.Generator().manual_seed(0)
    weights["refine.out.weight"] = 0.1 * torch.randn(weights["refine.out.weight"].shape, generator=g)
    torch.save(weights, tmp_path / "c2f.pt")
    logs = []
    val = revalidate(config, log=logs.append)["validation"]
    means = {k: m["mean"] for k, m in coarse.items()}
    assert {k: m["mean"] for k, m in val["ablation"]["coarse"].items()} == pytest.approx(means)
    # measured PSNR-mu 20.62 dB against 21.59 dB for CoarseNet alone
    assert abs(val["final"]["psnr_mu"]["mean"] - coarse["psnr_mu"]["mean"]) > 0.5
    assert f"coarse alone {coarse['psnr_mu']['mean']:.2f} dB" in logs[0]

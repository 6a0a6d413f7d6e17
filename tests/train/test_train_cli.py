import json

import torch

from hdrconv.cli import main
from tests.hdr_data import write_hdr_folder


def test_train_command_writes_weights_card_and_resumes(tmp_path, capsys):
    data = write_hdr_folder(tmp_path / "hdr", ["a.exr", "b.exr"])
    out = tmp_path / "tiny.pt"
    args = ["train", "test-tiny-itm", "--data", str(data), "--out", str(out), "--batch-size", "2",
            "--patch", "32", "--log-every", "5", "--arch", "C=3"]
    assert main(args + ["--steps", "5"]) == 0
    assert "step 5: loss" in capsys.readouterr().err
    assert main(args + ["--steps", "10", "--resume", "--json"]) == 0
    card = json.loads(capsys.readouterr().out)
    assert card["training"]["steps_done"] == 10 and card["arch"] == {"C": 3}
    assert set(card["validation"]["baselines"]) == {"bt2408", "bt2446a", "bt2446c"}
    assert json.loads(out.with_suffix(".json").read_text()) == card
    assert set(torch.load(out, weights_only=True)) == {"body.0.weight", "body.0.bias", "body.2.weight", "body.2.bias"}

    tuned = tmp_path / "tuned.pt"
    assert main(args[:5] + [str(tuned)] + args[6:] + ["--steps", "5", "--init", str(out), "--bf16", "--json"]) == 0
    card_tuned = json.loads(capsys.readouterr().out)
    assert card_tuned["training"]["bf16"] and card_tuned["training"]["init_training"]["steps_done"] == 10


def test_train_command_errors_map_to_exit_codes(tmp_path, capsys):
    data = write_hdr_folder(tmp_path / "hdr", ["a.exr", "b.exr"])
    base = ["train", "test-tiny-itm", "--data", str(data), "--out", str(tmp_path / "x.pt")]
    assert main(base) == 64  # no budget
    assert main(base + ["--steps", "1", "--arch", "C"]) == 64
    assert main(base + ["--steps", "1", "--resume"]) == 66
    assert main(base + ["--steps", "1", "--init", str(tmp_path / "none.pt")]) == 66
    (tmp_path / "x.pt").write_bytes(b"weights")
    assert main(base + ["--steps", "1"]) == 73  # exists, neither --force nor --resume
    assert main(["train", "bt2408", "--data", str(data), "--out", str(tmp_path / "y.pt"), "--steps", "1"]) == 64
    assert main(["train", "test-tiny-itm", "--data", str(tmp_path / "none"), "--out", str(tmp_path / "z.pt"),
                 "--steps", "1"]) == 66
    assert main(base[:-1] + [str(tmp_path / "no" / "dir.pt"), "--steps", "1"]) == 73
    assert "hdrconv: error:" in capsys.readouterr().err


def test_train_command_trains_an_alternating_exposure_model(tmp_path, capsys, one_thread):
    data = write_hdr_folder(tmp_path / "hdr", ["a.exr", "b.exr"])
    out = tmp_path / "c2f.pt"
    assert main(["train", "c2f-2exp", "--data", str(data), "--out", str(out), "--steps", "2",
                 "--batch-size", "2", "--patch", "32", "--log-every", "1", "--json"]) == 0
    captured = capsys.readouterr()
    assert "step 2: loss" in captured.err and "validation psnr_mu" in captured.err
    card = json.loads(captured.out)
    assert card["task"] == "alt-exp" and card["training"]["steps_done"] == 2 and set(card["validation"]["baselines"]) == {"merge"}
    assert set(card["validation"]["final"]) >= {"psnr_mu", "psnr_pq"}
    from hdrconv.models.registry import create

    assert create("c2f-2exp", weights=str(out)).trained


def test_train_command_trains_the_recurrent_video_model_on_clips(tmp_path, capsys, one_thread):
    data = write_hdr_folder(tmp_path / "hdr", ["a.exr", "b.exr"])
    out = tmp_path / "temporal.pt"
    assert main(["train", "temporal", "--data", str(data), "--out", str(out), "--steps", "2",
                 "--batch-size", "2", "--patch", "32", "--log-every", "1", "--json"]) == 0
    captured = capsys.readouterr()
    assert "step 2: loss" in captured.err and "dB held-out" in captured.err
    card = json.loads(captured.out)
    assert card["task"] == "itm" and card["training"]["steps_done"] == 2
    assert card["training"]["network_domain"].startswith("sequences")
    assert card["synthesis"]["video_clips"]["still_clips"] > 0 and "capture" not in card["training"]
    assert set(card["validation"]["held_out"]["temporal"]["groups"]) == {"exposure", "curves", "grading"}
    # step 0 is BT.2446 Method A: every head of the untrained network starts at zero
    assert abs(card["validation"]["step_0"]["psnr_pq"]["mean"]
               - card["validation"]["baselines"]["bt2446a"]["psnr_pq"]["mean"]) < 1e-3
    from hdrconv.models.registry import create

    model = create("temporal", weights=str(out))
    assert model.trained and model.process(torch.rand(2, 3, 24, 40), None)[0].shape == (2, 3, 24, 40)

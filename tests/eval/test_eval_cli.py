import json

from hdrconv.cli import main
from hdrconv.data.synthesis import EVALUATION_TONE_MAPPERS
from tests.hdr_data import write_hdr_folder


def test_eval_command_table_and_json(tmp_path, capsys):
    data = write_hdr_folder(tmp_path, ["a.exr"])
    assert main(["eval", "--model", "bt2408", "--model", "bt2446a", "--data", str(data)]) == 0
    table = capsys.readouterr().out
    assert "bt2408" in table and "bt2446a" in table and "PSNR-PQ" in table and f"{len(EVALUATION_TONE_MAPPERS)} samples" in table
    assert main(["eval", "-m", "bt2408", "--data", str(data), "--json", "--mode", "clips"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["model"] == "bt2408" and row["samples"] == 1
    assert set(row["metrics"]) == {"psnr_pq", "ssim_pq", "delta_e_itp", "psnr_mu", "flicker", "warping_error"}


def test_eval_command_errors(tmp_path, capsys):
    data = write_hdr_folder(tmp_path, ["a.exr"])
    assert main(["eval", "-m", "no-such-model", "--data", str(data)]) == 64
    assert main(["eval", "-m", "bt2408", "--data", str(tmp_path / "missing")]) == 66
    assert main(["eval", "-m", "bt2408", "--data", str(data), "--weights", "bt2408"]) == 64
    assert main(["eval", "-m", "bt2408", "--data", str(data), "--mode", "films"]) == 64
    assert capsys.readouterr().err.count("hdrconv: error:") == 4

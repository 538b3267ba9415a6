"""Device and precision rules, with the hardware checks passed in (no GPU or Mac needed)."""

import os
import subprocess
import sys

import pytest
from conftest import ROOT

from sentiment.runtime import cpu_isa, pick_device, resolve_precision, runtime_info

yes, no = (lambda: True), (lambda: False)


@pytest.mark.parametrize("cuda, mps, expected", [(yes, yes, "cuda"), (no, yes, "mps"), (no, no, "cpu")])
def test_auto_prefers_cuda_then_mps_then_cpu(cuda, mps, expected):
    assert pick_device("auto", cuda=cuda, mps=mps) == expected


def test_explicit_device_overrides_and_must_exist():
    assert pick_device("cpu", cuda=yes, mps=yes) == "cpu"
    assert pick_device("mps", cuda=yes, mps=yes) == "mps"
    with pytest.raises(ValueError, match="'cuda' was asked for but is not available"):
        pick_device("cuda", cuda=no, mps=no)
    with pytest.raises(ValueError, match="device must be one of"):
        pick_device("tpu")


@pytest.mark.parametrize(
    "device, isa, cuda_bf16, expected",
    [
        ("cpu", "amx", None, "bf16"),
        ("cpu", "avx512_bf16", None, "bf16"),
        ("cpu", "avx512", None, "fp32"),
        ("cpu", "avx2", None, "fp32"),
        ("cuda", "avx2", yes, "bf16"),
        ("cuda", "avx2", no, "fp16"),
        ("mps", "default", None, "fp32"),
    ],
)
def test_auto_precision_rule(device, isa, cuda_bf16, expected):
    assert resolve_precision("auto", device, cuda_bf16=cuda_bf16, isa=lambda: isa) == expected


def test_explicit_precision_is_kept():
    assert resolve_precision("fp32", "cpu", isa=lambda: "amx") == "fp32"


def test_runtime_info_records_what_results_depend_on():
    info = runtime_info("cpu", "fp32")
    assert info["device"] == "cpu" and info["precision"] == "fp32" and info["cpu_isa"] == cpu_isa()


@pytest.mark.e2e
def test_avx2_emulation_is_recorded_as_avx2():
    """ATEN_CPU_CAPABILITY=avx2 (the AVX2-class emulation) must not claim native bf16."""
    env = {**os.environ, "ATEN_CPU_CAPABILITY": "avx2"}
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; sys.path.insert(0, 'src'); "
            "from sentiment.runtime import cpu_isa, resolve_precision; "
            "print(cpu_isa(), resolve_precision('auto', 'cpu'))",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert out[0] in ("avx2", "default") and out[1] == "fp32"

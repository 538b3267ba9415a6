"""Which device and arithmetic a transformer runs with, decided once and recorded.

Neural results depend on the hardware class (bf16 on AMX / AVX512-BF16 CPUs, fp32 on AVX2
CPUs), so every transformer output records `runtime_info()`: device, resolved precision and
the CPU's instruction set. The availability checks are arguments so the rules are testable
without the hardware.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Callable
from typing import Literal, get_args

# The settings every transformer stage and the predict-time code share (params and API types).
Precision = Literal["auto", "bf16", "fp16", "fp32"]
Device = Literal["auto", "cuda", "mps", "cpu"]  # auto: cuda, then mps, then cpu
Truncation = Literal["head", "head_tail"]  # one cut of each text (zero-shot scorers)
TrainTruncation = Literal["head", "head_tail", "random"]  # random: one seeded random window per review
PredictTruncation = Literal["head", "head_tail", "windows"]  # windows: every window, mean logit

DEVICES = get_args(Device)


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def _mps() -> bool:
    import torch

    return bool(getattr(torch.backends, "mps", None)) and torch.backends.mps.is_available()


def pick_device(requested: str = "auto", cuda: Callable[[], bool] = _cuda, mps: Callable[[], bool] = _mps) -> str:
    """'auto' -> cuda, then mps (Apple silicon), then cpu; an explicit device must exist."""
    if requested not in DEVICES:
        raise ValueError(f"device must be one of {DEVICES}, got {requested!r}")
    available = {"cuda": cuda, "mps": mps, "cpu": lambda: True}
    if requested != "auto":
        if not available[requested]():
            raise ValueError(f"device {requested!r} was asked for but is not available here")
        return requested
    return next(d for d in ("cuda", "mps", "cpu") if available[d]())


def cpu_isa() -> str:
    """The CPU's best instruction set for this work: 'amx', 'avx512_bf16', 'avx512', 'avx2' or 'default'.

    Follows PyTorch's dispatch (ATEN_CPU_CAPABILITY=avx2 makes an AVX-512 machine report
    and behave as 'avx2'), so an emulated AVX2 run records itself as such.
    """
    import torch

    cap = torch.backends.cpu.get_cpu_capability().lower()  # 'avx512', 'avx2', 'default', ...
    if cap.startswith("avx512"):
        if getattr(torch.cpu, "_is_amx_tile_supported", lambda: False)():
            return "amx"
        if getattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False)():
            return "avx512_bf16"
        return "avx512"
    return cap


def resolve_precision(
    precision: str, device: str, *, cuda_bf16: Callable[[], bool] | None = None, isa: Callable[[], str] = cpu_isa
) -> str:
    """'auto' -> bf16 on bf16 GPUs and CPUs with native bf16 (AMX, AVX512-BF16), fp16 on older
    GPUs, fp32 on MPS (autocast there is not tested here) and on other CPUs."""
    if precision != "auto":
        return precision
    if device == "cuda":
        import torch

        bf16 = (cuda_bf16 or torch.cuda.is_bf16_supported)()
        return "bf16" if bf16 else "fp16"
    if device == "cpu":
        return "bf16" if isa() in ("amx", "avx512_bf16") else "fp32"
    return "fp32"


def runtime_info(device: str, precision: str) -> dict:
    """What a transformer result depends on beyond params and data (recorded with it)."""
    import torch

    info = {"device": device, "precision": precision, "cpu_isa": cpu_isa(), "torch": torch.__version__}
    if device == "cuda":
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


def machine() -> dict:
    """For cost figures: which machine a timing comes from."""
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            model = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), model)
    except OSError:
        pass
    return {"cpu": model, "cores": os.cpu_count(), "cpu_isa": cpu_isa()}

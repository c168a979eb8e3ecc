"""Running an exported .onnx file through ONNX Runtime from here: the Python package when it is
installed, else the repository's C# console tools/GraphRunner (built with `dotnet` on first use).
Returns None, with the reason, when neither is available."""
import os
import shutil
import subprocess
import tempfile

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROJECT = os.path.join(REPO, "tools", "GraphRunner", "GraphRunner.csproj")
BUILT = os.path.join(REPO, "tools", "GraphRunner", "bin", "Release", "net10.0", "GraphRunner.dll")
_built = []  # built once per process


def _python_ort(path, feeds):
    import onnxruntime
    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(names, feeds))), "ONNX Runtime (Python) CPU"


def _csharp_ort(path, feeds, out):
    dotnet = shutil.which("dotnet")
    if dotnet is None:
        return None, "dotnet is not installed here, so tools/GraphRunner cannot run the file"
    if not os.path.isfile(PROJECT):
        return None, f"tools/GraphRunner is not in this checkout ({PROJECT} missing)"
    if not _built:
        out("  building tools/GraphRunner (dotnet build -c Release) ...")
        build = subprocess.run([dotnet, "build", PROJECT, "-c", "Release", "-v", "q", "-nologo"],
                               capture_output=True, text=True)
        if build.returncode != 0 or not os.path.isfile(BUILT):
            last = (build.stdout + build.stderr).strip().splitlines()[-3:]
            return None, f"tools/GraphRunner did not build ({' | '.join(last)})"
        _built.append(BUILT)
    with tempfile.TemporaryDirectory(prefix="dermxai-verify-") as folder:
        args = [dotnet, BUILT, "--model", path, "--out", os.path.join(folder, "out")]
        for name, array in feeds.items():
            np.save(os.path.join(folder, f"{name}.npy"), np.ascontiguousarray(array))
            args += ["--input", f"{name}={os.path.join(folder, name + '.npy')}"]
        run = subprocess.run(args, capture_output=True, text=True)
        if run.returncode != 0:
            return None, f"tools/GraphRunner failed: {(run.stderr or run.stdout).strip()[:300]}"
        timing = next((line for line in run.stdout.splitlines() if line.startswith("run:")), "")
        results = {name[:-4]: np.load(os.path.join(folder, "out", name))
                   for name in sorted(os.listdir(os.path.join(folder, "out"))) if name.endswith(".npy")}
    return results, f"ONNX Runtime via tools/GraphRunner (C#), {timing[5:]}"


def run_file(path, pixels, targets=None, out=print, target_image=None):
    """(outputs dict by name, description) or (None, why not). `targets` (target_class) is left out
    for a forward graph; target_image defaults to one row per image (0..B-1)."""
    feeds = {"pixel_values": pixels}
    if targets is not None:
        rows = np.arange(len(targets)) if target_image is None else target_image
        feeds.update(target_class=np.asarray(targets).astype(np.int64), target_image=np.asarray(rows).astype(np.int64))
    try:
        return _python_ort(path, feeds)
    except ImportError:
        return _csharp_ort(path, feeds, out)

# Sourced by the benchmark scripts: installs what they need and builds twentyq.
# Sets: here (this folder), root (the repository), twentyq (the release binary).
# The venv (faiss-cpu and numpy from PyPI) lives in Tools/bench/.venv; TWENTYQ_SCRATCH
# chooses the build folder (default .build).
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
"$root/Tools/setup.sh"
if [ ! -x "$here/.venv/bin/python" ]; then
    python3 -m venv "$here/.venv"
    "$here/.venv/bin/pip" install -q faiss-cpu numpy >&2
fi
scratch=${TWENTYQ_SCRATCH:-$root/.build}
(cd "$root" && swift build -c release --product twentyq --scratch-path "$scratch" >&2)
twentyq="$scratch/release/twentyq"

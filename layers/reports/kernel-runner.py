"""Symbiont's kernel runner: executes one notebook with nbclient on this machine's Jupyter kernel.

Usage: python3 kernel-runner.py <input.ipynb> <output.ipynb> <cell timeout seconds> <kernel name> <working dir>

The executed notebook is written to <output.ipynb> whether every cell succeeds or one fails (it is
then executed up to the failure), and one JSON line on stdout says how it ended:
{"status": "succeeded"} or {"status": "failed", "cell": <index>, "ename": ..., "evalue": ...}.
Everything else (injection, HTML rendering, storage) is Symbiont's TypeScript; this is the only Python.
"""
import json
import sys

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError


def main() -> int:
    source, target, cell_timeout, kernel_name, workdir = sys.argv[1:6]
    notebook = nbformat.read(source, as_version=4)
    current = {"index": None}

    def on_cell_start(cell, cell_index):
        current["index"] = cell_index

    client = NotebookClient(
        notebook,
        timeout=int(cell_timeout),
        kernel_name=kernel_name,
        allow_errors=False,
        record_timing=True,
        resources={"metadata": {"path": workdir}},
        on_cell_start=on_cell_start,
    )
    outcome = {"status": "succeeded"}
    try:
        client.execute()
    except CellTimeoutError as error:
        outcome = {"status": "failed", "cell": current["index"], "ename": "CellTimeoutError",
                   "evalue": f"the cell ran longer than {cell_timeout} seconds and was stopped"}
    except CellExecutionError as error:
        outcome = {"status": "failed", "cell": current["index"], "ename": error.ename, "evalue": error.evalue}
    except DeadKernelError as error:
        outcome = {"status": "failed", "cell": current["index"], "ename": "DeadKernelError", "evalue": str(error)}
    finally:
        with open(target, "w", encoding="utf-8") as handle:
            nbformat.write(notebook, handle)
    print(json.dumps(outcome), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

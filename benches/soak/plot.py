#!/usr/bin/env python3
"""Plots a soak CSV (benches/soak/soak.sh) to PNG when matplotlib is available, else prints a
table. Usage: plot.py SOAK.csv [OUT.png]"""
import csv
import sys


def load(path):
    with open(path, newline="") as f:
        rows = [r for r in csv.DictReader(f)]
    cols = rows[0].keys() if rows else []
    data = {c: [] for c in cols}
    for r in rows:
        for c in cols:
            try:
                data[c].append(float(r[c]))
            except (TypeError, ValueError):
                data[c].append(float("nan"))
    return data


def table(data):
    cols = list(data)
    print(" ".join(f"{c:>14}" for c in cols))
    for i in range(len(data[cols[0]])):
        print(" ".join(f"{data[c][i]:>14.0f}" for c in cols))


def plot(data, out):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = data["elapsed_s"]
    fig, axes = plt.subplots(3, 1, figsize=(10, 9), sharex=True)
    axes[0].plot(t, [v / 1024 for v in data["rss_kib"]], label="RSS (MiB)")
    axes[0].plot(t, data["fds"], label="open fds")
    axes[0].legend()
    axes[0].set_title("trunkgate soak: memory and file descriptors")
    for c in ("calls", "transactions", "dialogs"):
        axes[1].plot(t, data[c], label=c)
    axes[1].legend()
    axes[1].set_title("core tables (/status)")
    for c in ("account_active", "carrier_active"):
        axes[2].plot(t, data[c], label=c)
    axes[2].legend()
    axes[2].set_title("active calls (/status)")
    axes[2].set_xlabel("elapsed (s)")
    fig.tight_layout()
    fig.savefig(out, dpi=90)
    print(f"wrote {out}")


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    data = load(sys.argv[1])
    table(data)
    out = sys.argv[2] if len(sys.argv) > 2 else sys.argv[1].rsplit(".", 1)[0] + ".png"
    try:
        plot(data, out)
    except ImportError:
        print("matplotlib not installed: table only (pip install matplotlib for the PNG)")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Tabulates a benches/load/run.sh results folder: one row per (flow, transport, proxy) with
calls ok/failed, achieved calls/s, proxy CPU-seconds per 1000 calls, p50/p99 relay latency
(pcap, all relayed messages), peak memory (PSS), and trunkgate/Kamailio ratios.

A case measured in several rounds (`NAME-rN` folders) shows the sum of its calls, the median
of its rates, CPU and latencies, the highest of its peaks, and each round's CPU ratio."""
import json
import os
import re
import statistics
import sys


def load(path):
    try:
        with open(os.path.join(path, "summary.json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def row(s):
    lat = s.get("proxy_latency_us_pcap", {}).get("relay all", {})
    mem = s.get("proxy_mem_kb", {})
    calls = s.get("calls", {})
    return {
        "ok": calls.get("succeeded", 0),
        "failed": calls.get("failed", 0),
        "cps": s.get("rate", {}).get("achieved_cps", 0.0),
        "cpu": s.get("proxy_cpu", {}).get("cpu_s_per_1000_ok", float("nan")),
        "p50": lat.get("p50_us", float("nan")),
        "p99": lat.get("p99_us", float("nan")),
        "mem": mem.get("peak", {}).get("pss_kb_sum", 0) / 1024.0,
    }


def rounds(out, name):
    """The summaries of `name` (one folder, or one per round `name-rN`), in round order."""
    found = []
    for entry in os.listdir(out):
        m = re.fullmatch(re.escape(name) + r"(?:-r(\d+))?", entry)
        if m:
            s = load(os.path.join(out, entry))
            if s:
                found.append((int(m.group(1) or 0), s))
    return [s for _, s in sorted(found, key=lambda x: x[0])]


def combine(rs):
    """One row for the rounds of a case."""
    med = lambda k: statistics.median(r[k] for r in rs)
    return {
        "ok": sum(r["ok"] for r in rs),
        "failed": sum(r["failed"] for r in rs),
        "cps": med("cps"),
        "cpu": med("cpu"),
        "p50": med("p50"),
        "p99": med("p99"),
        "mem": max(r["mem"] for r in rs),
    }


def ratio(a, b):
    return f"{a / b:.2f}" if b else "-"


def main(out):
    print("| flow | transport | proxy | calls ok/failed | calls/s | cpu-s/1000 calls | relay p50/p99 (µs) | peak PSS (MB) | cpu ratio | p99 ratio | mem ratio | cpu ratio per round |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for flow in ("inbound", "outbound"):
        for tp in ("udp", "tcp"):
            tg = [row(s) for s in rounds(out, f"trunkgate-{flow}-{tp}")]
            km = [row(s) for s in rounds(out, f"kamailio-{flow}-{tp}")]
            t = combine(tg) if tg else None
            k = combine(km) if km else None
            for name, r in (("trunkgate", t), ("kamailio", k)):
                if not r:
                    continue
                rat = ("", "", "", "")
                if name == "trunkgate" and k:
                    each = " / ".join(ratio(a["cpu"], b["cpu"]) for a, b in zip(tg, km))
                    rat = (ratio(t["cpu"], k["cpu"]), ratio(t["p99"], k["p99"]), ratio(t["mem"], k["mem"]), each)
                print(f"| {flow} | {tp} | {name} | {r['ok']}/{r['failed']} | {r['cps']:.0f} | {r['cpu']:.3f} | "
                      f"{r['p50']:.0f}/{r['p99']:.0f} | {r['mem']:.0f} | {rat[0]} | {rat[1]} | {rat[2]} | {rat[3]} |")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".")

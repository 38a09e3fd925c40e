#!/usr/bin/env python3
"""Tabulates a benches/load/run.sh results folder: one row per (flow, transport, proxy) with
calls ok/failed, achieved calls/s, proxy CPU-seconds per 1000 calls, p50/p99 relay latency
(pcap, all relayed messages), peak memory (PSS), and trunkgate/Kamailio ratios."""
import json
import os
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


def ratio(a, b):
    return f"{a / b:.2f}" if b else "-"


def main(out):
    print("| flow | transport | proxy | calls ok/failed | calls/s | cpu-s/1000 calls | relay p50/p99 (µs) | peak PSS (MB) | cpu ratio | p99 ratio | mem ratio |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for flow in ("inbound", "outbound"):
        for tp in ("udp", "tcp"):
            tg = load(os.path.join(out, f"trunkgate-{flow}-{tp}"))
            km = load(os.path.join(out, f"kamailio-{flow}-{tp}"))
            rows = [("trunkgate", tg), ("kamailio", km)]
            t = row(tg) if tg else None
            k = row(km) if km else None
            for name, s in rows:
                if not s:
                    continue
                r = row(s)
                rat = ("", "", "")
                if name == "trunkgate" and t and k:
                    rat = (ratio(t["cpu"], k["cpu"]), ratio(t["p99"], k["p99"]), ratio(t["mem"], k["mem"]))
                print(f"| {flow} | {tp} | {name} | {r['ok']}/{r['failed']} | {r['cps']:.0f} | {r['cpu']:.3f} | "
                      f"{r['p50']:.0f}/{r['p99']:.0f} | {r['mem']:.0f} | {rat[0]} | {rat[1]} | {rat[2]} |")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".")

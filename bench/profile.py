#!/usr/bin/env python3
"""Where idem spends its time: the release `idem` under valgrind --tool=callgrind behind the
bench's nginx, a short bounded wrk load on one scenario, then the top functions.

    bench/profile.sh [SCENARIO ...]     (default: idem-replay idem-nokey-static idem-noop)

Writes bench/results/profile-<timestamp>/<scenario>.callgrind and <scenario>.txt
(callgrind_annotate, inclusive and exclusive). Instruction counts, not time: system calls and
waiting do not show, so read it next to the wrk figures.
"""
import datetime
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402

SECONDS = int(os.environ.get("PROFILE_SECONDS", 8))


def profile(scenario, idem, outdir):
    spec = {s[0]: s for s in bench.SCENARIOS}[scenario]
    _, server_name, path, script, _ = spec
    if server_name != "main":
        raise SystemExit("profile: only scenarios of the main (durability full) responder")
    run = tempfile.mkdtemp(prefix="idem-profile.", dir="/var/tmp")
    os.chmod(run, 0o755)
    procs = bench.Processes()
    out_file = os.path.join(outdir, f"{scenario}.callgrind")
    try:
        os.makedirs(f"{run}/state-main")
        os.makedirs(f"{run}/tmp")
        limit_sock = f"{run}/limit.sock"  # nginx.conf names it; nothing listens there
        p = procs.start("idem", ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out_file}",
                                 idem, "--config", os.path.join(bench.HERE, "config"),
                                 "--listen", f"unix:{run}/idem.sock", "--socket-mode", "0666",
                                 "--state-dir", f"{run}/state-main", "--workers", "16"], f"{run}/idem.log")
        bench.wait_for_socket(f"{run}/idem.sock", p, "idem under valgrind", timeout=60)
        port, port2 = bench.free_port(), bench.free_port()
        shutil.copy("/etc/nginx/fastcgi_params", f"{run}/fastcgi_params")
        with open(f"{run}/nginx.conf", "w") as f:
            # keep_conn off: under valgrind threads run one at a time, and a worker pinned by a
            # kept connection would only add waiting; the code profiled is the same.
            f.write(bench.nginx_conf(run, port, port2, 4, 1, keep_conn="off"))
        nginx = procs.start("nginx", ["nginx", "-p", run, "-c", f"{run}/nginx.conf", "-g", "daemon off;"],
                            f"{run}/nginx.log")
        bench.wait_for_port(port, nginx)
        nonce = f"{int(time.time())}"
        status, _, body = bench.post(port, path, f"replay-{nonce}" if script == "replay.lua" else None)
        if status != 201:
            raise SystemExit(f"profile: {path} answered {status}: {body[:200]}")
        argv = ["wrk", "-t1", "-c4", f"-d{SECONDS}s", "--timeout", "10s", "--latency", "-s",
                os.path.join(bench.HERE, script), f"http://127.0.0.1:{port}{path}", "--", nonce]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=SECONDS + 60)
        res = bench.parse_wrk(done.stdout)
        bench.log(f"profile: {scenario}: {res['requests']} requests under callgrind ({res['rps']:.0f} req/s)")
    finally:
        procs.stop_all()
        shutil.rmtree(run, ignore_errors=True)
    report = []
    for inclusive in ("no", "yes"):
        ann = subprocess.run(["callgrind_annotate", f"--inclusive={inclusive}", "--threshold=99", out_file],
                             capture_output=True, text=True)
        report.append(f"==== inclusive={inclusive} ====\n" + ann.stdout)
    text = f"requests under callgrind: {res['requests']}\n\n" + "\n".join(report)
    with open(os.path.join(outdir, f"{scenario}.txt"), "w") as f:
        f.write(text)
    return res["requests"]


def main():
    idem = os.environ.get("IDEM_BIN")
    scenarios = sys.argv[1:] or ["idem-replay", "idem-nokey-static", "idem-noop"]
    outdir = os.path.join(bench.HERE, "results", "profile-" + datetime.datetime.now().strftime("%Y%m%d-%H%M%S"))
    os.makedirs(outdir)
    for scenario in scenarios:
        profile(scenario, idem, outdir)
    bench.log(f"profile: wrote {outdir}")


if __name__ == "__main__":
    main()

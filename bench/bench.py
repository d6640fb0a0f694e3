#!/usr/bin/env python3
"""`make bench` (run by bench/run.sh after the builds): nginx + the C limit + two idem
responders on loopback, every scenario through wrk, interleaved and repeated, then the store
microbenchmark. Prints the table and writes bench/results/<timestamp>/{results.md,
results.json, chart.png, wrk/*.txt}.

Everything listens on 127.0.0.1 or unix sockets in a private temporary directory; every
process started here is stopped by its pid at the end (also on Ctrl-C).
"""
import argparse
import datetime
import glob
import http.client
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
JSON_BODY = ('{"id":"pay_be46da940f515d2a74c11744","object":"payment","amount":100,'
             '"currency":"USD","status":"succeeded","created":1796418820}')

# name, server ("main" or "periodic"), path, script, what it measures
SCENARIOS = [
    ("limit-static", "main", "/static", "nokey.lua", "nginx `return 200` with the same JSON"),
    ("limit-c", "main", "/c/payments", "nokey.lua", "minimal C libfcgi responder (bench/limit.c)"),
    ("idem-noop", "main", "/noop", "nokey.lua", "idem: router + staticResponse, no policies"),
    ("idem-nokey", "main", "/payments", "nokey.lua", "POST /payments without a key (createPayment: ledger fdatasync)"),
    ("idem-nokey-static", "main", "/static-payments", "nokey.lua",
     "policies + staticResponse, no key (passthrough)"),
    ("idem-replay", "main", "/payments", "replay.lua", "POST /payments, one key: replay"),
    ("idem-first", "main", "/payments", "unique.lua",
     "unique keys, durability full: claim + createPayment (fdatasync) + complete"),
    ("idem-first-static", "main", "/static-payments", "unique.lua",
     "unique keys, durability full: claim + staticResponse + complete"),
    ("idem-first-periodic", "periodic", "/payments", "unique.lua",
     "unique keys, durability periodic, createPayment (fdatasync)"),
    ("idem-first-static-periodic", "periodic", "/static-payments", "unique.lua",
     "unique keys, durability periodic, staticResponse"),
    ("idem-conflict", "main", "/payments", "conflict.lua",
     "16 concurrent duplicates per key (full): 1 executes, others 409 or replay"),
    ("idem-replay-1k", "small", "/payments", "replay.lua", "replay, the store holding 1,000 other records"),
    ("idem-replay-1m", "big", "/payments", "replay.lua", "replay, the store holding 1,000,000 other records"),
]


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def to_ms(text):
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not m:
        return None
    value, unit = float(m.group(1)), m.group(2)
    return value * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def parse_wrk(out):
    result = {"rps": 0.0, "p50": None, "p99": None, "non2xx": 0, "errors": 0, "requests": 0, "statuses": ""}
    for line in out.splitlines():
        s = line.strip()
        if s.startswith("Requests/sec:"):
            result["rps"] = float(s.split()[1])
        elif s.startswith("50%"):
            result["p50"] = to_ms(s.split()[1])
        elif s.startswith("99%"):
            result["p99"] = to_ms(s.split()[1])
        elif s.startswith("Non-2xx or 3xx responses:"):
            result["non2xx"] = int(s.split(":")[1])
        elif s.startswith("Socket errors:"):
            result["errors"] = sum(int(n) for n in re.findall(r"\d+", s))
        elif re.match(r"^\d+ requests in", s):
            result["requests"] = int(s.split()[0])
        elif s.startswith("statuses "):
            result["statuses"] = s[len("statuses "):]
    return result


class Processes:
    """Processes started by this run, stopped by pid in reverse order."""

    def __init__(self):
        self.items = []

    def start(self, name, argv, log_path, **kw):
        out = open(log_path, "ab")
        p = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, **kw)
        self.items.append((name, p, out))
        return p

    def stop_all(self):
        for name, p, out in reversed(self.items):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    log(f"bench: {name} (pid {p.pid}) did not stop on SIGTERM; killing it")
                    p.kill()
                    p.wait()
            out.close()
        self.items = []


def wait_for_socket(path, proc, name, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if os.path.exists(path):
            return
        if proc.poll() is not None:
            raise SystemExit(f"bench: {name} exited with {proc.returncode} before creating {path}")
        time.sleep(0.05)
    raise SystemExit(f"bench: {name} did not create {path} within {timeout}s")


def wait_for_port(port, proc, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if proc.poll() is not None:
                raise SystemExit(f"bench: nginx exited with {proc.returncode}")
            time.sleep(0.05)
    raise SystemExit(f"bench: nginx did not listen on {port}")


def post(port, path, key=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Idempotency-Key"] = key
    conn.request("POST", path, body='{"amount": 100, "currency": "USD"}', headers=headers)
    r = conn.getresponse()
    body = r.read()
    conn.close()
    return r.status, dict((k.lower(), v) for k, v in r.getheaders()), body


def nginx_conf(run, port, port_periodic, keepalive, nginx_workers, keep_conn="on", extra=()):
    fastcgi = f"""
        include {run}/fastcgi_params;
        fastcgi_param HTTP_PROXY "";
        fastcgi_param REQUEST_ID $request_id;
        fastcgi_keep_conn {keep_conn};
        fastcgi_read_timeout 75s;"""
    return f"""# written by bench/bench.py
worker_processes {nginx_workers};
pid {run}/nginx.pid;
error_log {run}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {run}/tmp/body;
    fastcgi_temp_path {run}/tmp/fastcgi;
    proxy_temp_path {run}/tmp/proxy;
    uwsgi_temp_path {run}/tmp/uwsgi;
    scgi_temp_path {run}/tmp/scgi;
    client_max_body_size 1m;

    # Same kept-alive settings as deploy/nginx-idem.conf; below the workers, because the C
    # limit responder (libfcgi's threaded loop) pins one worker per kept connection.
    upstream limit_c {{ server unix:{run}/limit.sock; keepalive {keepalive}; }}
    upstream idem {{ server unix:{run}/idem.sock; keepalive {keepalive}; }}
    upstream idem_periodic {{ server unix:{run}/idem-periodic.sock; keepalive {keepalive}; }}

    server {{
        listen 127.0.0.1:{port};
        location = /static {{
            default_type application/json;
            return 200 '{JSON_BODY}';
        }}
        location /c/ {{{fastcgi}
            fastcgi_pass limit_c;
        }}
        location / {{{fastcgi}
            fastcgi_pass idem;
        }}
    }}
    server {{
        listen 127.0.0.1:{port_periodic};
        location / {{{fastcgi}
            fastcgi_pass idem_periodic;
        }}
    }}
""" + "".join(f"""    upstream idem_{name} {{ server unix:{run}/idem-{name}.sock; keepalive {keepalive}; }}
    server {{
        listen 127.0.0.1:{extra_port};
        location / {{{fastcgi}
            fastcgi_pass idem_{name};
        }}
    }}
""" for name, extra_port in extra) + "}\n"


def rss_anon_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def machine():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    nginx_v = subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr.strip()
    swift_v = subprocess.run(["swift", "--version"], capture_output=True, text=True)
    swift_line = (swift_v.stdout or swift_v.stderr).splitlines()[0] if (swift_v.stdout or swift_v.stderr) else "?"
    wrk_v = subprocess.run(["wrk", "-v"], capture_output=True, text=True)
    wrk_line = (wrk_v.stdout or wrk_v.stderr).splitlines()[0] if (wrk_v.stdout or wrk_v.stderr) else "?"
    return {
        "cores": os.cpu_count(), "cpu": cpu, "kernel": platform.release(), "host": platform.node(),
        "nginx": nginx_v, "swift": swift_line, "wrk": wrk_line,
        "loadavg": open("/proc/loadavg").read().split()[:3],
    }


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def run_http(args, bins, outdir, run):
    procs = Processes()
    wrk_dir = os.path.join(outdir, "wrk")
    os.makedirs(wrk_dir, exist_ok=True)
    port, port_periodic = free_port(), free_port()
    sized = {"small": 1000, "big": args.big_keys}
    sized_ports = {name: free_port() for name in sized}
    results = {name: [] for name, *_ in SCENARIOS}
    try:
        # The C limit and the idem responders, `--workers` threads each (16, idem's default).
        limit = procs.start("limit", [bins["limit"], f"{run}/limit.sock", str(args.workers)], f"{run}/limit.log")
        wait_for_socket(f"{run}/limit.sock", limit, "limit")
        periodic_config = f"{run}/config-periodic"
        shutil.copytree(os.path.join(HERE, "config"), periodic_config)
        with open(os.path.join(periodic_config, "server.json")) as f:
            server = json.load(f)
        server["store"]["durability"] = "periodic"
        with open(os.path.join(periodic_config, "server.json"), "w") as f:
            json.dump(server, f, indent=2)
        idems = {}
        # Two more responders for the store-size pair, on stores filled beforehand (unsynced,
        # by idem-store-probe, the same LMDBStore code) with 1k and 1M other records.
        for name, count in sized.items():
            os.makedirs(f"{run}/state-{name}")
            t0 = time.time()
            out = subprocess.run([bins["probe"], f"{run}/state-{name}/idem.mdb", "fill", str(count)],
                                 capture_output=True, text=True, timeout=1800)
            if out.returncode != 0:
                raise SystemExit(f"bench: filling the {name} store failed: {out.stdout}{out.stderr}")
            log(f"bench: filled the {name} store with {count} records in {time.time() - t0:.0f} s")
        for name, config, sock in (("main", os.path.join(HERE, "config"), "idem.sock"),
                                   ("periodic", periodic_config, "idem-periodic.sock"),
                                   ("small", os.path.join(HERE, "config"), "idem-small.sock"),
                                   ("big", os.path.join(HERE, "config"), "idem-big.sock")):
            state = f"{run}/state-{name}"
            os.makedirs(state, exist_ok=True)
            p = procs.start(f"idem-{name}", [bins["idem"], "--config", config, "--listen", f"unix:{run}/{sock}",
                                              "--socket-mode", "0666", "--state-dir", state,
                                              "--workers", str(args.workers)], f"{run}/idem-{name}.log")
            wait_for_socket(f"{run}/{sock}", p, f"idem-{name}")
            idems[name] = p
        os.makedirs(f"{run}/tmp", exist_ok=True)
        shutil.copy("/etc/nginx/fastcgi_params", f"{run}/fastcgi_params")
        with open(f"{run}/nginx.conf", "w") as f:
            f.write(nginx_conf(run, port, port_periodic, args.keepalive, args.nginx_workers, args.keep_conn,
                               extra=sized_ports.items()))
        nginx = procs.start("nginx", ["nginx", "-p", run, "-c", f"{run}/nginx.conf", "-g", "daemon off;"],
                            f"{run}/nginx.log")
        wait_for_port(port, nginx)
        wait_for_port(port_periodic, nginx)
        ports = {"main": port, "periodic": port_periodic, **sized_ports}

        # Sanity: every scenario's target answers as expected before anything is measured.
        nonce = f"{int(time.time())}-{os.getpid()}"
        checks = [("main", "/static", None, 200), ("main", "/c/payments", None, 201), ("main", "/noop", None, 201),
                  ("main", "/payments", None, 201), ("main", "/static-payments", None, 201),
                  ("main", "/payments", f"check-{nonce}", 201), ("main", "/static-payments", f"check-{nonce}", 201),
                  ("periodic", "/payments", f"check-{nonce}", 201),
                  ("periodic", "/static-payments", f"check-{nonce}", 201)]
        for server_name, path, key, want in checks:
            status, headers, body = post(ports[server_name], path, key)
            if status != want:
                raise SystemExit(f"bench: POST {path} on {server_name} answered {status}, expected {want}: {body[:300]}")
        # Prime the replay key: its first request executes, every later one replays.
        replay_key = f"replay-{nonce}"
        for server_port in (port, *sized_ports.values()):
            post(server_port, "/payments", replay_key)
            status, headers, _ = post(server_port, "/payments", replay_key)
            if status != 201 or headers.get("x-idempotent-replay") != "true":
                raise SystemExit(f"bench: the replay check failed ({status}, {headers})")

        def wrk(name, server_name, path, script, seconds, tag):
            script_args = [nonce] if script == "replay.lua" else [f"{nonce}-{name}-{tag}"]
            argv = ["wrk", "-t", str(args.threads), "-c", str(args.connections), "-d", f"{seconds}s", "--latency",
                    "-s", os.path.join(HERE, script), f"http://127.0.0.1:{ports[server_name]}{path}", "--",
                    *script_args]
            done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60)
            if done.returncode != 0:
                raise SystemExit(f"bench: wrk failed for {name}: {done.stderr}")
            return done.stdout

        order = [s for s in SCENARIOS if not args.only or s[0] in args.only]
        log(f"bench: warm-up, 1 s per scenario")
        for name, server_name, path, script, _ in order:
            wrk(name, server_name, path, script, 1, "warmup")

        for r in range(args.rounds):
            log(f"bench: round {r + 1}/{args.rounds}")
            # Interleaved, and the order rotates each round so no scenario always runs first.
            shift = r % len(order)
            for name, server_name, path, script, _ in order[shift:] + order[:shift]:
                out = wrk(name, server_name, path, script, args.duration, f"r{r}")
                with open(os.path.join(wrk_dir, f"{name}-round{r + 1}.txt"), "w") as f:
                    f.write(out)
                res = parse_wrk(out)
                res["round"] = r + 1
                results[name].append(res)
                extra = f"  non-2xx {res['non2xx']}" if res["non2xx"] else ""
                extra += f"  socket errors {res['errors']}" if res["errors"] else ""
                extra += f"  [{res['statuses']}]" if res["statuses"] else ""
                log(f"  {name:28s} {res['rps']:10.0f} req/s  p50 {res['p50']:.3f} ms  p99 {res['p99']:.3f} ms{extra}")
                time.sleep(args.pause)
        memory = {name: rss_anon_kib(p.pid) for name, p in idems.items()}
        memory["limit"] = rss_anon_kib(limit.pid)
        for name, p in idems.items():
            if p.poll() is not None:
                raise SystemExit(f"bench: idem-{name} died during the run (exit {p.returncode})")
    finally:
        procs.stop_all()
    return results, memory


def summarize(results):
    rows = []
    c_rounds = {res["round"]: res for res in results["limit-c"]}
    for name, _, _, _, what in SCENARIOS:
        runs = results[name]
        if not runs:
            continue
        ratios = [res["rps"] / c_rounds[res["round"]]["rps"] for res in runs if c_rounds.get(res["round"])]
        p99_ratios = [res["p99"] / c_rounds[res["round"]]["p99"] for res in runs
                      if c_rounds.get(res["round"]) and res["p99"] and c_rounds[res["round"]]["p99"]]
        rows.append({
            "name": name, "what": what, "rounds": len(runs),
            "rps": median([x["rps"] for x in runs]),
            "rps_min": min(x["rps"] for x in runs), "rps_max": max(x["rps"] for x in runs),
            "p50": median([x["p50"] for x in runs]), "p99": median([x["p99"] for x in runs]),
            "ratio": median(ratios), "p99_ratio": median(p99_ratios),
            "non2xx": sum(x["non2xx"] for x in runs), "errors": sum(x["errors"] for x in runs),
            "requests": sum(x["requests"] for x in runs),
            "statuses": "; ".join(x["statuses"] for x in runs if x["statuses"]),
        })
    return rows


def store_microbench(args, bins, run):
    """Raw liblmdb (bench/lmdb_raw.c) against LMDBStore (`idem-store-probe bench`), same
    transactions, interleaved, `repeats` runs each."""
    pattern = re.compile(r"([\d.]+) µs per claim\+complete.*?([\d.]+) µs per lookup")
    modes = [("full", args.sync_ops), ("metaAsync", args.sync_ops), ("noSync", args.nosync_ops)]
    table = []
    for mode, count in modes:
        samples = {"raw": [], "swift": []}
        for rep in range(args.store_repeats):
            for side in ("raw", "swift"):
                path = f"{run}/store-{side}-{mode}-{rep}.mdb"
                argv = ([bins["lmdb_raw"], path, str(count), mode, str(args.lookups)] if side == "raw"
                        else [bins["probe"], path, "bench", str(count), mode, str(args.lookups)])
                out = subprocess.run(argv, capture_output=True, text=True, timeout=300)
                m = pattern.search(out.stdout)
                if out.returncode != 0 or not m:
                    raise SystemExit(f"bench: {' '.join(argv)} failed: {out.stdout}{out.stderr}")
                samples[side].append((float(m.group(1)), float(m.group(2))))
                for suffix in ("", "-lock"):
                    if os.path.exists(path + suffix):
                        os.remove(path + suffix)
        row = {"mode": mode, "ops": count, "lookups": args.lookups}
        for side in ("raw", "swift"):
            row[f"{side}_write_us"] = median([s[0] for s in samples[side]])
            row[f"{side}_read_us"] = median([s[1] for s in samples[side]])
        row["write_ratio"] = row["raw_write_us"] / row["swift_write_us"]
        row["read_ratio"] = row["raw_read_us"] / row["swift_read_us"]
        table.append(row)
        log(f"  store {mode:9s} claim+complete: raw {row['raw_write_us']:.1f} µs, LMDBStore {row['swift_write_us']:.1f} µs"
            f" ({row['write_ratio']:.2f}x raw ops/s); lookup: raw {row['raw_read_us']:.2f} µs,"
            f" LMDBStore {row['swift_read_us']:.2f} µs ({row['read_ratio']:.2f}x)")
    return table


def shared_store_bench(args, bins, run):
    """RedisStore and PostgresStore through idem-store-probe (one client, sequential, as the
    LMDB microbenchmark), beside redis-benchmark's own SET/GET figures on the same server.
    Each server is started here on loopback and stopped at the end; a store whose server is
    not installed is reported as not measured."""
    results = {}
    procs = Processes()
    try:
        redis = shutil.which("redis-server")
        if redis:
            port = free_port()
            p = procs.start("redis", [redis, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no", "--maxmemory-policy", "noeviction", "--dir", run],
                            f"{run}/redis.log")
            wait_for_port(port, p)
            out = subprocess.run([bins["probe"], "store-bench", "redis", f"redis://127.0.0.1:{port}/0",
                                  str(args.shared_ops)], capture_output=True, text=True, timeout=600)
            m = re.search(r"([\d.]+) µs per claim\+complete.*?([\d.]+) µs per lookup", out.stdout)
            ref = subprocess.run(["redis-benchmark", "-p", str(port), "-c", "1", "-n", "20000", "-t", "set,get",
                                  "--csv"], capture_output=True, text=True, timeout=600).stdout
            per_op = {}
            for line in ref.splitlines():
                cells = [c.strip('"') for c in line.split(",")]
                if len(cells) >= 2 and cells[0] in ("SET", "GET"):
                    per_op[cells[0]] = 1e6 / float(cells[1])
            if m:
                results["redis"] = {"write_us": float(m.group(1)), "read_us": float(m.group(2)),
                                    "reference": per_op}
                log(f"  store redis: claim+complete {m.group(1)} µs, lookup {m.group(2)} µs;"
                    f" redis-benchmark -c1 SET {per_op.get('SET', 0):.1f} µs, GET {per_op.get('GET', 0):.1f} µs")
            else:
                log(f"bench: the Redis store benchmark failed: {out.stdout}{out.stderr}")
        bindirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
        if bindirs and shutil.which("runuser"):
            pg = bindirs[-1]
            data = f"{run}/pg"
            os.makedirs(data)
            shutil.chown(data, "postgres", "postgres")
            os.chmod(run, 0o755)
            subprocess.run(["runuser", "-u", "postgres", "--", f"{pg}/initdb", "-D", f"{data}/data", "--auth=trust",
                            "-U", "postgres"], capture_output=True, check=True, timeout=300)
            port = free_port()
            subprocess.run(["runuser", "-u", "postgres", "--", f"{pg}/pg_ctl", "-D", f"{data}/data", "-l",
                            f"{data}/log", "-w", "-o", f"-p {port} -k {data} -c listen_addresses=127.0.0.1", "start"],
                           capture_output=True, check=True, timeout=120)
            try:
                conn = f"host=127.0.0.1 port={port} user=postgres dbname=postgres"
                out = subprocess.run([bins["probe"], "store-bench", "postgres", conn, str(args.shared_ops // 5)],
                                     capture_output=True, text=True, timeout=600)
                m = re.search(r"([\d.]+) µs per claim\+complete.*?([\d.]+) µs per lookup", out.stdout)
                if m:
                    results["postgres"] = {"write_us": float(m.group(1)), "read_us": float(m.group(2))}
                    log(f"  store postgres: claim+complete {m.group(1)} µs, lookup {m.group(2)} µs")
                else:
                    log(f"bench: the PostgreSQL store benchmark failed: {out.stdout}{out.stderr}")
            finally:
                subprocess.run(["runuser", "-u", "postgres", "--", f"{pg}/pg_ctl", "-D", f"{data}/data", "-m",
                                "fast", "-w", "stop"], capture_output=True, timeout=120)
    finally:
        procs.stop_all()
    return results


def fmt(v, digits=0):
    if v is None:
        return "–"
    return f"{v:,.{digits}f}"


def write_markdown(path, rows, store, info, args, memory, started, elapsed, shared=None):
    L = []
    L.append(f"# Idem benchmark — {started:%Y-%m-%d %H:%M} UTC\n")
    L.append(f"Machine: {info['cores']} cores, {info['cpu']}, Linux {info['kernel']} (shared VM; load average before the"
             f" run {' '.join(info['loadavg'])}). {info['nginx']}, {info['swift']}, {info['wrk']}.\n")
    L.append(f"Load: `wrk -t{args.threads} -c{args.connections} -d{args.duration}s --latency`, POST with a 35-byte JSON"
             f" body, through one nginx ({args.nginx_workers} worker, access log off) on 127.0.0.1; FastCGI over unix"
             f" sockets with `fastcgi_keep_conn {args.keep_conn}` and upstream `keepalive {args.keepalive}`; responders with"
             f" {args.workers} threads. {args.rounds} rounds, scenarios interleaved (order rotated each round);"
             f" figures are medians over rounds, ratios are medians of the per-round ratios to limit-c."
             f" Total run time {elapsed:.0f} s.\n")
    L.append("| scenario | req/s (median) | min–max | × limit-c | p50 ms | p99 ms | p99 × limit-c | non-2xx |"
             " socket errors | rounds |")
    L.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        L.append(f"| {r['name']} | {fmt(r['rps'])} | {fmt(r['rps_min'])}–{fmt(r['rps_max'])} | {fmt(r['ratio'], 2)} |"
                 f" {fmt(r['p50'], 3)} | {fmt(r['p99'], 3)} | {fmt(r['p99_ratio'], 2)} | {r['non2xx']} | {r['errors']} |"
                 f" {r['rounds']} |")
    L.append("")
    L.append("non-2xx: answers other than 2xx/3xx (in idem-conflict, the expected 409s). socket errors: wrk's"
             " connect/read/write errors and timeouts (a request unanswered after 2 s).\n")
    L.append("| scenario | what it measures |")
    L.append("|---|---|")
    for r in rows:
        extra = f" — statuses per round: {r['statuses']}" if r["statuses"] else ""
        L.append(f"| {r['name']} | {r['what']}{extra} |")
    L.append("")
    mem = ", ".join(f"{k} {v / 1024:.1f} MiB" for k, v in memory.items() if v is not None)
    L.append(f"Private memory (RssAnon) at the end of the run: {mem}"
             f" (big: the responder on the store with {args.big_keys:,} records; LMDB's map is file-backed"
             " and not in RssAnon).\n")
    by_name = {r["name"]: r for r in rows}
    if "idem-replay-1k" in by_name and "idem-replay-1m" in by_name:
        small, big = by_name["idem-replay-1k"], by_name["idem-replay-1m"]
        if small["p99"] and big["p99"]:
            L.append(f"Store size: replay p99 with {args.big_keys:,} stored records is {big['p99'] / small['p99']:.2f}×"
                     f" the p99 with 1,000 ({fmt(big['p99'], 3)} ms against {fmt(small['p99'], 3)} ms); req/s"
                     f" {big['rps'] / small['rps']:.2f}×.\n")
    L.append("## Store microbenchmark (one thread, one process)\n")
    L.append("Same transactions on both sides: claim = write txn {get, put record, put expiry key}, complete = write"
             " txn {get, put record, put expiry key}, lookup = read txn {get, copy out} (LMDBStore also decodes and"
             " checks the CRC). raw = `bench/lmdb_raw.c` on liblmdb; LMDBStore = `idem-store-probe bench` on the"
             " release build's `LMDBStore` (it also hashes each scope to its store key and encodes the record)."
             f" Medians of {args.store_repeats} interleaved runs each, fresh files on the same disk as the state.\n")
    L.append("| durability | claims+completes | raw µs | LMDBStore µs | raw ops/s | LMDBStore ops/s | LMDBStore × raw |"
             " lookup raw µs | lookup LMDBStore µs | lookups/s raw | lookups/s LMDBStore | × raw |")
    L.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for s in store:
        L.append(f"| {s['mode']} | {s['ops']} | {s['raw_write_us']:.1f} | {s['swift_write_us']:.1f} |"
                 f" {1e6 / s['raw_write_us']:,.0f} | {1e6 / s['swift_write_us']:,.0f} | {s['write_ratio']:.2f} |"
                 f" {s['raw_read_us']:.2f} | {s['swift_read_us']:.2f} | {1e6 / s['raw_read_us']:,.0f} |"
                 f" {1e6 / s['swift_read_us']:,.0f} | {s['read_ratio']:.2f} |")
    L.append("")
    if shared is not None:
        L.append("## Shared stores (one client, sequential, loopback)\n")
        L.append("The same claim+complete pairs and lookups through `RedisStore` (hiredis; each claim and completion"
                 " is one Lua script, a lookup one GET) and `PostgresStore` (libpq; `synchronous_commit` on, so each"
                 " write is durable), beside redis-benchmark's own single-client SET and GET on the same server.\n")
        L.append("| store | claim+complete µs | lookup µs | reference |")
        L.append("|---|---:|---:|---|")
        if "redis" in shared:
            r = shared["redis"]
            ref = r["reference"]
            L.append(f"| Redis | {r['write_us']:.1f} | {r['read_us']:.1f} | redis-benchmark -c1: SET"
                     f" {ref.get('SET', 0):.1f} µs, GET {ref.get('GET', 0):.1f} µs (so claim+complete ="
                     f" {r['write_us'] / max(ref.get('SET', 1), 0.001):.1f} SETs, lookup ="
                     f" {r['read_us'] / max(ref.get('GET', 1), 0.001):.1f} GETs) |")
        else:
            L.append("| Redis | – | – | not measured (redis-server missing or failed) |")
        if "postgres" in shared:
            r = shared["postgres"]
            L.append(f"| PostgreSQL | {r['write_us']:.1f} | {r['read_us']:.1f} | durable commits on the same disk |")
        else:
            L.append("| PostgreSQL | – | – | not measured (PostgreSQL missing or failed) |")
        L.append("")
    L.append("![chart](chart.png)\n")
    with open(path, "w") as f:
        f.write("\n".join(L))


def write_chart(path, rows, title):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("bench: matplotlib is missing; no chart (run.sh installs it into bench/.venv)")
        return False
    names = [r["name"] for r in rows][::-1]
    rps = [r["rps"] for r in rows][::-1]
    lo = [r["rps"] - r["rps_min"] for r in rows][::-1]
    hi = [r["rps_max"] - r["rps"] for r in rows][::-1]
    p99 = [r["p99"] for r in rows][::-1]
    colors = ["#888888" if n.startswith("limit") else "#2a7ab9" for n in names]
    fig, (a, b) = plt.subplots(1, 2, figsize=(13, 0.45 * len(names) + 1.8), sharey=True,
                               gridspec_kw={"width_ratios": [3, 2]})
    a.barh(names, rps, xerr=[lo, hi], color=colors, capsize=3)
    for i, r in enumerate(rows[::-1]):
        a.text(r["rps_max"], i, f"  {r['rps']:,.0f}  ({r['ratio']:.2f}× C)", va="center", fontsize=8)
    a.set_xlabel("requests/s (median, bars: min–max over rounds)")
    a.set_xlim(0, max(rps) * 1.35)
    b.barh(names, p99, color=colors)
    for i, v in enumerate(p99):
        b.text(v, i, f"  {v:.2f}", va="center", fontsize=8)
    b.set_xscale("log")
    b.set_xlabel("p99 latency, ms (median, log scale)")
    b.set_xlim(min(p99) * 0.5, max(p99) * 4)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return True


def render(outdir):
    with open(os.path.join(outdir, "results.json")) as f:
        data = json.load(f)
    args = argparse.Namespace(**data["args"])
    rows = summarize(data["rounds"])
    started = datetime.datetime.fromisoformat(data["started"])
    elapsed = data.get("elapsed", 0)
    write_markdown(os.path.join(outdir, "results.md"), rows, data["store"], data["machine"], args,
                   data["memory_kib"], started, elapsed, data.get("shared_stores"))
    write_chart(os.path.join(outdir, "chart.png"), rows,
                f"Idem make bench {started:%Y-%m-%d %H:%M} UTC — {data['machine']['cores']} cores, wrk"
                f" -t{args.threads} -c{args.connections} -d{args.duration}s, {args.rounds} rounds")
    print(f"bench: re-rendered {outdir}")


def main():
    # SIGTERM (make interrupted, a CI timeout) unwinds like Ctrl-C, so every process started
    # here is stopped and the temporary directory removed.
    def interrupted(*_):
        raise KeyboardInterrupt()

    signal.signal(signal.SIGTERM, interrupted)
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--idem", required=True)
    ap.add_argument("--probe", required=True)
    ap.add_argument("--limit", required=True)
    ap.add_argument("--lmdb-raw", required=True)
    ap.add_argument("--rounds", type=int, default=int(os.environ.get("ROUNDS", 3)))
    ap.add_argument("--duration", type=int, default=int(os.environ.get("DURATION", 5)))
    ap.add_argument("--threads", type=int, default=int(os.environ.get("THREADS", 2)))
    ap.add_argument("--connections", type=int, default=int(os.environ.get("CONNECTIONS", 32)))
    ap.add_argument("--workers", type=int, default=int(os.environ.get("WORKERS", 16)))
    ap.add_argument("--keepalive", type=int, default=int(os.environ.get("KEEPALIVE", 4)))
    ap.add_argument("--nginx-workers", type=int, default=int(os.environ.get("NGINX_WORKERS", 1)))
    ap.add_argument("--keep-conn", choices=["on", "off"], default=os.environ.get("KEEP_CONN", "on"),
                    help="nginx fastcgi_keep_conn (on, as deploy/nginx-idem.conf)")
    ap.add_argument("--only", type=lambda v: [x for x in v.split(",") if x], default=os.environ.get("ONLY", ""),
                    help="comma-separated scenario names (limit-c is always kept, for the ratios)")
    ap.add_argument("--big-keys", type=int, default=int(os.environ.get("BIG_KEYS", 1_000_000)),
                    help="records in the large store of idem-replay-1m")
    ap.add_argument("--shared-ops", type=int, default=2000, help="claim+complete pairs on Redis (PostgreSQL: a fifth)")
    ap.add_argument("--skip-store", action="store_true")
    ap.add_argument("--pause", type=float, default=0.5)
    ap.add_argument("--sync-ops", type=int, default=500)
    ap.add_argument("--nosync-ops", type=int, default=5000)
    ap.add_argument("--lookups", type=int, default=200000)
    ap.add_argument("--store-repeats", type=int, default=3)
    ap.add_argument("--skip-http", action="store_true")
    ap.add_argument("--render", metavar="DIR", help="only re-render DIR/results.md and chart.png from DIR/results.json")
    if "--render" in sys.argv:
        render(sys.argv[sys.argv.index("--render") + 1])
        return
    args = ap.parse_args()
    if not 1 <= args.rounds <= 20 or not 1 <= args.duration <= 60:
        raise SystemExit("bench: ROUNDS must be 1–20 and DURATION 1–60 seconds")
    if args.keepalive >= args.workers:
        raise SystemExit("bench: KEEPALIVE must stay below WORKERS (the C limit responder pins a worker per kept"
                         " connection)")
    if args.only:
        unknown = [n for n in args.only if n not in [s[0] for s in SCENARIOS]]
        if unknown:
            raise SystemExit(f"bench: unknown scenario {', '.join(unknown)}")
        if "limit-c" not in args.only:
            args.only.append("limit-c")
    bins = {"idem": args.idem, "probe": args.probe, "limit": args.limit, "lmdb_raw": args.lmdb_raw}

    started = datetime.datetime.now(datetime.timezone.utc)
    t0 = time.time()
    outdir = os.path.join(HERE, "results", started.strftime("%Y%m%d-%H%M%S"))
    os.makedirs(outdir)
    info = machine()
    # Sockets and state in a private directory on the same disk as a real state directory
    # (not a tmpfs, so fsync costs what it costs). nginx workers run as another user: 0755.
    run = tempfile.mkdtemp(prefix="idem-bench.", dir="/var/tmp" if os.path.isdir("/var/tmp") else None)
    os.chmod(run, 0o755)
    log(f"bench: results in {outdir}; sockets and state in {run}")
    try:
        results, memory = ({name: [] for name, *_ in SCENARIOS}, {}) if args.skip_http else run_http(args, bins, outdir,
                                                                                                     run)
        store, shared = [], {}
        if not args.skip_store:
            log("bench: store microbenchmark")
            store = store_microbench(args, bins, run)
            log("bench: shared stores (Redis, PostgreSQL)")
            shared = shared_store_bench(args, bins, run)
    finally:
        shutil.rmtree(run, ignore_errors=True)
    elapsed = time.time() - t0
    rows = summarize(results) if not args.skip_http else []
    with open(os.path.join(outdir, "results.json"), "w") as f:
        json.dump({"started": started.isoformat(), "elapsed": elapsed, "machine": info, "args": vars(args), "rounds": results,
                   "summary": rows, "store": store, "shared_stores": shared, "memory_kib": memory}, f, indent=1)
    write_markdown(os.path.join(outdir, "results.md"), rows, store, info, args, memory, started, elapsed, shared)
    if rows:
        write_chart(os.path.join(outdir, "chart.png"), rows,
                    f"Idem make bench {started:%Y-%m-%d %H:%M} UTC — {info['cores']} cores, wrk -t{args.threads}"
                    f" -c{args.connections} -d{args.duration}s, {args.rounds} rounds")
    print()
    with open(os.path.join(outdir, "results.md")) as f:
        print(f.read())
    print(f"bench: wrote {outdir}/results.md and chart.png ({elapsed:.0f} s)")


if __name__ == "__main__":
    main()

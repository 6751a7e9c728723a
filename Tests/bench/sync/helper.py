#!/usr/bin/python3
"""In-container helper of Tests/bench/sync/run (Debian's python3, stdlib only).

  helper.py seed VAULT N PREFIX NAMESFILE     N secrets PREFIX-0001.. (~40-byte values) through the Key Vault
                                              emulator's admin API (not counted in its stats); names -> NAMESFILE
  helper.py change VAULT NAMESFILE K SEED     new values for K of the names (random, seeded); prints them as JSON
  helper.py definitions VAULT NAMESFILE NS DIR one aiosd definition DIR/NAME.yaml per name (Secret NS/NAME, key value)
  helper.py verify VAULT NAMESFILE KEY NS...  every name has a Secret in each NS whose KEY is the vault's current
                                              value (kubectl, one list per namespace); prints JSON, exit 1 if not
  helper.py apicounts                         the K3s stand-in's request counters (/counts: by verb, writes, bytesSent)
  helper.py proc UNIT...                      per unit: its MainPID, CPU seconds (utime+stime, all threads) and VmHWM/VmRSS
  helper.py measure OUT -- CMD...             runs CMD (stdout/stderr pass through); writes JSON {rc, wallSeconds,
                                              cpuSeconds, maxRssKiB} of it (getrusage of children) to OUT; exit 0
"""
import base64, json, os, random, resource, secrets, subprocess, sys, time, urllib.request

ADMIN = "http://127.0.0.1:8081"


def put(vault, name, value):
    request = urllib.request.Request(f"{ADMIN}/_admin/vaults/{vault}/secrets/{name}", method="PUT",
                                     data=json.dumps({"value": value}).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        json.load(response)


def value_for(name):
    return f"{name}-{secrets.token_hex(14)}"  # bench-0001- + 28 hex = 39 bytes


def vault_values(vault):
    with urllib.request.urlopen(f"{ADMIN}/_admin/state", timeout=60) as response:
        state = json.load(response)
    return {entry["name"]: entry["versions"][-1]["value"] for entry in state["vaults"][vault]["secrets"].values()
            if entry.get("versions")}


def main():
    verb, args = sys.argv[1], sys.argv[2:]
    if verb == "seed":
        vault, count, prefix, names_file = args[0], int(args[1]), args[2], args[3]
        names = [f"{prefix}-{i:04d}" for i in range(1, count + 1)]
        start = time.monotonic()
        for chunk in range(0, len(names), 1000):  # the emulator's bulk admin call: one state-file write per chunk
            request = urllib.request.Request(f"{ADMIN}/_admin/vaults/{vault}/bulk", method="POST",
                                             data=json.dumps({"secrets": {n: value_for(n) for n in names[chunk:chunk + 1000]}}).encode(),
                                             headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=300) as response:
                json.load(response)
        with open(names_file, "w") as f:
            f.write("".join(name + "\n" for name in names))
        print(json.dumps({"seeded": len(names), "seconds": round(time.monotonic() - start, 2)}))
    elif verb == "change":
        vault, names_file, count, seed = args[0], args[1], int(args[2]), int(args[3])
        names = open(names_file).read().split()
        changed = sorted(random.Random(seed).sample(names, count))
        for name in changed:
            put(vault, name, value_for(name))
        print(json.dumps(changed))
    elif verb == "definitions":
        vault, names_file, namespace, directory = args
        names = open(names_file).read().split()
        os.makedirs(directory, exist_ok=True)
        for name in names:
            with open(os.path.join(directory, name + ".yaml"), "w") as f:
                f.write(f"keyvaultName: {vault}\nobjects:\n  - objectName: {name}\nsecretObject:\n  namespace: {namespace}\n"
                        f"  name: {name}\n  data:\n    - sourcePath: {name}\n      targetKey: value\n")
        print(json.dumps({"definitions": len(names), "dir": directory}))
    elif verb == "verify":
        vault, names_file, key, namespaces = args[0], args[1], args[2], args[3:]
        names = open(names_file).read().split()
        current = vault_values(vault)
        report, ok = {}, True
        for namespace in namespaces:
            listed = json.loads(subprocess.run(["kubectl", "--kubeconfig", "/etc/rancher/k3s/k3s.yaml", "-n", namespace,
                                                "get", "secrets", "-o", "json"], check=True, capture_output=True).stdout)
            data = {item["metadata"]["name"]: (item.get("data") or {}).get(key) for item in listed["items"]}
            missing = [name for name in names if name not in data]
            wrong = [name for name in names if name in data and
                     (data[name] is None or base64.b64decode(data[name]).decode() != current.get(name))]
            report[namespace] = {"checked": len(names), "missing": len(missing), "wrong": len(wrong),
                                 "examples": (missing + wrong)[:5]}
            ok = ok and not missing and not wrong
        print(json.dumps(report))
        return 0 if ok else 1
    elif verb == "apicounts":
        with urllib.request.urlopen("http://127.0.0.1:6440/counts", timeout=30) as response:
            print(json.dumps(json.load(response)))
    elif verb == "proc":
        out = {}
        for unit in args:
            pid = int(subprocess.run(["systemctl", "show", "-p", "MainPID", "--value", unit], check=True,
                                     capture_output=True, text=True).stdout.strip() or 0)
            if pid <= 0:
                out[unit] = None
                continue
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            status = dict(line.split(":", 1) for line in open(f"/proc/{pid}/status"))
            out[unit] = {"pid": pid, "cpuSeconds": (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"),
                         "vmHWMKiB": int(status["VmHWM"].split()[0]), "vmRSSKiB": int(status["VmRSS"].split()[0])}
        print(json.dumps(out))
    elif verb == "measure":
        out_file, command = args[0], args[1:]
        if command and command[0] == "--":
            command = command[1:]
        start = time.monotonic()
        rc = subprocess.run(command).returncode
        wall = time.monotonic() - start
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        with open(out_file, "w") as out:
            out.write(json.dumps({"rc": rc, "wallSeconds": wall, "cpuSeconds": usage.ru_utime + usage.ru_stime,
                                  "maxRssKiB": usage.ru_maxrss}) + "\n")
        return 0
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

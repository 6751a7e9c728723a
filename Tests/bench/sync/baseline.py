#!/usr/bin/python3
"""The obvious script an operator would write to sync Key Vault secrets into Kubernetes Secrets, with Microsoft's
Python SDKs and the official Kubernetes client; the baseline of `make bench`'s secret-sync part.

One run = one pass over the N names, sequentially (the way such a script is written: a for loop, no thread pool):
  value = SecretClient.get_secret(name).value
  read the Kubernetes Secret NAMESPACE/name; 404 -> create it; value differs -> replace it; equal -> no write.
Credential: azure-identity's ClientSecretCredential (an app registration's client secret, the same credential type
the agent is configured with in the benchmark), defaults otherwise (MSAL's instance and tenant discovery included:
the Entra emulator answers both). Kubernetes: kubernetes.config.load_kube_config(K3s' admin kubeconfig).

Prints one JSON line: counts of created/replaced/unchanged/failed and the first errors, plus the script's own wall
time and CPU (resource.getrusage, self + children) and peak RSS (ru_maxrss), both from interpreter start (imports
included: that is what each run of such a script costs). Exit 0 if every name synced.

usage: baseline.py --names FILE --vault-url URL --tenant T --client-id C --client-secret-file F --namespace NS
                   [--kubeconfig /etc/rancher/k3s/k3s.yaml]
"""
import time

T0 = time.monotonic()

import argparse
import base64
import json
import resource
import sys

from azure.identity import ClientSecretCredential
from azure.keyvault.secrets import SecretClient
import kubernetes
from kubernetes.client.exceptions import ApiException


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--names", required=True, help="file with one Key Vault secret name per line")
    parser.add_argument("--vault-url", required=True)
    parser.add_argument("--tenant", required=True)
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--client-secret-file", required=True)
    parser.add_argument("--namespace", required=True)
    parser.add_argument("--key", default="value", help="data key of each Secret")
    parser.add_argument("--kubeconfig", default="/etc/rancher/k3s/k3s.yaml")
    args = parser.parse_args()

    with open(args.names) as f:
        names = [line.strip() for line in f if line.strip()]
    with open(args.client_secret_file) as f:
        client_secret = f.read().strip()

    credential = ClientSecretCredential(args.tenant, args.client_id, client_secret)
    secrets = SecretClient(vault_url=args.vault_url, credential=credential)
    kubernetes.config.load_kube_config(config_file=args.kubeconfig)
    core = kubernetes.client.CoreV1Api()

    counts = {"created": 0, "replaced": 0, "unchanged": 0, "failed": 0}
    errors = []
    for name in names:
        try:
            value = secrets.get_secret(name).value
            encoded = base64.b64encode(value.encode()).decode()
            try:
                existing = core.read_namespaced_secret(name, args.namespace)
            except ApiException as error:
                if error.status != 404:
                    raise
                existing = None
            if existing is None:
                body = kubernetes.client.V1Secret(metadata=kubernetes.client.V1ObjectMeta(name=name, namespace=args.namespace),
                                                  type="Opaque", data={args.key: encoded})
                core.create_namespaced_secret(args.namespace, body)
                counts["created"] += 1
            elif (existing.data or {}).get(args.key) != encoded:
                existing.data = {**(existing.data or {}), args.key: encoded}
                core.replace_namespaced_secret(name, args.namespace, existing)
                counts["replaced"] += 1
            else:
                counts["unchanged"] += 1
        except Exception as error:  # noqa: BLE001 - a sync script reports and carries on with the next name
            counts["failed"] += 1
            if len(errors) < 5:
                errors.append(f"{name}: {type(error).__name__}: {str(error)[:300]}")

    usage_self = resource.getrusage(resource.RUSAGE_SELF)
    usage_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(json.dumps({
        "names": len(names), **counts, "errors": errors,
        "wallSeconds": time.monotonic() - T0,
        "cpuSeconds": usage_self.ru_utime + usage_self.ru_stime + usage_children.ru_utime + usage_children.ru_stime,
        "maxRssKiB": max(usage_self.ru_maxrss, usage_children.ru_maxrss),
    }))
    return 0 if counts["failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

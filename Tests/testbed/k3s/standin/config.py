"""K3s' config files and command line (k3s-io/k3s pkg/configfilearg; see ../README.md "Config loading")."""

import os

import yaml  # python3-yaml (the host's /usr is the container's)

from .logs import fatal

# ---------------------------------------------------------------- YAML
# K3s reads its config files with go-yaml into a yaml.MapSlice (pkg/configfilearg/parser.go): full YAML 1.1
# (anchors, aliases, flow and block styles), top-level keys in document order, each value turned into a
# string or a list of strings (convert.ToString). PyYAML's composer gives the same node tree; scalars keep
# their text. Nested mappings are not K3s settings and are refused like K3s' flag parser would.


class YAMLError(Exception):
    pass


def _scalar_text(node):
    if node.tag == "tag:yaml.org,2002:null":
        return ""
    return node.value


def parse_yaml_map(text):
    """Returns a list of (key, value) in document order; value is str, list of str, or None."""
    try:
        docs = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except yaml.YAMLError as e:
        raise YAMLError(str(e).replace("\n", " "))
    docs = [d for d in docs if d is not None]
    if not docs:
        return []
    if len(docs) > 1:
        raise YAMLError("multiple YAML documents are not supported")
    root = docs[0]
    if not isinstance(root, yaml.MappingNode):
        raise YAMLError("expected a mapping of K3s settings at the top level")
    entries = []
    for knode, vnode in root.value:
        if not isinstance(knode, yaml.ScalarNode):
            raise YAMLError("line %d: keys must be strings" % (knode.start_mark.line + 1))
        if isinstance(vnode, yaml.ScalarNode):
            v = _scalar_text(vnode)
            entries.append((knode.value, None if vnode.tag == "tag:yaml.org,2002:null" else v))
        elif isinstance(vnode, yaml.SequenceNode):
            items = []
            for item in vnode.value:
                if not isinstance(item, yaml.ScalarNode):
                    raise YAMLError("line %d: list elements must be strings" % (item.start_mark.line + 1))
                items.append(_scalar_text(item))
            entries.append((knode.value, items))
        else:
            raise YAMLError("line %d: %s: nested mappings are not K3s settings" % (vnode.start_mark.line + 1, knode.value))
    return entries


def as_list(v):
    if v is None:
        return []
    if isinstance(v, list):
        return list(v)
    return [v]


def config_files(config_path):
    files = []
    if os.path.isfile(config_path):
        files.append(config_path)
    d = config_path + ".d"
    if os.path.isdir(d):
        names = sorted(os.listdir(d))
        for n in names:
            p = os.path.join(d, n)
            if os.path.isfile(p) and (n.lower().endswith(".yaml") or n.lower().endswith(".yml")):
                files.append(p)
    return files


def load_config(config_path):
    """K3s configfilearg semantics: later file replaces a key (lists too);
    `key+:` appends to the accumulated value. Returns (dict, files)."""
    merged = {}
    files = config_files(config_path)
    for f in files:
        try:
            with open(f, encoding="utf-8") as fh:
                entries = parse_yaml_map(fh.read())
        except (YAMLError, UnicodeDecodeError) as e:
            raise YAMLError("failed to parse %s: %s" % (f, e))
        for key, val in entries:
            append = key.endswith("+")
            k = key[:-1] if append else key
            if append and k in merged:
                merged[k] = as_list(merged[k]) + as_list(val)
            else:
                merged[k] = val
    return merged, files


def find_config_file(argv):
    """K3s' findConfigFileFlag (pkg/configfilearg/parser.go): a non-empty K3S_CONFIG_FILE first, even over the
    command line; else the first --config/-c (or --config=/-c=) argument; else the default."""
    if os.environ.get("K3S_CONFIG_FILE"):
        return os.environ["K3S_CONFIG_FILE"]
    for i, arg in enumerate(argv):
        for flag in ("--config", "-c"):
            if arg == flag and i + 1 < len(argv):
                return argv[i + 1]
            if arg.startswith(flag + "="):
                return arg[len(flag) + 1:]
    return "/etc/rancher/k3s/config.yaml"


def parse_cli(argv):
    """argv after 'server'. Returns dict of flag -> value or list (repeatable flags)."""
    repeatable = {"kube-apiserver-arg", "kube-controller-manager-arg", "kube-scheduler-arg",
                  "kubelet-arg", "kube-proxy-arg", "tls-san", "node-label", "node-taint",
                  "disable", "etcd-arg", "kube-cloud-controller-manager-arg"}
    out = {}
    i = 0
    while i < len(argv):
        a = argv[i]
        if not a.startswith("-"):
            fatal("Incorrect Usage: unexpected argument %r" % a)
        name = a.lstrip("-")
        if "=" in name:
            name, val = name.split("=", 1)
        elif i + 1 < len(argv) and not argv[i + 1].startswith("-"):
            val = argv[i + 1]
            i += 1
        else:
            val = "true"
        if name in repeatable:
            out.setdefault(name, []).append(val)
        else:
            out[name] = val
        i += 1
    return out

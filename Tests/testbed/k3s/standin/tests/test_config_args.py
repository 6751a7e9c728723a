"""K3s' config merge rules and kube-apiserver argument handling (see ../README.md for the sources)."""
import pytest

from standin import apiserver_args as aa
from standin import config


def write(p, text):
    p.write_text(text)
    return str(p)


def test_drop_ins_replace_and_append(tmp_path):
    cfg = write(tmp_path / "config.yaml", "kube-apiserver-arg:\n- a=1\nwrite-kubeconfig-mode: '0644'\n")
    (tmp_path / "config.yaml.d").mkdir()
    write(tmp_path / "config.yaml.d" / "10-x.yaml", "kube-apiserver-arg+:\n- b=2\n")
    write(tmp_path / "config.yaml.d" / "20-y.YML", "write-kubeconfig-mode: '0600'\n")
    eff, files = config.load_config(cfg)
    assert eff["kube-apiserver-arg"] == ["a=1", "b=2"]
    assert eff["write-kubeconfig-mode"] == "0600"
    assert [f.rsplit("/", 1)[1] for f in files] == ["config.yaml", "10-x.yaml", "20-y.YML"]


def test_malformed_yaml_names_the_file(tmp_path):
    cfg = write(tmp_path / "config.yaml", "a: [\n")
    with pytest.raises(config.YAMLError, match="config.yaml"):
        config.load_config(cfg)


def test_user_args_replace_defaults_and_plus_appends():
    base = aa.default_apiserver_args("/var/lib/rancher/k3s", "cluster.local", 6443, "127.0.0.1")
    args = aa.get_args(base, ["service-account-issuer+=https://x.example/"])
    assert [v for k, v in args if k == "service-account-issuer"] == [
        "https://kubernetes.default.svc.cluster.local", "https://x.example/"]
    args = aa.get_args(base, ["--service-account-issuer=https://x.example/"])
    assert [v for k, v in args if k == "service-account-issuer"] == ["https://x.example/"]


def test_unknown_flags_and_bad_values_are_refused():
    base = aa.default_apiserver_args("/d", "cluster.local", 6443, "127.0.0.1")
    assert any("unknown flag: --no-such-flag" in e for e in aa.validate_apiserver_args(aa.get_args(base, ["no-such-flag=1"])))
    errs = aa.validate_apiserver_args(aa.get_args(base, ["service-account-max-token-expiration=30m"]))
    assert any("should not be less than 1h0m0s" in e for e in errs)
    assert aa.validate_apiserver_args(aa.get_args(base, [])) == []


def test_an_audit_policy_file_must_load(tmp_path):
    base = aa.default_apiserver_args("/d", "cluster.local", 6443, "127.0.0.1")
    good, bad, absent = tmp_path / "good.yaml", tmp_path / "bad.yaml", tmp_path / "absent.yaml"
    good.write_text("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Metadata\n")
    bad.write_text("rules: [not a policy\n")
    assert aa.validate_apiserver_args(aa.get_args(base, ["audit-policy-file=%s" % good])) == []
    errs = aa.validate_apiserver_args(aa.get_args(base, ["audit-policy-file=%s" % bad]))
    assert errs and errs[0].startswith("loading audit policy file: failed decoding")
    errs = aa.validate_apiserver_args(aa.get_args(base, ["audit-policy-file=%s" % absent]))
    assert errs == ['loading audit policy file: failed to read file path "%s": open %s: no such file or directory'
                    % (absent, absent)]


def test_go_durations():
    assert aa.parse_go_duration("1h30m") == 5400
    assert aa.go_duration_str(5400) == "1h30m0s"
    with pytest.raises(ValueError):
        aa.parse_go_duration("5 minutes")


def test_config_file_env_first_then_first_flag(monkeypatch):
    # k3s pkg/configfilearg/parser.go findConfigFileFlag: K3S_CONFIG_FILE before the command line.
    monkeypatch.delenv("K3S_CONFIG_FILE", raising=False)
    assert config.find_config_file([]) == "/etc/rancher/k3s/config.yaml"
    assert config.find_config_file(["-c", "/a.yaml", "--config", "/b.yaml"]) == "/a.yaml"
    assert config.find_config_file(["--config=/b.yaml"]) == "/b.yaml"
    monkeypatch.setenv("K3S_CONFIG_FILE", "/env.yaml")
    assert config.find_config_file(["--config", "/b.yaml"]) == "/env.yaml"
    monkeypatch.setenv("K3S_CONFIG_FILE", "")
    assert config.find_config_file(["--config", "/b.yaml"]) == "/b.yaml"

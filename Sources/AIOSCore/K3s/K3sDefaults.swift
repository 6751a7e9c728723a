/// Where K3s lives on a host installed with K3s' own installer.
public enum K3sDefaults {
    public static let unit = "k3s.service"
    /// systemd never times out K3s' start (TimeoutStartSec=0); aiosd gives up waiting after this.
    public static let restartTimeout: Duration = .seconds(300)
}

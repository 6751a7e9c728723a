/// Default paths and names shared by aiosd and aiosctl.
public enum Defaults {
    public static let socketPath = "/run/aiosd/aiosd.sock"
    public static let configPath = "/etc/aios/aiosd.yaml"
    public static let stateDirectory = "/var/lib/aiosd"
    public static let socketGroup = "aios"
    public static let adminGroup = "aios"
    /// Environment variable naming the socket for aiosctl.
    public static let socketEnvironmentVariable = "AIOSCTL_SOCKET"
    /// The Host header the client sends; the server ignores it but HTTP/1.1 requires one.
    public static let hostHeader = "aiosd"
}
